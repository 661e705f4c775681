import { createLocalJWKSet, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { TOKEN_ALGS, verifyAccessToken } from "../../src/resource-server/access-token";

const ISSUER = "https://auth.example.test";
const rules = { issuer: ISSUER, audience: ISSUER, leewaySeconds: 30 };
const now = () => Math.floor(Date.now() / 1000);

async function signer() {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const keys = createLocalJWKSet({
    keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }],
  });
  const sign = (claims: JWTPayload, header: Record<string, unknown> = {}) =>
    new SignJWT({
      iss: ISSUER,
      aud: ISSUER,
      sub: "user-1",
      client_id: "client-1",
      jti: crypto.randomUUID(),
      iat: now(),
      exp: now() + 300,
      scope: "api:read",
      ...claims,
    })
      .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: "k1", ...header })
      .sign(privateKey);
  return { keys, sign };
}

describe("RFC 9068 §4: validating an access token", () => {
  it("accepts a well-formed token and returns its claims", async () => {
    const { keys, sign } = await signer();
    const result = await verifyAccessToken(await sign({}), keys, rules);
    expect(result).toMatchObject({ ok: true, claims: { sub: "user-1", client_id: "client-1" } });
  });

  it("accepts application/at+jwt as typ, and an audience from a configured list", async () => {
    const { keys, sign } = await signer();
    const token = await sign({ aud: ["https://api.example.test"] }, { typ: "application/at+jwt" });
    const result = await verifyAccessToken(token, keys, {
      ...rules,
      audience: ["https://other.example.test", "https://api.example.test"],
    });
    expect(result.ok).toBe(true);
  });

  it("refuses each broken rule with invalid_token and a description naming it", async () => {
    const { keys, sign } = await signer();
    const cases: [string, string, RegExp][] = [
      [
        "wrong iss",
        await sign({ iss: "https://evil.example.test" }),
        /another authorization server/,
      ],
      [
        "wrong aud",
        await sign({ aud: "https://other.example.test" }),
        /not meant for this resource/,
      ],
      ["typ JWT", await sign({}, { typ: "JWT" }), /at\+jwt/],
      ["expired", await sign({ exp: now() - 31 }), /expired/],
      ["future iat", await sign({ iat: now() + 120 }), /iat/],
      ["no client_id", await sign({ client_id: undefined }), /client_id/],
      ["no jti", await sign({ jti: undefined }), /jti/],
      ["unknown kid", await sign({}, { kid: "k2" }), /key this resource does not know/],
      ["cnf not an object", await sign({ cnf: "x" }), /malformed/],
    ];
    for (const [name, token, description] of cases) {
      const result = await verifyAccessToken(token, keys, rules);
      expect(result, name).toHaveProperty("refusal");
      if ("refusal" in result) {
        expect(result.refusal.error, name).toBe("invalid_token");
        expect(result.refusal.description, name).toMatch(description);
      }
    }
  });

  it("tells a key set that cannot be read (network, not 200) from a bad token", async () => {
    const { sign } = await signer();
    const token = await sign({});
    const unreachable = async () => {
      throw new TypeError("Network connection lost.");
    };
    expect(await verifyAccessToken(token, unreachable, rules)).toStrictEqual({
      ok: false,
      unavailable: true,
    });
  });

  it("tolerates the configured leeway on exp", async () => {
    const { keys, sign } = await signer();
    expect((await verifyAccessToken(await sign({ exp: now() - 20 }), keys, rules)).ok).toBe(true);
  });

  it("accepts asymmetric algorithms only", () => {
    expect(TOKEN_ALGS.some((alg) => alg.startsWith("HS") || alg === "none")).toBe(false);
  });
});
