import { describe, expect, it } from "vitest";
import { checkProof, sha256Base64Url } from "../../src/resource-server/dpop-proof";
import { ath, DpopKey } from "../support/dpop";

const URL_ = "https://api.example.test/things";
const TOKEN = "header.payload.signature";
const now = () => Math.floor(Date.now() / 1000);

async function target(key: DpopKey, overrides: Partial<Parameters<typeof checkProof>[1]> = {}) {
  return {
    method: "GET",
    url: URL_,
    accessToken: TOKEN,
    jkt: key.jkt,
    now: now(),
    windowSeconds: 60,
    ...overrides,
  };
}

describe("a DPoP proof at a resource server (RFC 9449 §4.3, §7.1)", () => {
  it("accepts a proof by the bound key for this method, URL (query ignored) and token", async () => {
    for (const alg of ["ES256", "EdDSA", "PS256"] as const) {
      const key = await DpopKey.generate(alg);
      const proof = await key.proof("GET", URL_, { accessToken: TOKEN });
      const result = await checkProof(proof, await target(key, { url: `${URL_}?page=2#x` }));
      expect(result, alg).toMatchObject({ ok: true });
    }
  });

  it("hashes the token for ath as clients do (base64url SHA-256)", async () => {
    expect(await sha256Base64Url(TOKEN)).toBe(await ath(TOKEN));
  });

  it("refuses what §4.3 refuses", async () => {
    const key = await DpopKey.generate();
    const other = await DpopKey.generate();
    const cases: Record<string, string | null> = {
      missing: null,
      two: `${await key.proof("GET", URL_, { accessToken: TOKEN })},${await key.proof("GET", URL_, { accessToken: TOKEN })}`,
      "other key": await other.proof("GET", URL_, { accessToken: TOKEN }),
      "wrong typ": await key.proof("GET", URL_, { accessToken: TOKEN, header: { typ: "JWT" } }),
      "private jwk": await key.proof("GET", URL_, {
        accessToken: TOKEN,
        header: { jwk: key.privateJwk },
      }),
      "other method": await key.proof("POST", URL_, { accessToken: TOKEN }),
      "other url": await key.proof("GET", "https://api.example.test/other", { accessToken: TOKEN }),
      "other host": await key.proof("GET", "https://evil.example.test/things", {
        accessToken: TOKEN,
      }),
      "old iat": await key.proof("GET", URL_, { accessToken: TOKEN, iat: now() - 61 }),
      "future iat": await key.proof("GET", URL_, { accessToken: TOKEN, iat: now() + 61 }),
      "no ath": await key.proof("GET", URL_),
      "other token's ath": await key.proof("GET", URL_, { accessToken: "another.token.here" }),
      "no jti": await key.proof("GET", URL_, { accessToken: TOKEN, claims: { jti: undefined } }),
      "no htu": await key.proof("GET", URL_, { accessToken: TOKEN, claims: { htu: undefined } }),
    };
    const es512 = await DpopKey.generate("ES512");
    cases["alg not accepted"] = await es512.proof("GET", URL_, { accessToken: TOKEN });
    for (const [name, proof] of Object.entries(cases)) {
      const jkt = name === "alg not accepted" ? es512.jkt : key.jkt;
      const result = await checkProof(proof, await target(key, { jkt }));
      expect(result.ok, name).toBe(false);
    }
  });

  it("refuses a tampered proof (claims changed after signing)", async () => {
    const key = await DpopKey.generate();
    const [header, , signature] = (await key.proof("GET", URL_, { accessToken: TOKEN })).split(".");
    const claims = { jti: "x", htm: "GET", htu: URL_, iat: now(), ath: await ath(TOKEN) };
    const payload = btoa(JSON.stringify(claims))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    expect(await checkProof(`${header}.${payload}.${signature}`, await target(key))).toMatchObject({
      ok: false,
    });
  });
});
