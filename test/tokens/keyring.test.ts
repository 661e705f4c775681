import { env } from "cloudflare:workers";
import { decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { providerConfig } from "../../src/config";
import { keyRing, revokeSigningKey, verificationKey } from "../../src/tokens/keyring";
import { type RegisteredClient, registerClient } from "../support/fixtures";
import { fetchWith, ISSUER, json } from "../support/http";
import {
  type Bindings,
  countingDurableObjects,
  introspectWith,
  postFormWith,
  sleep,
} from "../support/revocation";

/**
 * The Worker's copy of the signing keys (src/tokens/keyring.ts), which each
 * isolate keeps in module state so that signing and verifying cost no Durable
 * Object call. A key revoked through another isolate (POST
 * /admin/keys/:kid/revoke there) must stop being used here within
 * REVOCATION_CACHE_SECONDS (plus KV's propagation between locations), not
 * when this isolate's copy happens to expire (up to five minutes).
 *
 * The tests cannot start a second isolate; this isolate's module state is
 * the other isolates' state. "Another isolate" revokes by calling the
 * SigningKeys object directly, as the keyring there would, so nothing in this
 * isolate is told. The order of the tests matters: they share that state.
 */

const POLICY = { rotationSeconds: 30 * 86_400 }; // SIGNING_KEY_ROTATION_DAYS in wrangler.toml
const signingKeys = () => env.SIGNING_KEYS.getByName("signing-keys");
const withBound = (seconds: number): Bindings => ({
  ...env,
  REVOCATION_CACHE_SECONDS: String(seconds),
});

async function serviceClient(): Promise<RegisteredClient> {
  return registerClient({
    grant_types: ["client_credentials"],
    redirect_uris: [],
    scope: "api:read",
  });
}

/** An access token from the Worker running under `bindings`, and the kid that signed it. */
async function accessToken(bindings: Bindings, client: RegisteredClient) {
  const res = await postFormWith(bindings, client, "/token", { grant_type: "client_credentials" });
  expect(res.status, await res.clone().text()).toBe(200);
  const token = (await json<{ access_token: string }>(res)).access_token;
  return { token, kid: decodeProtectedHeader(token).kid as string };
}

describe("a signing key revoked through this isolate", () => {
  it("is out of signing and verification here at once, whatever this isolate last read", async () => {
    const bindings = withBound(60); // a check of the revoked keys would not be due
    const config = providerConfig(bindings, ISSUER);
    const client = await serviceClient();
    const { token, kid } = await accessToken(bindings, client);
    expect(await introspectWith(bindings, client, token)).toMatchObject({ active: true });

    expect(await revokeSigningKey(bindings, config, kid)).toBeDefined();

    expect((await keyRing(bindings, config)).kid).not.toBe(kid);
    expect(await verificationKey(bindings, config, kid)).toBeUndefined();
    expect(await introspectWith(bindings, client, token)).toStrictEqual({ active: false });
    expect((await accessToken(bindings, client)).kid).not.toBe(kid);
  });
});

describe("a signing key revoked through another isolate", () => {
  it("is no longer used to sign, nor accepted, here once REVOCATION_CACHE_SECONDS have passed", async () => {
    const bound = 2;
    const bindings = withBound(bound);
    const config = providerConfig(bindings, ISSUER);
    const client = await serviceClient();
    await sleep(bound * 1000 + 100); // whatever this isolate read before is due again
    // This isolate signs a token, and so reads the revoked keys now: none of its keys.
    const { token, kid } = await accessToken(bindings, client);

    // Another isolate revokes the key; the SigningKeys object publishes the revocation to KV.
    expect(await signingKeys().revoke(kid, POLICY, "test")).toBe(true);
    // This isolate was told nothing: within the bound its copy still has the key. (That is
    // the bound, not the property; it shows the copy here really is stale.)
    expect((await keyRing(bindings, config)).kid).toBe(kid);

    await sleep(bound * 1000 + 100);
    expect((await keyRing(bindings, config)).kid).not.toBe(kid);
    expect((await accessToken(bindings, client)).kid).not.toBe(kid);
    expect(await verificationKey(bindings, config, kid)).toBeUndefined();
    expect(await introspectWith(bindings, client, token)).toStrictEqual({ active: false });
    const jwks = await json<{ keys: { kid: string }[] }>(await fetchWith(bindings, "/jwks"));
    expect(jwks.keys.map((k) => k.kid)).not.toContain(kid);
  });
});

describe("what checking for revoked keys costs", () => {
  /** `bindings` whose REVOCATIONS namespace counts reads of the revoked signing keys. */
  function countingKeyReads(bindings: Bindings) {
    const reads = { count: 0 };
    const kv = bindings.REVOCATIONS;
    const REVOCATIONS = new Proxy(kv, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (prop !== "get" || typeof value !== "function") {
          return typeof value === "function" ? value.bind(target) : value;
        }
        return (key: unknown, ...rest: unknown[]) => {
          if (key === "signing-keys:revoked") reads.count++;
          return Reflect.apply(value, target, [key, ...rest]);
        };
      },
    });
    return { bindings: { ...bindings, REVOCATIONS } as Bindings, reads };
  }

  it("is one KV read per isolate every REVOCATION_CACHE_SECONDS, never one per token, and no Durable Object call", async () => {
    const bound = 1;
    const client = await serviceClient();
    const counted = countingKeyReads(withBound(bound));
    const { bindings, uses } = countingDurableObjects(counted.bindings);
    const { token } = await accessToken(bindings, client); // the key ring, loaded if need be
    await sleep(bound * 1000 + 100); // a check is due
    counted.reads.count = 0;
    uses.length = 0;

    const start = Date.now();
    for (let i = 0; i < 20; i++) {
      await accessToken(bindings, client);
      expect(await introspectWith(bindings, client, token)).toMatchObject({ active: true });
    }
    const elapsed = Date.now() - start;
    // 40 signatures and verifications: the one check that was due, and one more per bound
    // that passed while they ran (none, on a machine that is not very slow).
    expect(counted.reads.count).toBeGreaterThanOrEqual(1);
    expect(counted.reads.count).toBeLessThanOrEqual(1 + Math.floor(elapsed / (bound * 1000)));
    expect(uses.filter((u) => u.binding === "SIGNING_KEYS")).toStrictEqual([]);
  });
});
