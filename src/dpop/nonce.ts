import { timingSafeEqual, toBase64Url, utf8 } from "../lib/bytes";
import { serverKeys } from "../server-keys";

/**
 * Server-provided DPoP nonces (RFC 9449 §8, §9). A nonce is the number of a
 * period and an HMAC of it under a key derived from SERVER_SECRET, so every
 * isolate makes and checks the same nonces with no shared state, and a proof
 * carrying one cannot have been made before that period began (§11.1: "a
 * server managed timestamp via the nonce claim"). Nonces rotate every period;
 * the current and the previous one are accepted, so a client that just
 * learned a nonce never sees it refused at once.
 *
 * A refresh's answer hands on a *family nonce* instead: the server's nonce
 * followed by a replay epoch of that grant's family and an HMAC over the
 * three and the family's id (`<period>.<mac>.<epoch>.<mac>`). Anywhere a
 * nonce is checked for freshness it counts as the server's nonce it starts
 * with; at the token endpoint it also says which family records the proof's
 * `jti` (./check.ts, `claimProof`): RFC 9449 §8 leaves the nonce's content
 * to the server ("opaque to the client").
 */

export const NONCE_PERIOD_SECONDS = 300;

/** Computed nonces by period, in this isolate (two periods are ever asked for). */
const computed = new Map<number, Promise<string>>();

async function nonceFor(env: Env, period: number): Promise<string> {
  let nonce = computed.get(period);
  if (!nonce) {
    nonce = (async () => {
      const key = (await serverKeys(env)).dpopNonce;
      const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8(`${period}`)));
      // RFC 9449 §8.1: nonce = 1*NQCHAR; digits, "." and base64url are all NQCHAR.
      return `${period}.${toBase64Url(mac.subarray(0, 16))}`;
    })();
    if (computed.size >= 4) computed.clear();
    computed.set(period, nonce);
  }
  return nonce;
}

const periodOf = (nowSeconds: number) => Math.floor(nowSeconds / NONCE_PERIOD_SECONDS);

/** The nonce clients should use now (sent as `DPoP-Nonce`). */
export function currentNonce(env: Env, nowSeconds: number): Promise<string> {
  return nonceFor(env, periodOf(nowSeconds));
}

/** A server nonce, optionally followed by a family's epoch and MAC. */
const NONCE_SHAPE = /^(\d{1,12})\.([\w-]{22})(?:\.(\d{1,9})\.([\w-]{22}))?$/;

/** Whether a proof's nonce (a family nonce included) is this period's or the previous one's. */
export async function nonceIsFresh(env: Env, nonce: string, nowSeconds: number): Promise<boolean> {
  const match = NONCE_SHAPE.exec(nonce);
  if (!match) return false;
  const current = periodOf(nowSeconds);
  const period = Number(match[1]);
  if (period !== current && period !== current - 1) return false;
  return `${match[1]}.${match[2]}` === (await nonceFor(env, period));
}

/** The family part of a nonce, if it has one (its MAC not checked: `familyEpoch` does). */
export function familyPart(
  nonce: string,
): { server: string; epoch: number; mac: string } | undefined {
  const match = NONCE_SHAPE.exec(nonce);
  if (!match?.[3] || !match[4]) return undefined;
  return { server: `${match[1]}.${match[2]}`, epoch: Number(match[3]), mac: match[4] };
}

/**
 * The MAC that ties a server nonce and an epoch to one family. The input
 * starts with "family:", so it is never a period's (digits only) under the same key.
 */
async function familyMac(env: Env, server: string, familyId: string, epoch: number) {
  const key = (await serverKeys(env)).dpopNonce;
  const input = utf8(`family:${server}:${familyId}:${epoch}`);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, input));
  return toBase64Url(mac.subarray(0, 16));
}

/** The nonce a refresh of `familyId` hands on: the current server nonce, for that family's epoch. */
export async function familyNonce(
  env: Env,
  familyId: string,
  epoch: number,
  nowSeconds: number,
): Promise<string> {
  const server = await currentNonce(env, nowSeconds);
  return `${server}.${epoch}.${await familyMac(env, server, familyId, epoch)}`;
}

/**
 * The epoch a nonce names, if it is a family nonce made for `familyId`;
 * undefined for a server nonce; "other" for a family nonce of another
 * family (or a forged one). Freshness is `nonceIsFresh`'s.
 */
export async function familyEpoch(
  env: Env,
  nonce: string,
  familyId: string,
): Promise<number | "other" | undefined> {
  const part = familyPart(nonce);
  if (!part) return undefined;
  const expected = await familyMac(env, part.server, familyId, part.epoch);
  return timingSafeEqual(utf8(expected), utf8(part.mac)) ? part.epoch : "other";
}
