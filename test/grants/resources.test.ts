import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { Browser, pkce, signInAndAuthorize, type TokenSet } from "../support/browser";
import { DpopKey, dpopTokenRequest, dpopTokens, serverNonce } from "../support/dpop";
import {
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  registerUser,
  tokenRequest,
} from "../support/fixtures";
import { adminCall, DESCRIPTION_CHARSET, fetchWith, ISSUER, json } from "../support/http";
import { refreshOk, refreshRefused, rewriteFamily, storedFamily } from "../support/refresh";
import {
  newIdentifier,
  type RegisteredResource,
  registerResource,
  resourcePath,
} from "../support/resources";

/**
 * `resource` at the token endpoint (RFC 8707 section 2.2): the access
 * token's `aud` is one resource; a code or a refresh token may ask for any
 * one the grant covers; anything else is invalid_target and changes nothing.
 * Without `resource`: the grant's only resource, else the default audience.
 */

interface Code {
  client: RegisteredClient;
  code: string;
  verifier: string;
}

/** A signed-in user's authorization for `resources`, up to the code. */
async function codeFor(
  resources: string[],
  clientFields: Record<string, unknown> = {},
): Promise<Code> {
  const client = await registerClient({ consent: "implicit", ...clientFields });
  const user = await registerUser();
  const { verifier, challenge } = await pkce();
  const redirect = await signInAndAuthorize(new Browser(), client, user, {
    challenge,
    scope: "openid api:read offline_access",
    resources,
  });
  const code = redirect.searchParams.get("code");
  expect(code, redirect.toString()).toBeTruthy();
  return { client, code: code as string, verifier };
}

const redeem = ({ client, code, verifier }: Code, extra: Record<string, string> = {}) =>
  tokenRequest(client, {
    grant_type: "authorization_code",
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
    ...extra,
  });

async function redeemOk(code: Code, extra: Record<string, string> = {}): Promise<TokenSet> {
  const res = await redeem(code, extra);
  expect(res.status, await res.clone().text()).toBe(200);
  return json<TokenSet>(res);
}

async function expectError(res: Response, error: string): Promise<string> {
  const body = await json<{ error: string; error_description: string }>(res);
  expect(body.error, JSON.stringify(body)).toBe(error);
  expect(res.status).toBe(400);
  expect(body.error_description).toMatch(DESCRIPTION_CHARSET);
  return body.error_description;
}

const audOf = (token: string) => decodeJwt(token).aud;

describe("the authorization code (RFC 8707 section 2.2)", () => {
  it("gives the access token the named resource as its aud", async () => {
    const api = await registerResource();
    const tokens = await redeemOk(await codeFor([api.identifier]), { resource: api.identifier });
    expect(audOf(tokens.access_token)).toBe(api.identifier);
  });

  it("without resource, a grant for exactly one resource gets that one", async () => {
    const api = await registerResource();
    const tokens = await redeemOk(await codeFor([api.identifier]));
    expect(audOf(tokens.access_token)).toBe(api.identifier);
  });

  it("without resource, a grant for several resources (or none) gets the default audience: the issuer", async () => {
    const a = await registerResource();
    const b = await registerResource();
    expect(audOf((await redeemOk(await codeFor([a.identifier, b.identifier]))).access_token)).toBe(
      ISSUER,
    );
    expect(audOf((await redeemOk(await codeFor([]))).access_token)).toBe(ISSUER);
  });

  it("refuses a resource the grant does not cover with invalid_target, and the code stays usable", async () => {
    const granted = await registerResource();
    const other = await registerResource();
    const code = await codeFor([granted.identifier]);
    expect(
      await expectError(await redeem(code, { resource: other.identifier }), "invalid_target"),
    ).toMatch(/not one this grant/);
    const tokens = await redeemOk(code, { resource: granted.identifier });
    expect(audOf(tokens.access_token)).toBe(granted.identifier);
  });

  it("refuses an unregistered resource and two resources in one request, touching nothing", async () => {
    const api = await registerResource();
    const code = await codeFor([api.identifier]);
    await expectError(await redeem(code, { resource: newIdentifier() }), "invalid_target");
    const body = new URLSearchParams({
      grant_type: "authorization_code",
      code: code.code,
      redirect_uri: REDIRECT_URI,
      code_verifier: code.verifier,
      resource: api.identifier,
    });
    body.append("resource", api.identifier);
    const two = await fetchWith({}, "/token", {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Authorization: `Basic ${btoa(`${code.client.client_id}:${code.client.client_secret}`)}`,
      },
      body: body.toString(),
    });
    expect(await expectError(two, "invalid_target")).toMatch(/one resource/);
    await redeemOk(code, { resource: api.identifier });
  });

  it("issues tokens for a resource with that resource's lifetime", async () => {
    const api = await registerResource({ access_token_lifetime: 120 });
    const tokens = await redeemOk(await codeFor([api.identifier]), { resource: api.identifier });
    expect(tokens.expires_in).toBe(120);
    const claims = decodeJwt(tokens.access_token);
    expect((claims.exp as number) - (claims.iat as number)).toBe(120);
  });
});

