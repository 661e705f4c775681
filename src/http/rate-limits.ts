import type { Context } from "hono";
import { OAuthError } from "../errors";
import { cachePerBinding } from "../lib/isolate-cache";

/**
 * Rate limits per client address, with the Workers Rate Limiting binding,
 * checked before any Durable Object or password hash is touched (README,
 * "Rate limits"). The numbers are the bindings' own (wrangler.toml); the
 * RATE_LIMITS var turns them off for a local load test or conformance run.
 */

// biome-ignore lint/suspicious/noExplicitAny: any surface's context has env and config.
export type AnyContext = Context<{ Bindings: Env; Variables: any }>;

/**
 * The client's address as Cloudflare's edge reports it, and what the limits
 * count it as: an IPv6 address by its /64 (one host may use every address of
 * its subnet), an IPv4 address as it is. Requests without one share a bucket.
 */
export function clientAddress(request: Request): string {
  const address = request.headers.get("cf-connecting-ip") ?? "unknown";
  if (!address.includes(":") || address.includes(".")) return address;
  const groups = ipv6Groups(address);
  return groups ? `${groups.slice(0, 4).join(":")}::/64` : address;
}

/** The eight groups of an IPv6 address, "::" expanded, or undefined. */
function ipv6Groups(address: string): string[] | undefined {
  const halves = address.toLowerCase().split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const tail = halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...Array<string>(missing).fill("0"), ...tail] : undefined;
}

const enabled = (c: AnyContext): boolean => c.get("config").rateLimits === true;

/**
 * Both limits count failures only: the Rate Limiting binding has no way to
 * look without counting (each `limit()` call is one more), so an attempt is
 * first checked against the addresses this isolate saw go over (a memory
 * read, before anything is touched); only a failure is then counted; the
 * failure that goes over the limit is answered 429, and this isolate refuses
 * the address for the rest of the minute before touching anything. Other
 * isolates refuse it from its next failure there on.
 */
const blocked = cachePerBinding<true>(10_000);
const BLOCK_MS = 60_000;

const isBlocked = (c: AnyContext, limiter: RateLimit): boolean =>
  enabled(c) && blocked(limiter).get(clientAddress(c.req.raw)) === true;

/** Counts one failure; true when the address is now over the limit. */
async function noteFailure(c: AnyContext, limiter: RateLimit): Promise<boolean> {
  if (!enabled(c)) return false;
  const address = clientAddress(c.req.raw);
  const { success } = await limiter.limit({ key: address });
  if (success) return false;
  blocked(limiter).set(address, true, Date.now() + BLOCK_MS);
  return true;
}

/**
 * Sign-in attempts from one address that may run at once in an isolate. An
 * attempt's outcome is unknown until its password hash is done, so a burst
 * sent at once would otherwise all reach a hash before its first failure is
 * counted; the rest of the burst is refused up front, like an address over
 * its limit. (As many as the limit's failures a minute: a sign-in takes tens
 * of milliseconds, so honest sign-ins from one address rarely overlap.)
 */
const SIGN_INS_AT_ONCE = 10;
/**
 * User codes typed from one address that may be looked up at once in an
 * isolate: a person types one at a time, and each lookup's failure is counted
 * only once it is done, so a wider window would let a burst of guesses past
 * the per-minute count (README, "Guessing user codes").
 */
const AT_ONCE: Record<AttemptLimiter, number> = {
  SIGN_IN_LIMITER: SIGN_INS_AT_ONCE,
  DEVICE_CODE_LIMITER: 1,
};
/** Attempts running per limiter and address (`<limiter>:<address>`). */
const running = new Map<string, number>();

/** The limits that count failed attempts of a person at a page: sign-ins, and user codes typed (RFC 8628 §5.1). */
export type AttemptLimiter = "SIGN_IN_LIMITER" | "DEVICE_CODE_LIMITER";

export type LimitedSignIn<T> =
  | { refused: true }
  | {
      refused: false;
      result: T /** This failure took the address over its limit. */;
      overLimit: boolean;
    };

/**
 * One sign-in attempt under its address's limit (README, "Rate limits"):
 * refused before `attempt` touches any object or hash when the address is
 * over its limit in this isolate or has too many attempts running; otherwise
 * run, and counted only if it did not succeed (a wrong password, an unknown
 * name, a locked name, a blocked account, or an error: its outcome unknown).
 * A successful sign-in is never counted.
 */
export const limitedSignIn = <T>(
  c: AnyContext,
  attempt: () => Promise<T>,
  succeeded: (result: T) => boolean,
): Promise<LimitedSignIn<T>> => limitedAttempt(c, "SIGN_IN_LIMITER", attempt, succeeded);

/** The same rule under another failure-counting limit (a user code entered at /device). */
export async function limitedAttempt<T>(
  c: AnyContext,
  name: AttemptLimiter,
  attempt: () => Promise<T>,
  succeeded: (result: T) => boolean,
): Promise<LimitedSignIn<T>> {
  if (!enabled(c)) return { refused: false, result: await attempt(), overLimit: false };
  const limiter = c.env[name];
  const key = `${name}:${clientAddress(c.req.raw)}`;
  const now = running.get(key) ?? 0;
  if (isBlocked(c, limiter) || now >= AT_ONCE[name]) return { refused: true };
  running.set(key, now + 1);
  let result: T;
  try {
    result = await attempt();
  } catch (error) {
    await noteFailure(c, limiter);
    throw error;
  } finally {
    const left = (running.get(key) ?? 1) - 1;
    if (left > 0) running.set(key, left);
    else running.delete(key);
  }
  const overLimit = !succeeded(result) && (await noteFailure(c, limiter));
  return { refused: false, result, overLimit };
}

export const tooManyFailures = () =>
  new OAuthError(
    "invalid_request",
    "Too many failed client authentications from this address; retry in a minute.",
    { status: 429, headers: { "Retry-After": "60" } },
  );

/**
 * Failed client authentications at /token, /revoke and /introspect are
 * counted, successful ones never: a busy, well-behaved client is not slowed
 * down. An address over the limit is refused before authenticating.
 */
export const clientAuthBlocked = (c: AnyContext): boolean =>
  isBlocked(c, c.env.CLIENT_AUTH_LIMITER);

/** Counts a failed client authentication; true when the address is now over the limit. */
export const noteClientAuthFailure = (c: AnyContext): Promise<boolean> =>
  noteFailure(c, c.env.CLIENT_AUTH_LIMITER);

export const tooManyRegistrations = () =>
  new OAuthError(
    "invalid_request",
    "Too many client registrations from this address; retry in a minute.",
    { status: 429, headers: { "Retry-After": "60" } },
  );

/**
 * Every registration attempt at /register counts, successful or not (unlike
 * the failure-only limits above): each success writes a client to KV, and
 * that write is what the limit protects. Checked first, before the initial
 * access token, the body or any write. True when the attempt may go on.
 */
export async function registrationAllowed(c: AnyContext): Promise<boolean> {
  if (!enabled(c)) return true;
  const limiter = c.env.REGISTRATION_LIMITER;
  const address = clientAddress(c.req.raw);
  if (blocked(limiter).get(address) === true) return false;
  const { success } = await limiter.limit({ key: address });
  if (!success) blocked(limiter).set(address, true, Date.now() + BLOCK_MS);
  return success;
}
