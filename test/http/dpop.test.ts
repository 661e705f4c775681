import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { Browser, pkce, signInAndAuthorize } from "../support/browser";
import {
  DpopKey,
  dpopCodeFlow,
  dpopTokenRequest,
  dpopTokens,
  serverNonce,
  TOKEN_URL,
} from "../support/dpop";
import {
  introspect,
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  registerPublicClient,
  registerUser,
} from "../support/fixtures";
import { call, DESCRIPTION_CHARSET, json } from "../support/http";
import { familyIdOf, storedFamily } from "../support/refresh";

/**
 * DPoP at the token endpoint (RFC 9449 §5, §8, §10), against the real Worker:
 * bound access tokens, refresh tokens bound for public clients, nonces,
 * replay, and the client and authorization-request rules.
 */

type ErrorBody = { error: string; error_description: string };

async function expectError(res: Response, error: string, status = 400): Promise<ErrorBody> {
  const body = await json<ErrorBody>(res);
  expect(body.error, JSON.stringify(body)).toBe(error);
  expect(res.status).toBe(status);
  expect(body.error_description).toMatch(DESCRIPTION_CHARSET);
  return body;
}

const SCOPE = "openid profile api:read offline_access";

/** A confidential client for client_credentials only (no user, no redirect). */
const registerServiceClient = (fields: Record<string, unknown> = {}) =>
  registerClient({
    grant_types: ["client_credentials"],
    redirect_uris: [],
    scope: "api:read",
    ...fields,
  });

async function publicGrant(clientFields: Record<string, unknown> = {}) {
  const client = await registerPublicClient({ consent: "implicit", ...clientFields });
  const user = await registerUser();
  const key = await DpopKey.generate();
  const tokens = await dpopCodeFlow(client, user, key, { scope: SCOPE });
  return { client, user, key, tokens, refreshToken: tokens.refresh_token as string };
}

const refreshWith = async (
  client: RegisteredClient,
  key: DpopKey | undefined,
  refreshToken: string,
) => {
  const nonce = key ? await serverNonce(client, key) : undefined;
  return dpopTokenRequest(
    client,
    key,
    { grant_type: "refresh_token", refresh_token: refreshToken },
    nonce ? { nonce } : {},
  );
};

describe("server nonces at the token endpoint (RFC 9449 §8)", () => {
  it("a proof without a nonce is answered use_dpop_nonce with the nonce in DPoP-Nonce, and spends nothing", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const key = await DpopKey.generate();
    const { verifier, challenge } = await pkce();
    const redirect = await signInAndAuthorize(new Browser(), client, user, {
      challenge,
      scope: SCOPE,
    });
    const params = {
      grant_type: "authorization_code",
      code: redirect.searchParams.get("code") as string,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    };
    const first = await dpopTokenRequest(client, key, params);
    await expectError(first, "use_dpop_nonce");
    const nonce = first.headers.get("dpop-nonce") as string;
    expect(nonce).toMatch(/^[\x21\x23-\x5B\x5D-\x7E]+$/); // RFC 9449 §8.1 NQCHAR
    // The retry, as openid-client and oauth4webapi make it, redeems the same code.
    const retry = await dpopTokenRequest(client, key, params, { nonce });
    expect(retry.status, await retry.clone().text()).toBe(200);
    expect((await json(retry)).token_type).toBe("DPoP");
  });

  it("a nonce the server never issued, or one from long ago, is refused the same way", async () => {
    const client = await registerServiceClient();
    const key = await DpopKey.generate();
    const good = await serverNonce(client, key);
    const period = Number(good.split(".")[0]);
    for (const nonce of [
      "made-up",
      `${period}.AAAAAAAAAAAAAAAAAAAAAA`,
      `${period - 5}.${good.split(".")[1]}`,
    ]) {
      const res = await dpopTokenRequest(
        client,
        key,
        { grant_type: "client_credentials" },
        { nonce },
      );
      await expectError(res, "use_dpop_nonce");
      expect(res.headers.get("dpop-nonce")).toBe(good);
    }
  });
});

