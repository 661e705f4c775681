import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { KEY_RETENTION_SECONDS, type SigningKeys } from "../../src/tokens/signing-keys";
import { clientCredentialsGrant, introspect } from "../support/fixtures";
import { adminCall, call, ISSUER, json } from "../support/http";

/**
 * A SigningKeys object of its own for the schedule test, which drives the
 * object directly and rewrites its history: the Worker's keys ("signing-keys",
 * cached per isolate by src/tokens/keyring.ts) are left as the other tests see
 * them, so nothing needs to tell the Worker's cache that they changed.
 */
const keys = () => env.SIGNING_KEYS.getByName("signing-keys-schedule-test");
const jwks = async () => json<JSONWebKeySet>(await call("/jwks"));

async function clientCredentialsToken() {
  const { client, accessToken } = await clientCredentialsGrant();
  return { client, token: accessToken };
}

// Storage is shared by the tests of one file, so each test reasons from what it finds.
describe("signing keys", () => {
  it("come into being by themselves: an ES256 key with a kid, published in the JWKS", async () => {
    const set = await jwks();
    expect(set.keys.length).toBeGreaterThanOrEqual(1);
    expect(set.keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    const { token } = await clientCredentialsToken();
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: "ES256", typ: "at+jwt" });
    expect(set.keys.map((k) => k.kid)).toContain(decodeProtectedHeader(token).kid);
    await jwtVerify(token, createLocalJWKSet(set), { issuer: ISSUER });
  });

  it("rotate without breaking a token in flight: the old key stays published and the old token stays valid", async () => {
    const { token, client } = await clientCredentialsToken();
    const oldKid = decodeProtectedHeader(token).kid;

    const rotated = await adminCall("POST", "/admin/keys/rotate");
    expect(rotated.status).toBe(200);
    const { kid: newKid } = await json<{ kid: string }>(rotated);
    expect(newKid).not.toBe(oldKid);

    const set = await jwks();
    expect(set.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
    await jwtVerify(token, createLocalJWKSet(set), { issuer: ISSUER }); // the token in flight
    expect(await introspect(client, token)).toMatchObject({ active: true });

    const { token: fresh } = await clientCredentialsToken();
    expect(decodeProtectedHeader(fresh).kid).toBe(newKid);
  });

  it("publish the next key ahead of its use, and drop a key only once no token signed with it can live", async () => {
    const policy = { rotationSeconds: 10 };
    const first = await keys().rotateNow(policy); // a fresh, lone active key
    const before = first.published.length;
    // Age the active key so that the schedule calls for its successor.
    await runInDurableObject(keys(), (_instance: SigningKeys, state) => {
      const stored =
        state.storage.kv.get<{ activatesAt: number; createdAt: number }[]>("keys") ?? [];
      state.storage.kv.put(
        "keys",
        stored.map((k) => ({ ...k, activatesAt: k.activatesAt - 8, createdAt: k.createdAt - 8 })),
      );
    });
    const second = await keys().keySet(policy);
    expect(second.published).toHaveLength(before + 1); // the next key is published...
    expect(second.active.kid).toBe(first.active.kid); // ...before it signs anything

    // Push history back: the new key activated long ago, and the first key's tokens are all long expired.
    await runInDurableObject(keys(), (_instance: SigningKeys, state) => {
      const stored = state.storage.kv.get<{ kid: string; activatesAt: number }[]>("keys") ?? [];
      const shift = KEY_RETENTION_SECONDS + 60;
      state.storage.kv.put(
        "keys",
        stored.map((k) => ({ ...k, activatesAt: k.activatesAt - shift })),
      );
    });
    const third = await keys().keySet({ rotationSeconds: 10 * 86_400 });
    expect(third.active.kid).not.toBe(first.active.kid);
    expect(third.published.map((k) => k.kid)).not.toContain(first.active.kid);
  });

  it("never publish private key material", async () => {
    for (const key of (await jwks()).keys) {
      for (const member of ["d", "p", "q", "dp", "dq", "qi", "k"])
        expect(key).not.toHaveProperty(member);
    }
  });
});
