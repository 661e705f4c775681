import { describe, expect, it } from "vitest";
import { DpopKey, dpopCodeFlow, USERINFO_URL, userinfoWith } from "../support/dpop";
import { registerClient, registerUser } from "../support/fixtures";
import { DESCRIPTION_CHARSET, json } from "../support/http";

/**
 * A DPoP-bound access token at a resource (userinfo): RFC 9449 §7 (the DPoP
 * scheme and a proof with ath), §7.2 (never as a bearer token), §9 (nonces).
 */

async function boundToken() {
  const client = await registerClient({ consent: "implicit" });
  const key = await DpopKey.generate();
  const tokens = await dpopCodeFlow(client, await registerUser(), key, { scope: "openid profile" });
  return { key, accessToken: tokens.access_token };
}

async function expectChallenge(res: Response, error: string) {
  expect(res.status).toBe(401);
  const challenge = res.headers.get("www-authenticate") ?? "";
  expect(challenge).toMatch(/^DPoP algs="ES256 ES384 PS256 RS256 Ed25519 EdDSA", /);
  expect(challenge).toContain(`error="${error}"`);
  const body = await json<{ error: string; error_description: string }>(res);
  expect(body.error).toBe(error);
  expect(body.error_description).toMatch(DESCRIPTION_CHARSET);
}

describe("userinfo with a DPoP-bound access token", () => {
  it("answers the DPoP scheme with a proof by the bound key and ath (RFC 9449 §7.1)", async () => {
    const { key, accessToken } = await boundToken();
    const res = await userinfoWith("DPoP", accessToken, key);
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await json(res)).sub).toBeTruthy();
  });

  it("refuses it as a bearer token, with a DPoP challenge (RFC 9449 §7.2)", async () => {
    const { key, accessToken } = await boundToken();
    await expectChallenge(await userinfoWith("Bearer", accessToken), "invalid_token");
    await expectChallenge(await userinfoWith("Bearer", accessToken, key), "invalid_token");
  });

  it("refuses a missing proof, a proof by another key, an ath for another token, or a proof for another URL", async () => {
    const { key, accessToken } = await boundToken();
    await expectChallenge(await userinfoWith("DPoP", accessToken), "invalid_dpop_proof");
    const other = await DpopKey.generate();
    await expectChallenge(await userinfoWith("DPoP", accessToken, other), "invalid_dpop_proof");
    await expectChallenge(
      await userinfoWith("DPoP", accessToken, key, { accessToken: `${accessToken}x` }),
      "invalid_dpop_proof",
    );
    const res = await userinfoWith("DPoP", accessToken, key, {
      claims: { htu: USERINFO_URL.replace("userinfo", "token") },
    });
    await expectChallenge(res, "invalid_dpop_proof");
  });

  it("accepts a proof once (RFC 9449 §11.1)", async () => {
    const { key, accessToken } = await boundToken();
    const jti = crypto.randomUUID();
    expect((await userinfoWith("DPoP", accessToken, key, { jti })).status).toBe(200);
    await expectChallenge(
      await userinfoWith("DPoP", accessToken, key, { jti }),
      "invalid_dpop_proof",
    );
  });

  it("answers a stale nonce with use_dpop_nonce and a fresh one (RFC 9449 §9)", async () => {
    const { key, accessToken } = await boundToken();
    const res = await userinfoWith("DPoP", accessToken, key, { nonce: "1.stale" });
    expect(res.headers.get("dpop-nonce")).toMatch(/^\d+\./);
    await expectChallenge(res, "use_dpop_nonce");
    const nonce = res.headers.get("dpop-nonce") as string;
    expect((await userinfoWith("DPoP", accessToken, key, { nonce })).status).toBe(200);
  });

  it("refuses a bearer token sent with the DPoP scheme", async () => {
    const client = await registerClient({ consent: "implicit" });
    const { codeFlow } = await import("../support/browser");
    const tokens = await codeFlow(client, await registerUser(), { scope: "openid" });
    const key = await DpopKey.generate();
    await expectChallenge(await userinfoWith("DPoP", tokens.access_token, key), "invalid_token");
    expect((await userinfoWith("Bearer", tokens.access_token)).status).toBe(200);
  });
});