describe("DPoP-bound access tokens (RFC 9449 §5, §6)", () => {
  it("a proven code redemption gets token_type DPoP and cnf.jkt of the proof's key; introspection shows cnf", async () => {
    const client = await registerClient({ consent: "implicit" });
    const key = await DpopKey.generate();
    const tokens = await dpopCodeFlow(client, await registerUser(), key, { scope: SCOPE });
    expect(tokens.token_type).toBe("DPoP");
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: key.jkt });
    const seen = await introspect(client, tokens.access_token);
    expect(seen).toMatchObject({ active: true, token_type: "DPoP", cnf: { jkt: key.jkt } });
  });

  it("client_credentials with a proof is bound too; without one it is a bearer token", async () => {
    const client = await registerServiceClient();
    const key = await DpopKey.generate("EdDSA");
    const bound = await dpopTokens(client, key, { grant_type: "client_credentials" });
    expect(bound.token_type).toBe("DPoP");
    expect(decodeJwt(bound.access_token).cnf).toEqual({ jkt: key.jkt });
    const plain = await json(
      await dpopTokenRequest(client, undefined, { grant_type: "client_credentials" }),
    );
    expect(plain.token_type).toBe("Bearer");
    expect(decodeJwt(plain.access_token as string).cnf).toBeUndefined();
  });

  it("a confidential client's refresh token is not bound: any proof, or none, may refresh it", async () => {
    const client = await registerClient({
      consent: "implicit",
      refresh_token: { rotation: "rotate" },
    });
    const key = await DpopKey.generate();
    const tokens = await dpopCodeFlow(client, await registerUser(), key, { scope: SCOPE });
    expect((await storedFamily(tokens.refresh_token as string))?.status).toBe("active");
    const other = await DpopKey.generate();
    const res = await refreshWith(client, other, tokens.refresh_token as string);
    expect(res.status, await res.clone().text()).toBe(200);
    const next = await json(res);
    expect(decodeJwt(next.access_token as string).cnf).toEqual({ jkt: other.jkt });
    const bearer = await refreshWith(client, undefined, next.refresh_token as string);
    expect(bearer.status).toBe(200);
    expect((await json(bearer)).token_type).toBe("Bearer");
  });
});

describe("a public client's refresh tokens are bound to its key (RFC 9449 §5)", () => {
  it("the family records the key; each refresh with a proof by it rotates", async () => {
    const { client, key, refreshToken } = await publicGrant();
    const family = await storedFamily(refreshToken);
    expect(family).toMatchObject({ status: "active", jkt: key.jkt });
    let token = refreshToken;
    for (let i = 0; i < 3; i++) {
      const res = await refreshWith(client, key, token);
      expect(res.status, await res.clone().text()).toBe(200);
      const body = await json(res);
      expect(body.token_type).toBe("DPoP");
      expect(decodeJwt(body.access_token as string).cnf).toEqual({ jkt: key.jkt });
      token = body.refresh_token as string;
    }
  });

  it("a refresh with no proof, or a proof by another key, is refused and consumes nothing", async () => {
    const { client, key, refreshToken } = await publicGrant();
    const before = JSON.stringify(await storedFamily(refreshToken));
    const stranger = await DpopKey.generate();
    for (const by of [undefined, stranger]) {
      const res = await refreshWith(client, by, refreshToken);
      const body = await expectError(res, "invalid_grant");
      expect(body.error_description).toContain("DPoP");
      expect(JSON.stringify(await storedFamily(refreshToken))).toBe(before);
    }
    // The rightful holder still refreshes with the very same token.
    expect((await refreshWith(client, key, refreshToken)).status).toBe(200);
  });

  it("without a proof at redemption, the family is unbound and has no grace window", async () => {
    const client = await registerPublicClient({
      consent: "implicit",
      refresh_token: { grace_seconds: 30 },
    });
    const { verifier, challenge } = await pkce();
    const redirect = await signInAndAuthorize(new Browser(), client, await registerUser(), {
      challenge,
      scope: SCOPE,
    });
    const res = await dpopTokenRequest(client, undefined, {
      grant_type: "authorization_code",
      code: redirect.searchParams.get("code") as string,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    });
    const first = await json(res);
    expect(await storedFamily(first.refresh_token as string)).not.toHaveProperty("jkt");
    const rotated = await refreshWith(client, undefined, first.refresh_token as string);
    expect(rotated.status).toBe(200);
    // Within the 30 s window, the previous token again: reuse, the family dies.
    await expectError(
      await refreshWith(client, undefined, first.refresh_token as string),
      "invalid_grant",
    );
    expect((await storedFamily(first.refresh_token as string))?.status).toBe("revoked");
  });
});

describe("the grace window of a bound family (RFC 9449 §5 with RFC 9700 §4.14.2)", () => {
  it("a retry of the previous token proven by the same key gets the same successor", async () => {
    const { client, key, refreshToken } = await publicGrant({
      refresh_token: { grace_seconds: 30 },
    });
    const first = await json(await refreshWith(client, key, refreshToken));
    const retry = await refreshWith(client, key, refreshToken);
    expect(retry.status, await retry.clone().text()).toBe(200);
    expect((await json(retry)).refresh_token).toBe(first.refresh_token);
  });

  it("the previous token proven by another key is reuse: refused, and the family revoked", async () => {
    const { client, key, refreshToken } = await publicGrant({
      refresh_token: { grace_seconds: 30 },
    });
    const first = await json(await refreshWith(client, key, refreshToken));
    const thief = await DpopKey.generate();
    await expectError(await refreshWith(client, thief, refreshToken), "invalid_grant");
    expect((await storedFamily(refreshToken))?.status).toBe("revoked");
    await expectError(
      await refreshWith(client, key, first.refresh_token as string),
      "invalid_grant",
    );
  });
});