describe("refresh (RFC 8707 section 2.2: any one resource the grant covers)", () => {
  async function twoResourceGrant(): Promise<{
    client: RegisteredClient;
    a: RegisteredResource;
    b: RegisteredResource;
    refreshToken: string;
  }> {
    const a = await registerResource({ name: "A" });
    const b = await registerResource({ name: "B" });
    const code = await codeFor([a.identifier, b.identifier]);
    const tokens = await redeemOk(code, { resource: a.identifier });
    expect(audOf(tokens.access_token)).toBe(a.identifier);
    return { client: code.client, a, b, refreshToken: tokens.refresh_token as string };
  }

  it("issues a token for each granted resource in turn, one audience per token", async () => {
    const { client, a, b, refreshToken } = await twoResourceGrant();
    const forB = await refreshOk(client, refreshToken, { resource: b.identifier });
    expect(audOf(forB.access_token)).toBe(b.identifier);
    const forA = await refreshOk(client, forB.refresh_token as string, { resource: a.identifier });
    expect(audOf(forA.access_token)).toBe(a.identifier);
    const unnamed = await refreshOk(client, forA.refresh_token as string);
    expect(audOf(unnamed.access_token)).toBe(ISSUER);
  });

  it("refuses a resource outside the grant with invalid_target and changes nothing", async () => {
    const { client, refreshToken } = await twoResourceGrant();
    const outside = await registerResource();
    const before = await storedFamily(refreshToken);
    const error = await refreshRefused(client, refreshToken, "invalid_target", {
      resource: outside.identifier,
    });
    expect(error.error_description).toMatch(DESCRIPTION_CHARSET);
    expect(await storedFamily(refreshToken)).toEqual(before);
    // The same token still refreshes: it was not rotated, and nothing was revoked.
    await refreshOk(client, refreshToken);
  });

  it("refuses an unregistered resource before the family is called", async () => {
    const { client, refreshToken } = await twoResourceGrant();
    const before = await storedFamily(refreshToken);
    await refreshRefused(client, refreshToken, "invalid_target", { resource: newIdentifier() });
    expect(await storedFamily(refreshToken)).toEqual(before);
  });

  it("keeps a one-resource grant's audience on refresh without resource", async () => {
    const api = await registerResource();
    const code = await codeFor([api.identifier]);
    const tokens = await redeemOk(code);
    const next = await refreshOk(code.client, tokens.refresh_token as string);
    expect(audOf(next.access_token)).toBe(api.identifier);
  });

  it("still refreshes a family made before resources existed (no resources field), for the default audience only", async () => {
    const api = await registerResource();
    const code = await codeFor([]);
    const tokens = await redeemOk(code);
    const refreshToken = tokens.refresh_token as string;
    await rewriteFamily(refreshToken, (state) => {
      if (state.status !== "active") throw new Error("active expected");
      const { resources: _r, senderConstrained: _s, ...grant } = state.grant;
      return { ...state, grant };
    });
    const next = await refreshOk(code.client, refreshToken);
    expect(audOf(next.access_token)).toBe(ISSUER);
    await refreshRefused(code.client, next.refresh_token as string, "invalid_target", {
      resource: api.identifier,
    });
  });

  it("cuts a one-resource grant's unnamed refresh to the resource's shorter lifetime", async () => {
    const api = await registerResource({ access_token_lifetime: 90 });
    const code = await codeFor([api.identifier]);
    const tokens = await redeemOk(code);
    expect(tokens.expires_in).toBe(90);
    const named = await refreshOk(code.client, tokens.refresh_token as string, {
      resource: api.identifier,
    });
    expect(named.expires_in).toBe(90);
  });
});

