import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import * as oauth from "oauth4webapi";
import * as openid from "openid-client";
import { beforeAll, describe, expect, it } from "vitest";
import { Browser } from "../support/browser";
import { REDIRECT_URI, registerUser, type TestUser } from "../support/fixtures";
import { adminCall, fetchWith, ISSUER } from "../support/http";
import { userSignsInAndAllows } from "../support/relying-party";

/**
 * The flow an MCP client runs against an API it has never seen (the MCP
 * authorization spec: RFC 9728, RFC 8414, Client ID Metadata Documents or
 * RFC 7591, RFC 8707, PKCE), end to end, with the libraries such clients are
 * built on: oauth4webapi and openid-client, each knowing only the API's URL.
 *
 *   401 from the API, with resource_metadata (RFC 9728 §5.1)
 *   → the API's protected-resource metadata (RFC 9728 §3): its authorization server
 *   → our authorization-server metadata (RFC 8414)
 *   → registration: a Client ID Metadata Document, or RFC 7591
 *   → code + PKCE with `resource` (RFC 8707), the user's pages driven by the test Browser
 *   → a token whose `aud` is that API; the API accepts it, another API refuses it
 *   → a refresh, for the same audience.
 *
 * The API is the protected-api fixture (a second Worker on ./resource-server),
 * the document host the metadata-host stand-in: the libraries' fetch is routed
 * to them and to our Worker by origin, so no request leaves workerd. Our
 * Worker runs with REGISTRATION=open and CLIENT_METADATA_DOCUMENTS=on, as an
 * MCP-facing deployment would.
 */

const MCP_DEPLOYMENT = { REGISTRATION: "open", CLIENT_METADATA_DOCUMENTS: "on" };
const API = "https://api.example.test";
/** The fixture's calendar API: its identifier has a path, its tokens must carry it as `aud`. */
const CALENDAR = `${API}/v1/calendar`;
const bindings = env as unknown as { PROTECTED_API: Fetcher; CLIENT_METADATA_FETCHER: Fetcher };

/** The "network": our Worker, the protected API, nothing else. */
const network = (url: string, options: oauth.CustomFetchOptions<string, unknown>) => {
  const request = new Request(url, options as RequestInit);
  const { origin } = new URL(url);
  if (origin === ISSUER) return fetchWith(MCP_DEPLOYMENT, request);
  if (origin === API) return bindings.PROTECTED_API.fetch(request);
  throw new Error(`no route to ${origin} in this test`);
};
const throughNetwork = { [oauth.customFetch]: network };

/** An MCP-facing browser: the pages of a deployment with documents and registration on. */
const mcpBrowser = () => new Browser({ env: MCP_DEPLOYMENT });

beforeAll(async () => {
  // The operator registered the calendar API as a resource (a rerun finds it there).
  const res = await adminCall("POST", "/admin/resources", {
    identifier: CALENDAR,
    name: "Calendar",
    scope: "api:read",
  });
  expect([201, 409], await res.clone().text()).toContain(res.status);
});

/** What the client learns from the API alone: the resource, and the authorization server to ask. */
async function discoverFromTheApi(): Promise<{
  resource: oauth.ResourceServer;
  as: oauth.AuthorizationServer;
}> {
  // 1. The first call carries no token: 401 with a bare challenge naming the metadata.
  const first = await network(`${CALENDAR}/events`, { method: "GET" } as never);
  expect(first.status).toBe(401);
  const header = first.headers.get("WWW-Authenticate") ?? "";
  const metadataUrl = /resource_metadata="([^"]+)"/.exec(header)?.[1];
  expect(metadataUrl, header).toBe(`${API}/.well-known/oauth-protected-resource/v1/calendar`);

  // 2. RFC 9728: the document, checked by the library (its resource must be the API's).
  const resource = await oauth.processResourceDiscoveryResponse(
    new URL(CALENDAR),
    await network(metadataUrl as string, { method: "GET" } as never),
  );
  expect(resource.resource).toBe(CALENDAR);
  expect(resource.authorization_servers).toEqual([ISSUER]);
  expect(resource.scopes_supported).toEqual(["api:read"]);

  // 3. RFC 8414 metadata of the authorization server the document names.
  const issuer = new URL(resource.authorization_servers?.[0] as string);
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...throughNetwork }),
  );
  expect(as.code_challenge_methods_supported).toContain("S256");
  expect(as.registration_endpoint).toBe(`${ISSUER}/register`);
  expect(as.client_id_metadata_document_supported).toBe(true);
  return { resource, as };
}

/** Calls the API as a client does, with the library's own request and challenge parsing. */
const callApi = (token: string, url: string) =>
  oauth.protectedResourceRequest(token, "GET", new URL(url), undefined, undefined, throughNetwork);

