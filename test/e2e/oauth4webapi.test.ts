import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { Browser } from "../support/browser";
import {
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  registerPublicClient,
  registerUser,
  type TestUser,
} from "../support/fixtures";
import { fetchWith, ISSUER } from "../support/http";
import { throughWorker, userSignsInAndAllows } from "../support/relying-party";

/**
 * A certified relying-party library (oauth4webapi, OpenID Certified) against
 * the Worker, knowing nothing but the issuer: it reads discovery, builds the
 * request with its own PKCE and state, checks the authorization response
 * (RFC 9207 `iss` included), redeems the code, validates the ID token and its
 * signature through the JWKS, and calls userinfo. Only the user's part (the
 * login and consent pages) is driven by the test's Browser.
 *
 * workerd has no network here, so the library's fetch is routed to the
 * Worker's own fetch handler.
 */

async function discover(): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(ISSUER);
  const res = await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...throughWorker });
  return oauth.processDiscoveryResponse(issuer, res);
}

interface RelyingParty {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  auth: oauth.ClientAuth;
}

async function relyingParty(registered: RegisteredClient): Promise<RelyingParty> {
  const as = await discover();
  const client: oauth.Client = { client_id: registered.client_id };
  const auth = registered.client_secret
    ? oauth.ClientSecretBasic(registered.client_secret)
    : oauth.None();
  return { as, client, auth };
}

/** Authorization code + PKCE, the way oauth4webapi's documentation does it. */
async function codeFlow(rp: RelyingParty, user: TestUser, scope: string) {
  const { as, client, auth } = rp;
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();

  const url = new URL(as.authorization_endpoint as string);
  url.searchParams.set("client_id", client.client_id);
  url.searchParams.set("redirect_uri", REDIRECT_URI);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("scope", scope);
  url.searchParams.set("code_challenge", codeChallenge);
  url.searchParams.set("code_challenge_method", "S256");
  url.searchParams.set("state", state);
  url.searchParams.set("nonce", nonce);

  const callback = await userSignsInAndAllows(url, user);
  const params = oauth.validateAuthResponse(as, client, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    auth,
    params,
    REDIRECT_URI,
    codeVerifier,
    throughWorker,
  );
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: nonce,
    requireIdToken: true,
  });
  return { tokens, response, nonce };
}

