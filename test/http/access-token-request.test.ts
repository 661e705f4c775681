import { describe, expect, it } from "vitest";
import {
  DpopKey,
  dpopCodeFlow,
  serverNonce,
  TOKEN_URL,
  USERINFO_URL,
  userinfoWith,
} from "../support/dpop";
import { registerClient, registerPublicClient, registerUser } from "../support/fixtures";
import { call, DESCRIPTION_CHARSET, json } from "../support/http";
import {
  CERTIFICATES,
  type CertificateName,
  cfWith,
  cnfOf,
  mtlsCodeFlow,
  mtlsUserinfo,
  x5tOf,
} from "../support/mtls";

/**
 * A DPoP-bound access token at a resource (userinfo): RFC 9449 §7 (the DPoP
 * scheme and a proof with ath), §7.2 (never as a bearer token), §9 (nonces);
 * a certificate-bound one only over mutual TLS with its certificate (RFC
 * 8705 §3).
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

describe("userinfo with a certificate-bound access token (RFC 8705 §3)", () => {
  const { app1, app2, payments } = CERTIFICATES;

  async function certificateBound() {
    const client = await registerPublicClient({ consent: "implicit" });
    const tokens = await mtlsCodeFlow(client, await registerUser(), app1);
    expect(cnfOf(tokens.access_token)).toEqual({ "x5t#S256": await x5tOf(app1) });
    return tokens.access_token;
  }

  /** RFC 8705 §3: "rejected with an error, per [RFC6750], using an HTTP 401 status code and the invalid_token error code". */
  async function expectBearerRefusal(res: Response) {
    expect(res.status).toBe(401);
    const challenge = res.headers.get("www-authenticate") ?? "";
    expect(challenge).toMatch(/^Bearer realm="edge-token-service", error="invalid_token"/);
    const body = await json<{ error: string; error_description: string }>(res);
    expect(body.error).toBe("invalid_token");
    expect(body.error_description).toMatch(DESCRIPTION_CHARSET);
  }

  it("answers the bearer token over mutual TLS with the same certificate", async () => {
    const accessToken = await certificateBound();
    const res = await mtlsUserinfo(accessToken, app1);
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await json(res)).sub).toBeTruthy();
  });

  it.each<[string, CertificateName | undefined]>([
    ["no certificate", undefined],
    ["another self-signed certificate", "app2"],
    ["a CA-verified certificate of another client", "payments"],
  ])("refuses it with %s", async (_, name) => {
    const accessToken = await certificateBound();
    await expectBearerRefusal(await mtlsUserinfo(accessToken, name && CERTIFICATES[name]));
  });

  it("refuses it with its certificate once Cloudflare reports the certificate revoked", async () => {
    const accessToken = await certificateBound();
    const res = await call("/userinfo", {
      headers: { Authorization: `Bearer ${accessToken}` },
      cf: cfWith(app1, { certRevoked: "1" }),
    });
    await expectBearerRefusal(res);
  });

  it("needs both the certificate and a proof by the key when bound to both", async () => {
    const client = await registerPublicClient({ consent: "implicit" });
    const key = await DpopKey.generate();
    const nonce = await serverNonce(client, key);
    const tokens = await mtlsCodeFlow(client, await registerUser(), app1, {
      headers: { DPoP: await key.proof("POST", TOKEN_URL, { nonce }) },
    });
    const accessToken = tokens.access_token;
    expect(cnfOf(accessToken)).toEqual({ jkt: key.jkt, "x5t#S256": await x5tOf(app1) });
    const jti = crypto.randomUUID();
    const proof = () => key.proof("GET", USERINFO_URL, { accessToken, jti });
    // Without the certificate: refused before the proof is spent (its jti still works after).
    const noCertificate = await mtlsUserinfo(accessToken, undefined, {
      scheme: "DPoP",
      headers: { DPoP: await proof() },
    });
    expect(noCertificate.status).toBe(401);
    expect(noCertificate.headers.get("www-authenticate")).toMatch(/^DPoP .*error="invalid_token"/);
    await expectChallenge(await mtlsUserinfo(accessToken, app1), "invalid_token");
    const both = await mtlsUserinfo(accessToken, app1, {
      scheme: "DPoP",
      headers: { DPoP: await proof() },
    });
    expect(both.status, await both.clone().text()).toBe(200);
    expect((await mtlsUserinfo(accessToken, payments, { scheme: "DPoP" })).status).toBe(401);
    expect((await mtlsUserinfo(accessToken, app2)).status).toBe(401);
  });
});
