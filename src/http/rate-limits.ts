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
type AnyContext = Context<{ Bindings: Env; Variables: any }>;

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

/** One sign-in attempt from this address: false once the address has used up its minute. */
export async function signInAllowed(c: AnyContext): Promise<boolean> {
  if (!enabled(c)) return true;
  const { success } = await c.env.SIGN_IN_LIMITER.limit({ key: clientAddress(c.req.raw) });
  return success;
}

/** Addresses this isolate saw exceed the failed-authentication limit, until their minute is over. */
const blocked = cachePerBinding<true>(10_000);
const BLOCK_MS = 60_000;

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
export function clientAuthBlocked(c: AnyContext): boolean {
  return enabled(c) && blocked(c.env.CLIENT_AUTH_LIMITER).get(clientAddress(c.req.raw)) === true;
}

/** Counts a failed client authentication; true when the address is now over the limit. */
export async function noteClientAuthFailure(c: AnyContext): Promise<boolean> {
  if (!enabled(c)) return false;
  const address = clientAddress(c.req.raw);
  const { success } = await c.env.CLIENT_AUTH_LIMITER.limit({ key: address });
  if (success) return false;
  blocked(c.env.CLIENT_AUTH_LIMITER).set(address, true, Date.now() + BLOCK_MS);
  return true;
}
