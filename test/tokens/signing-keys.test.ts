import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { KEY_RETENTION_SECONDS, type SigningKeys } from "../../src/tokens/signing-keys";
import { clientCredentialsGrant, introspect } from "../support/fixtures";
import { adminCall, call, ISSUER, json } from "../support/http";
import { capturingLogs } from "../support/security";

/** A KV namespace that refuses writes (an outage), reads passing through. */
function unwritableKv(base: KVNamespace): KVNamespace {
  return new Proxy(base, {
    get(target, prop) {
      if (prop === "put" || prop === "delete")
        return () => Promise.reject(new Error("KV is unavailable (injected by the test)"));
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

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
    const first = await keys().rotateNow(policy, "test:rotate");
    const es256 = (published: { kid?: string; alg?: string }[]) =>
      published.filter((k) => k.alg === "ES256").map((k) => k.kid);
    // From the moment a key signs, the next one of its line is already published.
    const line = es256(first.published);
    expect(line.at(-1)).not.toBe(first.active.ES256.kid);
    const nextKid = line.at(-1) as string;

    // Push history back: the next key's time came long ago, and the first key's tokens are all long expired.
    await runInDurableObject(keys(), (_instance: SigningKeys, state) => {
      const stored = state.storage.kv.get<{ kid: string; activatesAt: number }[]>("keys") ?? [];
      const shift = KEY_RETENTION_SECONDS + 60;
      state.storage.kv.put(
        "keys",
        stored.map((k) => ({ ...k, activatesAt: k.activatesAt - shift })),
      );
    });
    const later = await keys().keySet({ rotationSeconds: 10 * 86_400 }, "test:later");
    expect(later.active.ES256.kid).toBe(nextKid); // the key published ahead is the one that signs
    expect(later.published.map((k) => k.kid)).not.toContain(first.active.ES256.kid);
    expect(es256(later.published).at(-1)).not.toBe(nextKid); // and it has a successor in turn
  });

  it("rotate after a suspected compromise with a key the JWKS already published", async () => {
    const before = await jwks();
    const rotated = await json<{ kid: string }>(await adminCall("POST", "/admin/keys/rotate"));
    expect(before.keys.map((k) => k.kid)).toContain(rotated.kid);
  });

  it("revoke a key: out of the JWKS and of verification at once; if it was signing, the next key takes over", async () => {
    const { token, client } = await clientCredentialsToken();
    const kid = decodeProtectedHeader(token).kid as string;
    const res = await adminCall("POST", `/admin/keys/${kid}/revoke`);
    expect(res.status).toBe(200);
    const after = await json<{ kid: string; published: string[] }>(res);
    expect(after.kid).not.toBe(kid);
    expect(after.published).not.toContain(kid);
    expect((await jwks()).keys.map((k) => k.kid)).not.toContain(kid);
    expect(await introspect(client, token)).toEqual({ active: false });
    const { token: fresh } = await clientCredentialsToken();
    expect(decodeProtectedHeader(fresh).kid).toBe(after.kid);
    expect((await adminCall("POST", `/admin/keys/${kid}/revoke`)).status).toBe(404);
  });

  it("list every key with its state: next, current, retiring after a rotation, revoked after a revocation", async () => {
    type Listed = {
      kid: string;
      alg: string | null;
      state: string;
      activates_at: number;
      published_until: number | null;
    };
    const list = async () =>
      (await json<{ keys: Listed[] }>(await adminCall("GET", "/admin/keys"))).keys;
    const before = await list();
    const current = before.find((k) => k.alg === "ES256" && k.state === "current") as Listed;
    const next = before.find((k) => k.alg === "ES256" && k.state === "next") as Listed;
    // Published until the tokens it signs before its successor takes over have all expired.
    expect(current.published_until).toBeGreaterThan(next.activates_at);
    expect(next.published_until).toBeNull();
    expect(before.find((k) => k.alg === "RS256" && k.state === "current")).toBeDefined();

    await adminCall("POST", "/admin/keys/rotate");
    const rotated = await list();
    const byKid = (kid: string) => rotated.find((k) => k.kid === kid);
    expect(byKid(current.kid)).toMatchObject({ state: "retiring" });
    expect(byKid(current.kid)?.published_until).toBeGreaterThan(Date.now() / 1000);
    expect(byKid(next.kid)).toMatchObject({ state: "current" });

    expect((await adminCall("POST", `/admin/keys/${current.kid}/revoke`)).status).toBe(200);
    const revoked = (await list()).filter((k) => k.kid === current.kid);
    expect(revoked).toEqual([expect.objectContaining({ state: "revoked", alg: null })]);
    expect(JSON.stringify(await list())).not.toMatch(/"d"|sealed/);
  });

  it("keep private keys wrapped at rest: nothing in storage is a private JWK", async () => {
    await jwks();
    const stored = await runInDurableObject(
      env.SIGNING_KEYS.getByName("signing-keys"),
      (_instance: SigningKeys, state) => JSON.stringify([...state.storage.kv.list()]),
    );
    expect(stored).not.toMatch(/"d":/);
    expect(stored).toContain("sealedPrivate");
  });

  it("never publish private key material", async () => {
    for (const key of (await jwks()).keys) {
      for (const member of ["d", "p", "q", "dp", "dq", "qi", "k"])
        expect(key).not.toHaveProperty(member);
    }
  });
});