describe("oauth4webapi completes the authorization code flow with PKCE from discovery alone", () => {
  it("with a confidential client (client_secret_basic): tokens, a verified ID token, userinfo", async () => {
    const registered = await registerClient({ token_endpoint_auth_method: "client_secret_basic" });
    const user = await registerUser({ name: "Certified User" });
    const rp = await relyingParty(registered);
    expect(rp.as.issuer).toBe(ISSUER);
    expect(rp.as.code_challenge_methods_supported).toEqual(["S256"]);

    const { tokens, response, nonce } = await codeFlow(rp, user, "openid profile offline_access");
    // The ID token's signature, checked against the JWKS found through discovery.
    await oauth.validateApplicationLevelSignature(rp.as, response, throughWorker);
    const idToken = oauth.getValidatedIdTokenClaims(tokens);
    expect(idToken).toMatchObject({
      iss: ISSUER,
      sub: user.id,
      aud: registered.client_id,
      nonce,
    });
    expect(typeof idToken?.auth_time).toBe("number");
    expect(tokens.token_type).toBe("bearer");
    expect(tokens.refresh_token).toBeTruthy();

    // The access token, as a resource server using the same library would check it (RFC 9068).
    const claims = await oauth.validateJwtAccessToken(
      rp.as,
      new Request("https://api.example.test/notes", {
        headers: { Authorization: `Bearer ${tokens.access_token}` },
      }),
      ISSUER,
      throughWorker,
    );
    expect(claims).toMatchObject({ sub: user.id, client_id: registered.client_id });

    const info = await oauth.processUserInfoResponse(
      rp.as,
      rp.client,
      user.id,
      await oauth.userInfoRequest(rp.as, rp.client, tokens.access_token, throughWorker),
    );
    expect(info).toMatchObject({
      sub: user.id,
      name: "Certified User",
      preferred_username: user.username,
    });
  });

  it("with a public client (PKCE, no secret), then refresh, introspection (by its API) and revocation", async () => {
    const registered = await registerPublicClient();
    const user = await registerUser();
    const rp = await relyingParty(registered);
    const { tokens } = await codeFlow(rp, user, "openid offline_access");
    const sub = oauth.getValidatedIdTokenClaims(tokens)?.sub;
    expect(sub).toBe(user.id);

    // OIDC Core §12.2: the library checks the refreshed ID token against the first one.
    const refreshed = await oauth.processRefreshTokenResponse(
      rp.as,
      rp.client,
      await oauth.refreshTokenGrantRequest(
        rp.as,
        rp.client,
        rp.auth,
        tokens.refresh_token as string,
        throughWorker,
      ),
    );
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).toBeTruthy();

    // RFC 7662 §2.1: a public client may not introspect; the API it calls (a
    // resource server, which authenticates) can, with the same library.
    await expect(
      oauth.processIntrospectionResponse(
        rp.as,
        rp.client,
        await oauth.introspectionRequest(
          rp.as,
          rp.client,
          rp.auth,
          refreshed.access_token,
          throughWorker,
        ),
      ),
    ).rejects.toMatchObject({ error: "invalid_client" });
    const api = await relyingParty(await registerClient({ resource_server: true }));
    const introspected = await oauth.processIntrospectionResponse(
      api.as,
      api.client,
      await oauth.introspectionRequest(
        api.as,
        api.client,
        api.auth,
        refreshed.access_token,
        throughWorker,
      ),
    );
    expect(introspected).toMatchObject({ active: true, sub: user.id });

    await oauth.processRevocationResponse(
      await oauth.revocationRequest(
        rp.as,
        rp.client,
        rp.auth,
        refreshed.refresh_token as string,
        throughWorker,
      ),
    );
    await expect(
      oauth.processRefreshTokenResponse(
        rp.as,
        rp.client,
        await oauth.refreshTokenGrantRequest(
          rp.as,
          rp.client,
          rp.auth,
          refreshed.refresh_token as string,
          throughWorker,
        ),
      ),
    ).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("recognises a refusal: access_denied comes back as an authorization response error", async () => {
    const registered = await registerClient();
    const user = await registerUser();
    const rp = await relyingParty(registered);
    const state = oauth.generateRandomState();
    const url = new URL(rp.as.authorization_endpoint as string);
    url.search = new URLSearchParams({
      client_id: registered.client_id,
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      scope: "openid",
      code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
      code_challenge_method: "S256",
      state,
    }).toString();
    const browser = new Browser();
    const login = await browser.get(url.toString());
    const consent = await browser.submit(await login.text(), {
      username: user.username,
      password: user.password,
    });
    const denied = await browser.submit(await consent.text(), { decision: "deny" });
    const callback = new URL(denied.headers.get("location") as string);
    const refusal = (() => {
      try {
        oauth.validateAuthResponse(rp.as, rp.client, callback, state);
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(oauth.AuthorizationResponseError);
    expect((refusal as oauth.AuthorizationResponseError).error).toBe("access_denied");
  });

  it("rejects an authorization response whose iss is not the issuer (RFC 9207 mix-up defence)", async () => {
    const registered = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const rp = await relyingParty(registered);
    const state = oauth.generateRandomState();
    const url = new URL(rp.as.authorization_endpoint as string);
    url.search = new URLSearchParams({
      client_id: registered.client_id,
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      scope: "openid",
      code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
      code_challenge_method: "S256",
      state,
    }).toString();
    const callback = await userSignsInAndAllows(url, user);
    expect(() => oauth.validateAuthResponse(rp.as, rp.client, callback, state)).not.toThrow();
    callback.searchParams.set("iss", "https://other-issuer.example");
    expect(() => oauth.validateAuthResponse(rp.as, rp.client, callback, state)).toThrow();
  });
});

describe("oauth4webapi registers itself (RFC 7591) and then uses the client it got", () => {
  /** The library's fetch, to a Worker whose REGISTRATION (and its token) are `overrides`. */
  const through = (overrides: Partial<Cloudflare.Env>) => ({
    [oauth.customFetch]: (url: string, options: oauth.CustomFetchOptions<string, unknown>) =>
      fetchWith(overrides, new Request(url, options as RequestInit)),
  });

  async function discoverWith(overrides: Partial<Cloudflare.Env>) {
    const issuer = new URL(ISSUER);
    const res = await oauth.discoveryRequest(issuer, {
      algorithm: "oauth2",
      ...through(overrides),
    });
    return oauth.processDiscoveryResponse(issuer, res);
  }

  it("open: a confidential client from registration_endpoint alone, through the code flow with PKCE to a verified ID token", async () => {
    const open = { REGISTRATION: "open" };
    const as = await discoverWith(open);
    expect(as.registration_endpoint).toBe(`${ISSUER}/register`);
    const registered = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        {
          client_name: "oauth4webapi",
          redirect_uris: [REDIRECT_URI],
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          scope: "openid offline_access",
        },
        through(open),
      ),
    );
    expect(registered.client_secret_expires_at).toBe(0);
    const client: oauth.Client = { client_id: registered.client_id };
    const rp = { as, client, auth: oauth.ClientSecretBasic(registered.client_secret as string) };
    const user = await registerUser();
    const { tokens, nonce } = await codeFlow(rp, user, "openid offline_access");
    expect(oauth.getValidatedIdTokenClaims(tokens)).toMatchObject({
      sub: user.id,
      aud: registered.client_id,
      nonce,
    });
    expect(tokens.refresh_token).toBeTruthy();
  });

  it("token: the library's initialAccessToken is the Bearer token; without it the library reports the 401", async () => {
    const initialAccessToken = "oauth4webapi-initial-access-token-0123456789";
    const mode = { REGISTRATION: "token", REGISTRATION_TOKEN: initialAccessToken };
    const as = await discoverWith(mode);
    const metadata = {
      client_name: "oauth4webapi public",
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: "none",
      scope: "openid",
    };
    await expect(
      oauth.processDynamicClientRegistrationResponse(
        await oauth.dynamicClientRegistrationRequest(as, metadata, through(mode)),
      ),
    ).rejects.toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    const registered = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(as, metadata, {
        ...through(mode),
        initialAccessToken,
      }),
    );
    expect(registered.token_endpoint_auth_method).toBe("none");
    expect(registered).not.toHaveProperty("client_secret");
    const rp = { as, client: { client_id: registered.client_id }, auth: oauth.None() };
    const { tokens } = await codeFlow(rp, await registerUser(), "openid");
    expect(tokens.access_token).toBeTruthy();
  });
});
