import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { DPOP_ALGS, PROOF_WINDOW_SECONDS, verifyProof } from "../../src/dpop/proof";
import { ath, DpopKey, TOKEN_URL } from "../support/dpop";
import { DESCRIPTION_CHARSET } from "../support/http";

/**
 * RFC 9449 §4.3, the checks that need no state: each refusal is one item of
 * the list, and every refusal's description is within RFC 6749 §5.2's set.
 */

const now = () => Math.floor(Date.now() / 1000);
const target = (extra: Partial<Parameters<typeof verifyProof>[1]> = {}) => ({
  method: "POST",
  url: TOKEN_URL,
  now: now(),
  ...extra,
});

async function refused(header: string | undefined, t = target()) {
  const check = await verifyProof(header, t);
  expect(check.ok, JSON.stringify(check)).toBe(false);
  if (!check.ok) expect(check.description).toMatch(DESCRIPTION_CHARSET);
  return check;
}

describe("a DPoP proof is accepted (RFC 9449 §4.3)", () => {
  it.each(DPOP_ALGS.map((alg) => [alg]))(
    "signed with %s, with its key's thumbprint as jkt",
    async (alg) => {
      const key = await DpopKey.generate(alg);
      const check = await verifyProof(await key.proof("POST", TOKEN_URL), target());
      expect(check).toMatchObject({ ok: true, proof: { jkt: key.jkt } });
    },
  );

  it("whatever the query and fragment of htu, and after RFC 3986 normalisation (item 9)", async () => {
    const key = await DpopKey.generate();
    for (const htu of [
      `${TOKEN_URL}?x=1`,
      `${TOKEN_URL}#frag`,
      "HTTPS://AUTH.EXAMPLE.TEST:443/token",
      "https://auth.example.test/a/../token",
    ]) {
      const check = await verifyProof(await key.proof("POST", htu), target());
      expect(check.ok, htu).toBe(true);
    }
  });

  it("with ath, the hash of the access token it accompanies (item 12)", async () => {
    const key = await DpopKey.generate();
    const proof = await key.proof("GET", TOKEN_URL, { accessToken: "token-abc" });
    expect((await verifyProof(proof, target({ method: "GET", accessToken: "token-abc" }))).ok).toBe(
      true,
    );
  });
});

