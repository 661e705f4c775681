import { toBase64Url, utf8 } from "../lib/bytes";
import { serverKeys } from "../server-keys";

/**
 * Server-provided DPoP nonces (RFC 9449 §8, §9). A nonce is the number of a
 * period and an HMAC of it under a key derived from SERVER_SECRET, so every
 * isolate makes and checks the same nonces with no shared state, and a proof
 * carrying one cannot have been made before that period began (§11.1: "a
 * server managed timestamp via the nonce claim"). Nonces rotate every period;
 * the current and the previous one are accepted, so a client that just
 * learned a nonce never sees it refused at once.
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

/** Whether a proof's nonce is this period's or the previous one's. */
export async function nonceIsFresh(env: Env, nonce: string, nowSeconds: number): Promise<boolean> {
  const current = periodOf(nowSeconds);
  const period = Number(nonce.slice(0, nonce.indexOf(".")));
  if (period !== current && period !== current - 1) return false;
  return nonce === (await nonceFor(env, period));
}