describe("proof replay (RFC 9449 §11.1)", () => {
  it("a proof is accepted once: sent again it is invalid_dpop_proof", async () => {
    const client = await registerServiceClient();
    const key = await DpopKey.generate();
    const nonce = await serverNonce(client, key);
    const proof = await key.proof("POST", TOKEN_URL, { nonce });
    const send = () =>
      call("/token", {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Authorization: `Basic ${btoa(`${client.client_id}:${client.client_secret}`)}`,
          DPoP: proof,
        },
        body: "grant_type=client_credentials",
      });
    expect((await send()).status).toBe(200);
    await expectError(await send(), "invalid_dpop_proof");
  });

  it("of 16 parallel requests with one proof, exactly one is accepted", async () => {
    const { client, key, refreshToken } = await publicGrant();
    const nonce = await serverNonce(client, key);
    const proof = await key.proof("POST", TOKEN_URL, { nonce });
    const results = await Promise.all(
      Array.from({ length: 16 }, () =>
        call("/token", {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded", DPoP: proof },
          body: new URLSearchParams({
            grant_type: "refresh_token",
            refresh_token: refreshToken,
            client_id: client.client_id,
          }).toString(),
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    for (const res of results.filter((r) => r.status !== 200)) {
      await expectError(res, "invalid_dpop_proof");
    }
    // The one accepted request rotated once; the family lives on.
    expect((await storedFamily(refreshToken))?.status).toBe("active");
  });
});

describe("one proof is accepted once at the token endpoint, whatever the grant or family (RFC 9449 §11.1)", () => {
  const sendWith = (client: RegisteredClient, proof: string, params: Record<string, string>) =>
    call("/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", DPoP: proof },
      body: new URLSearchParams({ ...params, client_id: client.client_id }).toString(),
    });

  it("a proof that refreshed one family cannot refresh another family bound to the same key", async () => {
    const client = await registerPublicClient({ consent: "implicit" });
    const user = await registerUser();
    const key = await DpopKey.generate();
    const a = await dpopCodeFlow(client, user, key, { scope: SCOPE });
    const b = await dpopCodeFlow(client, user, key, { scope: SCOPE });
    const proof = await key.proof("POST", TOKEN_URL, { nonce: await serverNonce(client, key) });
    const grant = (token: string) => ({ grant_type: "refresh_token", refresh_token: token });
    expect((await sendWith(client, proof, grant(a.refresh_token as string))).status).toBe(200);
    const before = JSON.stringify(await storedFamily(b.refresh_token as string));
    await expectError(
      await sendWith(client, proof, grant(b.refresh_token as string)),
      "invalid_dpop_proof",
    );
    expect(JSON.stringify(await storedFamily(b.refresh_token as string))).toBe(before);
  });

  it("a proof that refreshed a family cannot then redeem a code", async () => {
    const client = await registerPublicClient({ consent: "implicit" });
    const user = await registerUser();
    const key = await DpopKey.generate();
    const a = await dpopCodeFlow(client, user, key, { scope: SCOPE });
    const { verifier, challenge } = await pkce();
    const redirect = await signInAndAuthorize(new Browser(), client, user, {
      challenge,
      scope: SCOPE,
    });
    const proof = await key.proof("POST", TOKEN_URL, { nonce: await serverNonce(client, key) });
    const refreshed = await sendWith(client, proof, {
      grant_type: "refresh_token",
      refresh_token: a.refresh_token as string,
    });
    expect(refreshed.status).toBe(200);
    const redeem = await sendWith(client, proof, {
      grant_type: "authorization_code",
      code: redirect.searchParams.get("code") as string,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    });
    await expectError(redeem, "invalid_dpop_proof");
  });

  it("an unbound public family refreshed with a proof is bound to its key from then on (RFC 9449 §5)", async () => {
    const client = await registerPublicClient({ consent: "implicit" });
    const { verifier, challenge } = await pkce();
    const redirect = await signInAndAuthorize(new Browser(), client, await registerUser(), {
      challenge,
      scope: SCOPE,
    });
    const first = await json(
      await dpopTokenRequest(client, undefined, {
        grant_type: "authorization_code",
        code: redirect.searchParams.get("code") as string,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
      }),
    );
    const key = await DpopKey.generate();
    const proven = await refreshWith(client, key, first.refresh_token as string);
    expect(proven.status).toBe(200);
    const next = await json(proven);
    expect(await storedFamily(next.refresh_token as string)).toMatchObject({ jkt: key.jkt });
    await expectError(
      await refreshWith(client, undefined, next.refresh_token as string),
      "invalid_grant",
    );
  });
});

describe("odd keys in a proof are refused, never a 500, and cannot spoil another's key", () => {
  it.each([["constructor"], ["toString"], ["__proto__"], ["hasOwnProperty"]])(
    "a jwk whose kty is %s",
    async (kty) => {
      const client = await registerServiceClient();
      const key = await DpopKey.generate();
      const nonce = await serverNonce(client, key);
      const res = await dpopTokenRequest(
        client,
        key,
        { grant_type: "client_credentials" },
        { nonce, header: { jwk: { kty, x: "a", y: "b", crv: "P-256" } } },
      );
      await expectError(res, "invalid_dpop_proof");
    },
  );

  it("a proof carrying the victim's public key with key_ops [] leaves the victim's proofs working", async () => {
    const client = await registerServiceClient();
    const victim = await DpopKey.generate();
    const attacker = await DpopKey.generate();
    const nonce = await serverNonce(client, attacker);
    await dpopTokenRequest(
      client,
      attacker,
      { grant_type: "client_credentials" },
      { nonce, header: { jwk: { ...victim.publicJwk, key_ops: [] } } },
    );
    const res = await dpopTokenRequest(
      client,
      victim,
      { grant_type: "client_credentials" },
      { nonce },
    );
    expect(res.status, await res.clone().text()).toBe(200);
  });
});

describe("what a client or an authorization request can demand", () => {
  it("dpop_bound_access_tokens: a token request without a proof is refused (RFC 9449 §5.2)", async () => {
    const client = await registerServiceClient({ dpop_bound_access_tokens: true });
    expect(client.dpop_bound_access_tokens).toBe(true);
    await expectError(
      await dpopTokenRequest(client, undefined, { grant_type: "client_credentials" }),
      "invalid_dpop_proof",
    );
    const key = await DpopKey.generate();
    expect((await dpopTokens(client, key, { grant_type: "client_credentials" })).token_type).toBe(
      "DPoP",
    );
  });

  it("dpop_jkt binds the code: another key, or none, is refused and the code survives (RFC 9449 §10)", async () => {
    const client = await registerPublicClient({ consent: "implicit" });
    const key = await DpopKey.generate();
    const { verifier, challenge } = await pkce();
    const redirect = await signInAndAuthorize(new Browser(), client, await registerUser(), {
      challenge,
      scope: SCOPE,
      extra: { dpop_jkt: key.jkt },
    });
    const params = {
      grant_type: "authorization_code",
      code: redirect.searchParams.get("code") as string,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    };
    const other = await DpopKey.generate();
    await expectError(
      await dpopTokenRequest(client, other, params, { nonce: await serverNonce(client, other) }),
      "invalid_grant",
    );
    await expectError(await dpopTokenRequest(client, undefined, params), "invalid_grant");
    const ok = await dpopTokenRequest(client, key, params, {
      nonce: await serverNonce(client, key),
    });
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(familyIdOf((await json(ok)).refresh_token as string)).toBeTruthy();
  });

  it("a malformed dpop_jkt is refused at the authorization endpoint", async () => {
    const client = await registerPublicClient({ consent: "implicit" });
    const { challenge } = await pkce();
    const browser = new Browser();
    const res = await browser.get(
      `/authorize?${new URLSearchParams({
        response_type: "code",
        client_id: client.client_id,
        redirect_uri: REDIRECT_URI,
        scope: "openid",
        code_challenge: challenge,
        code_challenge_method: "S256",
        dpop_jkt: "not a thumbprint",
      })}`,
    );
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get("location") as string).searchParams.get("error")).toBe(
      "invalid_request",
    );
  });
});

describe("discovery and CORS", () => {
  it("advertises dpop_signing_alg_values_supported (RFC 9449 §5.1)", async () => {
    const meta = await json(await call("/.well-known/openid-configuration"));
    expect(meta.dpop_signing_alg_values_supported).toEqual([
      "ES256",
      "ES384",
      "PS256",
      "RS256",
      "Ed25519",
      "EdDSA",
    ]);
  });

  it("lets browser apps send DPoP and read DPoP-Nonce", async () => {
    const preflight = await call("/token", {
      method: "OPTIONS",
      headers: {
        Origin: "https://spa.example.test",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "dpop, content-type",
      },
    });
    expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("dpop");
    const client = await registerPublicClient();
    const res = await call("/token", {
      method: "POST",
      headers: {
        Origin: "https://spa.example.test",
        "Content-Type": "application/x-www-form-urlencoded",
        DPoP: await (await DpopKey.generate()).proof("POST", TOKEN_URL),
      },
      body: `grant_type=refresh_token&refresh_token=x&client_id=${client.client_id}`,
    });
    expect(res.headers.get("access-control-expose-headers")?.toLowerCase()).toContain("dpop-nonce");
  });
});