describe("resources that require sender-constrained tokens", () => {
  it("refuses a named request without a DPoP proof or certificate (invalid_request), and the code stays usable", async () => {
    const api = await registerResource({ require_sender_constrained: true });
    const code = await codeFor([api.identifier]);
    expect(
      await expectError(await redeem(code, { resource: api.identifier }), "invalid_request"),
    ).toMatch(/sender-constrained/);
    // Unnamed: the grant's only resource, so the same requirement, checked by the family.
    expect(await expectError(await redeem(code), "invalid_request")).toMatch(/sender-constrained/);
    const key = await DpopKey.generate();
    const tokens = await dpopTokens(code.client, key, {
      grant_type: "authorization_code",
      code: code.code,
      redirect_uri: REDIRECT_URI,
      code_verifier: code.verifier,
      resource: api.identifier,
    });
    expect(tokens.token_type).toBe("DPoP");
    const claims = decodeJwt(tokens.access_token);
    expect(claims.aud).toBe(api.identifier);
    expect(claims.cnf).toEqual({ jkt: key.jkt });
  });

  it("refuses such a refresh without proof and changes nothing; with a proof it is issued bound", async () => {
    const bound = await registerResource({ require_sender_constrained: true });
    const open = await registerResource();
    const code = await codeFor([open.identifier, bound.identifier]);
    const tokens = await redeemOk(code, { resource: open.identifier });
    const refreshToken = tokens.refresh_token as string;
    const before = await storedFamily(refreshToken);
    await refreshRefused(code.client, refreshToken, "invalid_request", {
      resource: bound.identifier,
    });
    expect(await storedFamily(refreshToken)).toEqual(before);
    const key = await DpopKey.generate();
    const nonce = await serverNonce(code.client, key);
    const res = await dpopTokenRequest(
      code.client,
      key,
      { grant_type: "refresh_token", refresh_token: refreshToken, resource: bound.identifier },
      { nonce },
    );
    expect(res.status, await res.clone().text()).toBe(200);
    const claims = decodeJwt((await json<TokenSet>(res)).access_token);
    expect(claims).toMatchObject({ aud: bound.identifier, cnf: { jkt: key.jkt } });
  });

  it("refuses a tightened policy on a grant made before it (checked against the registry as it is now)", async () => {
    const api = await registerResource();
    const code = await codeFor([api.identifier]);
    const tokens = await redeemOk(code);
    await adminCall("PATCH", resourcePath(api.identifier), { require_sender_constrained: true });
    await refreshRefused(code.client, tokens.refresh_token as string, "invalid_request", {
      resource: api.identifier,
    });
  });

  it("refuses a refresh naming no resource the same way, before anything rotates: the token still works once allowed", async () => {
    const api = await registerResource();
    const code = await codeFor([api.identifier]);
    const tokens = await redeemOk(code);
    const refreshToken = tokens.refresh_token as string;
    await adminCall("PATCH", resourcePath(api.identifier), { require_sender_constrained: true });
    const before = JSON.stringify(await storedFamily(refreshToken));
    await refreshRefused(code.client, refreshToken, "invalid_request");
    expect(JSON.stringify(await storedFamily(refreshToken))).toBe(before);
    await adminCall("PATCH", resourcePath(api.identifier), { require_sender_constrained: false });
    const next = await refreshOk(code.client, refreshToken);
    expect(audOf(next.access_token)).toBe(api.identifier);
  });

  it("refuses a refresh naming no resource once the grant's only resource is deleted, before anything rotates", async () => {
    const api = await registerResource();
    const code = await codeFor([api.identifier]);
    const tokens = await redeemOk(code);
    const refreshToken = tokens.refresh_token as string;
    expect((await adminCall("DELETE", resourcePath(api.identifier))).status).toBe(204);
    const before = JSON.stringify(await storedFamily(refreshToken));
    await refreshRefused(code.client, refreshToken, "invalid_target");
    expect(JSON.stringify(await storedFamily(refreshToken))).toBe(before);
  });
});

