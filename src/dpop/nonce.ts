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
 * A refresh's answer hands on a *family nonce* instead: the server's nonce,
 * then a replay epoch of that grant's family, the family's id and an HMAC
 * over the three (`<period>.<mac>.<epoch>.<family id>.<mac>`), so that
 * whoever checks a nonce can tell it was made here without knowing which
 * family to expect. It is as fresh as the server nonce it starts with; at
 * the token endpoint it also says which family records the proof's `jti`
 * (./replay.ts). RFC 9449 §8 leaves a nonce's content to the server: "The
 * nonce is opaque to the client."
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

/**
 * A server nonce, optionally followed by a family's epoch, id and MAC. No
 * leading zeros: each number has one spelling, the one that was MACed.
 */
const NONCE_SHAPE =
  /^([1-9]\d{0,11})\.([\w-]{22})(?:\.(0|[1-9]\d{0,8})\.([0-9a-f]{64})\.([\w-]{22}))?$/;

/**
 * Whether a proof's nonce was made here this period or the previous one: a
 * server nonce, or a family nonce whose MAC holds.
 */
export async function nonceIsFresh(env: Env, nonce: string, nowSeconds: number): Promise<boolean> {
  const match = NONCE_SHAPE.exec(nonce);
  if (!match) return false;
  const current = periodOf(nowSeconds);
  const period = Number(match[1]);
  if (period !== current && period !== current - 1) return false;
  const server = `${match[1]}.${match[2]}`;
  if (server !== (await nonceFor(env, period))) return false;
  const [, , , epoch, familyId, mac] = match;
  if (epoch === undefined || familyId === undefined || mac === undefined) return true;
  return timingSafeEqual(utf8(await familyMac(env, server, familyId, epoch)), utf8(mac));
}

/**
 * The family and epoch a nonce names, if it is a family nonce. Read only:
 * the nonce must have passed `nonceIsFresh` (every proof's has, ./check.ts).
 */
export function familyOfNonce(nonce: string): { familyId: string; epoch: number } | undefined {
  const match = NONCE_SHAPE.exec(nonce);
  if (!match?.[3] || !match[4]) return undefined;
  return { familyId: match[4], epoch: Number(match[3]) };
}

/**
 * The MAC that ties a server nonce and an epoch to one family. The input
 * starts with "family:", so it is never a period's (digits only) under the same key.
 */
async function familyMac(env: Env, server: string, familyId: string, epoch: string) {
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
  const mac = await familyMac(env, server, familyId, `${epoch}`);
  return `${server}.${epoch}.${familyId}.${mac}`;
}

/** Whether `nonce` starts with the server nonce of now (as `familyNonce` would make it). */
export async function startsWithCurrentNonce(env: Env, nonce: string, nowSeconds: number) {
  return nonce.startsWith(`${await currentNonce(env, nowSeconds)}.`);
}