describe("a signing key's revocation, published for the other isolates", () => {
  it("is written to the KV list of revoked kids, and a write that fails is retried by the object's alarm", async () => {
    const object = () => env.SIGNING_KEYS.getByName("signing-keys-publish-test");
    const policy = { rotationSeconds: 30 * 86_400 };
    const listed = async () =>
      ((await env.REVOCATIONS.get<{ kids: string[] }>("signing-keys:revoked", "json"))?.kids ??
        []) as string[];
    const first = (await object().keySet(policy, "test")).active.ES256.kid;
    expect(await object().revoke(first, policy, "test")).toBe(true);
    expect(await listed()).toContain(first);

    // KV refuses the next write: the revocation stands in the object, and the alarm publishes it.
    await runInDurableObject(object(), (instance: SigningKeys) => {
      const self = instance as unknown as { env: Env };
      self.env = { ...self.env, REVOCATIONS: unwritableKv(self.env.REVOCATIONS) };
    });
    const second = (await object().keySet(policy, "test")).active.ES256.kid;
    const { result } = await capturingLogs(() => object().revoke(second, policy, "test"));
    expect(result).toBe(true);
    expect(await listed()).not.toContain(second);
    expect((await object().keySet(policy, "test")).published.map((k) => k.kid)).not.toContain(
      second,
    );

    await runInDurableObject(object(), (instance: SigningKeys) => {
      const self = instance as unknown as { env: Env };
      self.env = { ...self.env, REVOCATIONS: env.REVOCATIONS };
    });
    expect(await runDurableObjectAlarm(object())).toBe(true);
    expect(await listed()).toEqual(expect.arrayContaining([first, second]));
  });
});

describe("signing keys after SERVER_SECRET changed", () => {
  it("drop the keys that no longer open and start new ones, instead of failing every request", async () => {
    const object = () => env.SIGNING_KEYS.getByName("signing-keys-secret-rotation-test");
    const policy = { rotationSeconds: 30 * 86_400 };
    const before = await object().keySet(policy, "test:key-set");
    // What a new SERVER_SECRET does to the stored keys: they no longer decrypt.
    await runInDurableObject(object(), (_instance: SigningKeys, state) => {
      const stored = state.storage.kv.get<{ sealedPrivate: string }[]>("keys") ?? [];
      state.storage.kv.put(
        "keys",
        stored.map((k) => ({
          ...k,
          sealedPrivate: `${k.sealedPrivate.slice(0, 20)}AAAAAAAAAAAAAAAA`,
        })),
      );
    });
    const { result: after, lines } = await capturingLogs(() =>
      object().keySet(policy, "request-after-the-change"),
    );
    expect(after.active.ES256.kid).not.toBe(before.active.ES256.kid);
    expect(after.active.RS256.kid).not.toBe(before.active.RS256.kid);
    const kids = after.published.map((k) => k.kid);
    expect(kids).not.toContain(before.active.ES256.kid);
    // Each dropped key and each new one is logged, under the id of the call that found them.
    const logged = lines.map((line) => JSON.parse(line) as { event: string; requestId: string });
    expect(logged.map((line) => line.event)).toEqual(
      expect.arrayContaining(["signing_key_unreadable", "signing_key.created"]),
    );
    for (const line of logged) expect(line.requestId).toBe("request-after-the-change");
  });
});