describe("client_credentials (RFC 8707 section 2.2: for all grant types)", () => {
  const machine = (resources: string[]) =>
    registerClient({
      grant_types: ["client_credentials"],
      redirect_uris: [],
      scope: "api:read",
      resources,
    });

  it("issues a token for a resource the client is registered for", async () => {
    const api = await registerResource({ access_token_lifetime: 300 });
    const client = await machine([api.identifier]);
    const res = await tokenRequest(client, {
      grant_type: "client_credentials",
      resource: api.identifier,
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const tokens = await json<TokenSet>(res);
    expect(audOf(tokens.access_token)).toBe(api.identifier);
    expect(tokens.expires_in).toBe(300);
  });

  it("refuses a registered resource the client may not use, and an unknown one, with invalid_target", async () => {
    const api = await registerResource();
    const other = await registerResource();
    const client = await machine([api.identifier]);
    const notAllowed = await tokenRequest(client, {
      grant_type: "client_credentials",
      resource: other.identifier,
    });
    expect(await expectError(notAllowed, "invalid_target")).toMatch(
      /not registered for this resource/,
    );
    const unknown = await tokenRequest(client, {
      grant_type: "client_credentials",
      resource: newIdentifier(),
    });
    await expectError(unknown, "invalid_target");
  });

  it("without resource, or with no resources registered, gets the default audience", async () => {
    const client = await machine([]);
    const res = await tokenRequest(client, { grant_type: "client_credentials" });
    expect(audOf((await json<TokenSet>(res)).access_token)).toBe(ISSUER);
  });
});

describe("DEFAULT_AUDIENCE", () => {
  it("is the aud of a token whose request named no resource, when the operator sets it", async () => {
    const client = await registerClient({
      grant_types: ["client_credentials"],
      redirect_uris: [],
      scope: "api:read",
    });
    const res = await fetchWith({ DEFAULT_AUDIENCE: "https://default.example.test/" }, "/token", {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Authorization: `Basic ${btoa(`${client.client_id}:${client.client_secret}`)}`,
      },
      body: "grant_type=client_credentials",
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(audOf((await json<TokenSet>(res)).access_token)).toBe("https://default.example.test/");
  });

  it("a value that is no absolute URI is a configuration error, never a token", async () => {
    const res = await fetchWith({ DEFAULT_AUDIENCE: "not a uri" }, "/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials",
    });
    expect(res.status).toBe(500);
    expect((await json(res)).error_description).toMatch(/DEFAULT_AUDIENCE/);
  });
});

describe("scopes per resource (RFC 8707 section 2.2: downscoping)", () => {
  it("puts a resource's scopes only into tokens for it, on the code and on each refresh, and reports the effective scope", async () => {
    const reader = await registerResource({ scope: "api:read" });
    const writer = await registerResource({ scope: "api:write" });
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const { verifier, challenge } = await pkce();
    const redirect = await signInAndAuthorize(new Browser(), client, user, {
      challenge,
      scope: "openid api:read api:write offline_access",
      resources: [reader.identifier, writer.identifier],
    });
    const code = {
      client,
      code: redirect.searchParams.get("code") as string,
      verifier,
    };
    const first = await redeemOk(code, { resource: reader.identifier });
    expect(first.scope).toBe("openid api:read offline_access");
    expect(decodeJwt(first.access_token).scope).toBe("openid api:read offline_access");

    const forWriter = await refreshOk(client, first.refresh_token as string, {
      resource: writer.identifier,
    });
    expect(forWriter.scope).toBe("openid api:write offline_access");
    // Neither resource named: the default audience gets neither resource's scopes.
    const unnamed = await refreshOk(client, forWriter.refresh_token as string);
    expect(audOf(unnamed.access_token)).toBe(ISSUER);
    expect(unnamed.scope).toBe("openid offline_access");
    // Narrowing per resource (RFC 6749 section 6): within the grant, then within the resource.
    const narrowed = await refreshOk(client, unnamed.refresh_token as string, {
      resource: writer.identifier,
      scope: "api:read api:write",
    });
    expect(narrowed.scope).toBe("api:write");
    // The grant keeps its whole scope: the reader's scope comes back for the reader.
    const again = await refreshOk(client, narrowed.refresh_token as string, {
      resource: reader.identifier,
    });
    expect(again.scope).toBe("openid api:read offline_access");
  });

  it("client_credentials: only the named resource's scopes, and invalid_target when nothing is left for the audience", async () => {
    const reader = await registerResource({ scope: "api:read" });
    const writer = await registerResource({ scope: "api:write" });
    const client = await registerClient({
      grant_types: ["client_credentials"],
      redirect_uris: [],
      scope: "api:read api:write",
      resources: [reader.identifier, writer.identifier],
    });
    const res = await tokenRequest(client, {
      grant_type: "client_credentials",
      resource: writer.identifier,
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await json<TokenSet>(res)).scope).toBe("api:write");
    const none = await tokenRequest(client, { grant_type: "client_credentials" });
    expect(await expectError(none, "invalid_target")).toMatch(/another resource/);
  });
});
