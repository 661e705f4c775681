import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  currentNonce,
  familyNonce,
  familyOfNonce,
  NONCE_PERIOD_SECONDS,
  nonceIsFresh,
} from "../../src/dpop/nonce";

/**
 * Server nonces (RFC 9449 §8) and the family nonces a refresh hands on: a
 * family nonce is as fresh as the server nonce it starts with, names its
 * family and epoch, and anyone who checks it can tell it was made here: no
 * part of it can be changed.
 */

const now = () => Math.floor(Date.now() / 1000);
const familyA = env.TOKEN_FAMILY.newUniqueId().toString();
const familyB = env.TOKEN_FAMILY.newUniqueId().toString();
/** RFC 9449 §8.1: nonce = 1*NQCHAR (%x21 / %x23-5B / %x5D-7E). */
const NQCHARS = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

describe("family nonces", () => {
  it("start with the server's nonce, are NQCHARs, and are fresh as long as it is", async () => {
    const t = now();
    const nonce = await familyNonce(env, familyA, 3, t);
    expect(nonce.startsWith(`${await currentNonce(env, t)}.3.${familyA}.`)).toBe(true);
    expect(nonce).toMatch(NQCHARS);
    expect(await nonceIsFresh(env, nonce, t)).toBe(true);
    expect(await nonceIsFresh(env, nonce, t + NONCE_PERIOD_SECONDS)).toBe(true);
    expect(await nonceIsFresh(env, nonce, t + 2 * NONCE_PERIOD_SECONDS)).toBe(false);
    expect(familyOfNonce(nonce)).toEqual({ familyId: familyA, epoch: 3 });
  });

  it("are not fresh with any part changed: epoch (or its spelling), family, MAC, or the server nonce under them", async () => {
    const t = now();
    const nonce = await familyNonce(env, familyA, 7, t);
    const [period, serverMac, epoch, family, mac] = nonce.split(".");
    const later = await currentNonce(env, t + NONCE_PERIOD_SECONDS);
    for (const forged of [
      `${period}.${serverMac}.8.${family}.${mac}`,
      `${period}.${serverMac}.07.${family}.${mac}`,
      `${period}.${serverMac}.${epoch}.${familyB}.${mac}`,
      `${period}.${serverMac}.${epoch}.${family}.${"A".repeat(22)}`,
      `${later}.${epoch}.${family}.${mac}`,
      `${nonce}.1`,
    ]) {
      expect(await nonceIsFresh(env, forged, t + NONCE_PERIOD_SECONDS), forged).toBe(false);
    }
  });

  it("a server nonce names no family, and a malformed nonce is not fresh", async () => {
    const server = await currentNonce(env, now());
    expect(familyOfNonce(server)).toBeUndefined();
    expect(await nonceIsFresh(env, server, now())).toBe(true);
    for (const bad of [
      `${server}.1`,
      `${server}.x.${familyA}.${"A".repeat(22)}`,
      `0${server}`,
      "1.2.3.4.5",
    ]) {
      expect(await nonceIsFresh(env, bad, now()), bad).toBe(false);
    }
  });
});