describe("a DPoP proof is refused", () => {
  it("when missing, repeated, or not one well-formed JWT (items 1, 2)", async () => {
    const key = await DpopKey.generate();
    const proof = await key.proof("POST", TOKEN_URL);
    for (const header of [
      undefined,
      "",
      `${proof}, ${proof}`,
      "not-a-jwt",
      `${proof}.extra`,
      "a.b.c",
    ]) {
      await refused(header);
    }
  });

  it("when typ is not dpop+jwt (item 4)", async () => {
    const key = await DpopKey.generate();
    for (const typ of ["JWT", "at+jwt", undefined]) {
      await refused(await key.proof("POST", TOKEN_URL, { header: { typ } }));
    }
  });

  it("when alg is none, symmetric, or not advertised (item 5)", async () => {
    const key = await DpopKey.generate();
    const claims = { jti: "j1", htm: "POST", htu: TOKEN_URL, iat: now() };
    const enc = (o: unknown) =>
      btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const none = `${enc({ typ: "dpop+jwt", alg: "none", jwk: key.publicJwk })}.${enc(claims)}.`;
    await refused(none);
    await refused(`${none}sig`);
    const secret = new TextEncoder().encode("a symmetric secret of at least 32 bytes!!");
    const hs256 = await new SignJWT(claims)
      .setProtectedHeader({
        typ: "dpop+jwt",
        alg: "HS256",
        jwk: { kty: "oct", k: "c2VjcmV0" },
      } as never)
      .sign(secret);
    await refused(hs256);
    const es512 = await DpopKey.generate("ES512");
    await refused(await es512.proof("POST", TOKEN_URL));
  });

  it("when its signature is not by the key it carries (item 6)", async () => {
    const key = await DpopKey.generate();
    const other = await DpopKey.generate();
    await refused(await key.proof("POST", TOKEN_URL, { header: { jwk: other.publicJwk } }));
    const proof = await key.proof("POST", TOKEN_URL);
    const [h, p, s] = proof.split(".") as [string, string, string];
    const flipped = `${s.slice(0, 10)}${s[10] === "A" ? "B" : "A"}${s.slice(11)}`;
    await refused(`${h}.${p}.${flipped}`);
  });

  it("when jwk is missing or carries a private key (item 7)", async () => {
    const key = await DpopKey.generate();
    await refused(await key.proof("POST", TOKEN_URL, { header: { jwk: undefined } }));
    await refused(await key.proof("POST", TOKEN_URL, { header: { jwk: key.privateJwk } }));
    const rsa = await DpopKey.generate("RS256");
    await refused(await rsa.proof("POST", TOKEN_URL, { header: { jwk: rsa.privateJwk } }));
  });

  it("when its jwk is marked for another use or algorithm, or does not fit its alg (RFC 7517 §4.2, §4.4)", async () => {
    const key = await DpopKey.generate();
    await refused(
      await key.proof("POST", TOKEN_URL, { header: { jwk: { ...key.publicJwk, use: "enc" } } }),
    );
    await refused(
      await key.proof("POST", TOKEN_URL, { header: { jwk: { ...key.publicJwk, alg: "ES384" } } }),
    );
    const rsa = await DpopKey.generate("RS256");
    await refused(await key.proof("POST", TOKEN_URL, { header: { jwk: rsa.publicJwk } }));
    await refused(
      await key.proof("POST", TOKEN_URL, { header: { jwk: { kty: "EC", crv: "P-256" } } }),
    );
  });

  it("when a required claim is missing or of the wrong type (item 3)", async () => {
    const key = await DpopKey.generate();
    for (const claims of [
      { jti: undefined },
      { jti: "" },
      { jti: "x".repeat(257) },
      { htm: undefined },
      { htu: undefined },
      { iat: undefined },
      { iat: "now" },
      { nonce: 5 },
    ]) {
      await refused(await key.proof("POST", TOKEN_URL, { claims }));
    }
  });

  it("when made for another method or URL (items 8, 9)", async () => {
    const key = await DpopKey.generate();
    await refused(await key.proof("GET", TOKEN_URL));
    await refused(await key.proof("post", TOKEN_URL));
    for (const htu of [
      "https://auth.example.test/userinfo",
      "http://auth.example.test/token",
      "https://evil.example.test/token",
      "https://auth.example.test:8443/token",
      "https://user@auth.example.test/token",
      "/token",
      "not a url",
    ]) {
      await refused(await key.proof("POST", htu));
    }
  });

  it(`when its iat is more than ${PROOF_WINDOW_SECONDS} s from now, either way (item 11)`, async () => {
    const key = await DpopKey.generate();
    await refused(await key.proof("POST", TOKEN_URL, { iat: now() - PROOF_WINDOW_SECONDS - 5 }));
    await refused(await key.proof("POST", TOKEN_URL, { iat: now() + PROOF_WINDOW_SECONDS + 5 }));
    expect(
      (await verifyProof(await key.proof("POST", TOKEN_URL, { iat: now() - 30 }), target())).ok,
    ).toBe(true);
  });

  it("when its ath is not the hash of the token it accompanies, or missing (item 12)", async () => {
    const key = await DpopKey.generate();
    const t = target({ method: "GET", accessToken: "token-abc" });
    await refused(await key.proof("GET", TOKEN_URL, { accessToken: "token-xyz" }), t);
    await refused(await key.proof("GET", TOKEN_URL), t);
    await refused(await key.proof("GET", TOKEN_URL, { claims: { ath: await ath("token-ab") } }), t);
  });
});

describe("the per-key replay record (src/clients/replay-guard.ts)", () => {
  it("never takes a jti at or after the instant its proof stops being acceptable", async () => {
    const { env } = await import("cloudflare:workers");
    const guard = env.REPLAY_GUARD.getByName(`dpop:test-${crypto.randomUUID()}`);
    const until = Date.now() + 1_000;
    expect(await guard.consume("jti-1", until)).toBe(true);
    await new Promise((r) => setTimeout(r, 1_100));
    // A replay reaching the record just after the end of the window: refused, not new.
    expect(await guard.consume("jti-1", until)).toBe(false);
    expect(await guard.consume("jti-2", Date.now() - 1)).toBe(false);
  });
});
