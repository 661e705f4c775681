import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  currentNonce,
  familyEpoch,
  familyNonce,
  NONCE_PERIOD_SECONDS,
  nonceIsFresh,
} from "../../src/dpop/nonce";

/**
 * Server nonces (RFC 9449 §8) and the family nonces a refresh hands on: a
 * family nonce is as fresh as the server nonce it starts with, names its
 * family and epoch, and cannot be moved to another family or epoch.
 */

const now = () => Math.floor(Date.now() / 1000);
const familyA = env.TOKEN_FAMILY.newUniqueId().toString();
const familyB = env.TOKEN_FAMILY.newUniqueId().toString();
/** RFC 9449 §8.1: nonce = 1*NQCHAR (%x21 / %x23-5B / %x5D-7E). */
const NQCHARS = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

describe("family nonces", () => {
  it("start with the server's nonce, are NQCHARs, and are fresh wherever a nonce is checked", async () => {
    const t = now();
    const nonce = await familyNonce(env, familyA, 3, t);
    expect(nonce.startsWith(`${await currentNonce(env, t)}.3.`)).toBe(true);
    expect(nonce).toMatch(NQCHARS);
    expect(await nonceIsFresh(env, nonce, t)).toBe(true);
    expect(await nonceIsFresh(env, nonce, t + NONCE_PERIOD_SECONDS)).toBe(true);
    expect(await nonceIsFresh(env, nonce, t + 2 * NONCE_PERIOD_SECONDS)).toBe(false);
  });

  it("name their own family's epoch; for another family, or with anything changed, they are 'other'", async () => {
    const nonce = await familyNonce(env, familyA, 7, now());
    expect(await familyEpoch(env, nonce, familyA)).toBe(7);
    expect(await familyEpoch(env, nonce, familyB)).toBe("other");
    const [period, serverMac, , mac] = nonce.split(".");
    expect(await familyEpoch(env, `${period}.${serverMac}.8.${mac}`, familyA)).toBe("other");
    const later = await familyNonce(env, familyA, 7, now() + NONCE_PERIOD_SECONDS);
    const [laterPeriod, laterMac] = later.split(".");
    expect(await familyEpoch(env, `${laterPeriod}.${laterMac}.7.${mac}`, familyA)).toBe("other");
  });

  it("a server nonce names no family, and a malformed one is neither fresh nor a family's", async () => {
    const server = await currentNonce(env, now());
    expect(await familyEpoch(env, server, familyA)).toBeUndefined();
    for (const bad of [`${server}.1`, `${server}.x.${"A".repeat(22)}`, `${server}..`, "1.2.3.4"]) {
      expect(await nonceIsFresh(env, bad, now())).toBe(false);
      expect(await familyEpoch(env, bad, familyA)).toBeUndefined();
    }
  });
});