/** Both APIs' verdicts on a token for the calendar API. */
async function onlyTheCalendarAccepts(token: string, user: TestUser): Promise<void> {
  const claims = decodeJwt(token);
  expect(claims).toMatchObject({ aud: CALENDAR, sub: user.id });
  expect(String(claims.scope).split(" ")).toContain("api:read");
  const ok = await callApi(token, `${CALENDAR}/events`);
  expect(ok.status, await ok.clone().text()).toBe(200);
  expect(await ok.json()).toEqual({ sub: user.id, aud: CALENDAR });

  // The same token at another API (audience: our issuer) is refused, as RFC 6750 §3.1 says.
  const refusal = await callApi(token, `${API}/hono/read`).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(refusal).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
  const challenges = (refusal as oauth.WWWAuthenticateChallengeError).cause;
  expect(challenges[0]).toMatchObject({
    scheme: "bearer",
    parameters: { error: "invalid_token" },
  });
}

describe("an MCP client with a Client ID Metadata Document (oauth4webapi)", () => {
  it("goes from the API's 401 to a token for that API, which it accepts and another API refuses, and refreshes for the same audience", async () => {
    const user = await registerUser();
    const { resource, as } = await discoverFromTheApi();

    // 4. No registration: the client's id is the URL of its document (draft §3), served by its host.
    const clientId = `https://mcp-client-${crypto.randomUUID()}.example.test/oauth/client.json`;
    const published = await bindings.CLIENT_METADATA_FETCHER.fetch(
      "https://metadata-host.test/__publish",
      {
        method: "POST",
        body: JSON.stringify({
          url: clientId,
          status: 200,
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            client_id: clientId,
            client_name: "An MCP client",
            redirect_uris: [REDIRECT_URI],
            token_endpoint_auth_method: "none",
            grant_types: ["authorization_code", "refresh_token"],
            response_types: ["code"],
            scope: "offline_access api:read",
          }),
        }),
      },
    );
    expect(published.status).toBe(204);
    const client: oauth.Client = { client_id: clientId };

    // 5. Code + PKCE, naming the resource (RFC 8707 §2.1) and its scopes.
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint as string);
    url.search = new URLSearchParams({
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      scope: `offline_access ${resource.scopes_supported?.join(" ")}`,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      resource: resource.resource,
    }).toString();
    const params = oauth.validateAuthResponse(
      as,
      client,
      await userSignsInAndAllows(url, user, mcpBrowser()),
      state,
    );
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.None(),
        params,
        REDIRECT_URI,
        verifier,
        { additionalParameters: { resource: resource.resource }, ...throughNetwork },
      ),
    );
    expect(tokens.token_type).toBe("bearer");
    expect(decodeJwt(tokens.access_token).client_id).toBe(clientId);

    // 6. The API accepts it; another refuses it.
    await onlyTheCalendarAccepts(tokens.access_token, user);

    // 7. A refresh naming no resource: the grant's only one, so the same audience.
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(
        as,
        client,
        oauth.None(),
        tokens.refresh_token as string,
        throughNetwork,
      ),
    );
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    await onlyTheCalendarAccepts(refreshed.access_token, user);
  });
});

describe("an MCP client that registers with RFC 7591 (openid-client)", () => {
  it("registers, gets a token for the API the 401 named, which only that API accepts, and refreshes for the same audience", async () => {
    const user = await registerUser();
    const { resource } = await discoverFromTheApi();

    // 4. Dynamic registration at the endpoint our metadata names (discovery and RFC 7591 by the library).
    const config = await openid.dynamicClientRegistration(
      new URL(resource.authorization_servers?.[0] as string),
      {
        client_name: "An MCP client",
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        scope: "offline_access api:read",
      },
      openid.None(),
      { algorithm: "oauth2", [openid.customFetch]: network },
    );
    config[openid.customFetch] = network;
    const metadata = config.clientMetadata();
    expect(metadata.client_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(metadata.token_endpoint_auth_method).toBe("none");

    // 5. Code + PKCE with `resource`, at the authorization and the token endpoint.
    const verifier = openid.randomPKCECodeVerifier();
    const state = openid.randomState();
    const url = openid.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: "offline_access api:read",
      code_challenge: await openid.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      resource: resource.resource,
    });
    const tokens = await openid.authorizationCodeGrant(
      config,
      await userSignsInAndAllows(url, user, mcpBrowser()),
      { pkceCodeVerifier: verifier, expectedState: state },
      { resource: resource.resource },
    );

    // 6. The API accepts it (through openid-client's own resource request); another refuses it.
    const ok = await openid.fetchProtectedResource(
      config,
      tokens.access_token,
      new URL(`${CALENDAR}/events`),
      "GET",
    );
    expect(ok.status).toBe(200);
    await onlyTheCalendarAccepts(tokens.access_token, user);

    // 7. Refresh, naming the resource again (RFC 8707 §2.2), and once naming none.
    const named = await openid.refreshTokenGrant(config, tokens.refresh_token as string, {
      resource: resource.resource,
    });
    await onlyTheCalendarAccepts(named.access_token, user);
    const unnamed = await openid.refreshTokenGrant(config, named.refresh_token as string);
    await onlyTheCalendarAccepts(unnamed.access_token, user);
  });
});
