import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { beforeEach, describe, expect, it, vi } from "vitest";
import {
  authorizationCode,
  expectTokenError,
  isConsentPage,
  redeemCode,
  signIn,
} from "../support/authorize";
import { Browser, pkce } from "../support/browser";
import {
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  registerUser,
  tokenRequest,
} from "../support/fixtures";
import {
  adminCall,
  call,
  DESCRIPTION_CHARSET,
  fetchWith,
  ISSUER,
  json,
  withinOneRateWindow,
} from "../support/http";

/**
 * POST /register (RFC 7591), under each REGISTRATION mode: what a client may
 * register about itself, what it gets back (§3.2.1), every refusal (§3.2.2),
 * the initial access token of `token` mode, and the per-address limit
 * (REGISTRATION_LIMITER, a real Workers Rate Limiting binding). The suite's
 * own env has REGISTRATION=off, as wrangler.toml ships; tests turn it on per
 * request.
 */

const OPEN = { REGISTRATION: "open" };
const INITIAL_ACCESS_TOKEN = "initial-access-token-0123456789abcdef";
const TOKEN = { REGISTRATION: "token", REGISTRATION_TOKEN: INITIAL_ACCESS_TOKEN };

let addresses = 0;
const newAddress = () => `198.51.100.${++addresses}`;

function register(
  metadata: unknown,
  options: { env?: Partial<Cloudflare.Env>; headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetchWith(options.env ?? OPEN, "/register", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...options.headers },
    body: typeof metadata === "string" ? metadata : JSON.stringify(metadata),
  });
}

const publicApp = {
  client_name: "MCP Inspector",
  redirect_uris: [REDIRECT_URI],
  token_endpoint_auth_method: "none",
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  scope: "openid offline_access api:read",
};

async function registered(res: Response): Promise<RegisteredClient> {
  expect(res.status, await res.clone().text()).toBe(201);
  return json<RegisteredClient>(res);
}

/** How many clients the registry holds: a refusal must leave it as it was. */
async function clientCount(): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await env.CLIENTS.list({ prefix: "client:", ...(cursor ? { cursor } : {}) });
    count += page.keys.length;
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return count;
}

async function expectRegistrationError(res: Response, error: string, status = 400) {
  const body = await json<{ error: string; error_description: string }>(res);
  expect(body.error, JSON.stringify(body)).toBe(error);
  expect(res.status).toBe(status);
  expect(body.error_description).toMatch(DESCRIPTION_CHARSET);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return body;
}

describe("open registration creates a working client (RFC 7591 section 3.2.1)", () => {
  it("a public client: 201, its id and metadata, no secret; then the code flow with PKCE and a refresh", async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await register({
      ...publicApp,
      client_uri: "https://inspector.example.test",
      logo_uri: "https://inspector.example.test/logo.png",
      contacts: ["ops@example.test"],
      software_id: "mcp-inspector",
      software_version: "1.2.3",
    });
    expect(res.headers.get("cache-control")).toBe("no-store");
    const client = await registered(res);
    expect(client).toMatchObject({
      client_name: "MCP Inspector",
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      scope: "openid offline_access api:read",
      client_uri: "https://inspector.example.test",
      logo_uri: "https://inspector.example.test/logo.png",
      contacts: ["ops@example.test"],
      software_id: "mcp-inspector",
      software_version: "1.2.3",
      id_token_signed_response_alg: "RS256",
      dpop_bound_access_tokens: false,
    });
    expect(client.client_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(client.client_id_issued_at as number).toBeGreaterThanOrEqual(before);
    expect(client).not.toHaveProperty("client_secret");
    expect(client).not.toHaveProperty("client_secret_expires_at");

    const user = await registerUser();
    // consent is always asked of a self-registered client: authorizationCode
    // goes through the consent page (it would fail on an implicit redirect too).
    const { code, verifier } = await authorizationCode(client, user, {
      scope: "openid offline_access api:read",
    });
    const tokens = await json<Record<string, string>>(await redeemCode(client, code, verifier));
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.refresh_token).toMatch(/^rt1\./);
    const refreshed = await tokenRequest(client, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
    });
    expect(refreshed.status).toBe(200);
  });

  it("a confidential client: its secret once, client_secret_expires_at 0, and client_credentials works (with an initial access token)", async () => {
    const metadata = {
      client_name: "Nightly sync",
      grant_types: ["client_credentials"],
      token_endpoint_auth_method: "client_secret_basic",
      scope: "api:read",
    };
    // Open registration gives user grants only: a client nobody vouched for
    // must not mint tokens without a user.
    const open = await register(metadata);
    expect(open.status).toBe(400);
    expect((await json(open)).error).toBe("invalid_client_metadata");
    const client = await registered(
      await register(metadata, {
        env: TOKEN,
        headers: { Authorization: `Bearer ${INITIAL_ACCESS_TOKEN}` },
      }),
    );
    expect(client.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(client.client_secret_expires_at).toBe(0);
    expect(client.response_types).toEqual([]);
    const res = await tokenRequest(client, { grant_type: "client_credentials" });
    expect(res.status, await res.clone().text()).toBe(200);
    // No registered API's audience without an administrator: the default one (here the issuer).
    const token = await json<{ access_token: string }>(res);
    expect(decodeJwt(token.access_token)).toMatchObject({
      aud: ISSUER,
      sub: client.client_id,
      scope: "api:read",
    });
    // The secret is the one shown: a wrong one is refused.
    const wrong = await tokenRequest(
      { ...client, client_secret: `${client.client_secret}x` },
      { grant_type: "client_credentials" },
    );
    await expectTokenError(wrong, "invalid_client", 401);
  });

  it("applies RFC 7591's defaults (authorization_code only, client_secret_basic) and ignores metadata it does not know", async () => {
    const client = await registered(
      await register({
        client_name: "Defaults",
        redirect_uris: [REDIRECT_URI],
        "client_name#ja-Jpan-JP": "デフォルト",
        x_vendor_extension: { anything: true },
      }),
    );
    expect(client.grant_types).toEqual(["authorization_code"]);
    expect(client.token_endpoint_auth_method).toBe("client_secret_basic");
    expect(client.scope).toBe("openid");
    expect(client.client_secret).toBeTruthy();
    expect(client).not.toHaveProperty("x_vendor_extension");
  });

  it("marks the client as self-registered for the admin API, with consent required and no resource-server rights", async () => {
    const client = await registered(await register(publicApp));
    const view = await json(await adminCall("GET", `/admin/clients/${client.client_id}`));
    expect(view).toMatchObject({
      self_registered: true,
      registration: { via: "open" },
      consent: "required",
      resource_server: false,
    });
    const admins = await json(
      await adminCall("POST", "/admin/clients", {
        client_name: "Admin-made",
        redirect_uris: [REDIRECT_URI],
      }),
    );
    expect(admins.self_registered).toBe(false);
    // An administrator's change keeps the mark.
    const patched = await json(
      await adminCall("PATCH", `/admin/clients/${client.client_id}`, { client_name: "Renamed" }),
    );
    expect(patched).toMatchObject({ client_name: "Renamed", self_registered: true });
  });

  it("registers logout metadata (RP-Initiated and Back-Channel Logout) and shows it back as registered", async () => {
    const logout = {
      post_logout_redirect_uris: ["https://app.example.test/bye"],
      backchannel_logout_uri: "https://app.example.test/backchannel-logout",
      backchannel_logout_session_required: true,
    };
    const client = await registered(await register({ ...publicApp, ...logout }));
    expect(client).toMatchObject(logout);
    const view = await json(await adminCall("GET", `/admin/clients/${client.client_id}`));
    expect(view).toMatchObject(logout);
  });

  it("every registration gets a new client id, even of identical metadata sent at once", async () => {
    const all = await Promise.all(
      Array.from({ length: 8 }, () => register(publicApp).then(registered)),
    );
    expect(new Set(all.map((c) => c.client_id)).size).toBe(8);
  });
});

describe("refusals (RFC 7591 section 3.2.2), none of which writes a client", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    [
      "an http redirect URI",
      { redirect_uris: ["http://app.example.test/cb"] },
      "invalid_redirect_uri",
    ],
    [
      "a redirect URI with a fragment",
      { redirect_uris: [`${REDIRECT_URI}#x`] },
      "invalid_redirect_uri",
    ],
    ["a relative redirect URI", { redirect_uris: ["/callback"] }, "invalid_redirect_uri"],
    ["no redirect URI for authorization_code", { redirect_uris: [] }, "invalid_redirect_uri"],
    ["consent implicit", { consent: "implicit" }, "invalid_client_metadata"],
    [
      "consent required (an administrator's setting all the same)",
      { consent: "required" },
      "invalid_client_metadata",
    ],
    ["resource_server", { resource_server: true }, "invalid_client_metadata"],
    ["a lifetime", { access_token_lifetime: 86400 }, "invalid_client_metadata"],
    [
      "resources for client_credentials",
      { resources: ["https://api.example.test"] },
      "invalid_client_metadata",
    ],
    [
      "a refresh policy",
      { refresh_token: { absolute_lifetime: 315360000 } },
      "invalid_client_metadata",
    ],
    [
      "client_credentials for a public client",
      { grant_types: ["client_credentials"], redirect_uris: [] },
      "invalid_client_metadata",
    ],
    ["an unknown grant type", { grant_types: ["password"] }, "invalid_client_metadata"],
    ["a response type other than code", { response_types: ["token"] }, "invalid_client_metadata"],
    [
      "a scope the provider does not support",
      { scope: "openid admin:all" },
      "invalid_client_metadata",
    ],
    ["an unknown auth method", { token_endpoint_auth_method: "magic" }, "invalid_client_metadata"],
    [
      "private_key_jwt without keys",
      { token_endpoint_auth_method: "private_key_jwt" },
      "invalid_client_metadata",
    ],
    [
      "jwks_uri (keys by reference)",
      { token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://app.example.test/jwks" },
      "invalid_client_metadata",
    ],
    ["no client_name", { client_name: undefined }, "invalid_client_metadata"],
    [
      "an http logo_uri",
      { logo_uri: "http://app.example.test/logo.png" },
      "invalid_client_metadata",
    ],
    ["contacts that are not strings", { contacts: [42] }, "invalid_client_metadata"],
    [
      "an http backchannel_logout_uri",
      { backchannel_logout_uri: "http://app.example.test/logout" },
      "invalid_client_metadata",
    ],
    [
      "a backchannel_logout_uri with a fragment",
      { backchannel_logout_uri: "https://app.example.test/logout#x" },
      "invalid_client_metadata",
    ],
    [
      "a backchannel_logout_session_required that is not a boolean",
      { backchannel_logout_session_required: "yes" },
      "invalid_client_metadata",
    ],
    ["a client_id of its choosing", { client_id: "my-own-id" }, "invalid_client_metadata"],
    [
      "a software statement",
      { software_statement: "eyJhbGciOiJub25lIn0.e30." },
      "invalid_software_statement",
    ],
  ];
  for (const [what, change, error] of cases) {
    it(`${what}: ${error}`, async () => {
      const before = await clientCount();
      await expectRegistrationError(await register({ ...publicApp, ...change }), error);
      expect(await clientCount()).toBe(before);
    });
  }

  it("a body that is not a JSON object, or not JSON at all", async () => {
    const before = await clientCount();
    await expectRegistrationError(await register("[1,2]"), "invalid_client_metadata");
    await expectRegistrationError(await register("{not json"), "invalid_request");
    const form = await fetchWith(OPEN, "/register", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "client_name=x",
    });
    await expectRegistrationError(form, "invalid_request");
    expect(await clientCount()).toBe(before);
  });

  it("a browser app may register: the preflight and the answer carry CORS headers", async () => {
    const preflight = await fetchWith(OPEN, "/register", {
      method: "OPTIONS",
      headers: {
        Origin: "https://inspector.example.test",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    const res = await register(publicApp, {
      headers: { Origin: "https://inspector.example.test" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("a wrong method is 405 with Allow: POST", async () => {
    const res = await fetchWith(OPEN, "/register");
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
  });
});

describe("REGISTRATION modes", () => {
  const discovery = async (overrides: Partial<Cloudflare.Env>) =>
    json(await fetchWith(overrides, "/.well-known/oauth-authorization-server"));

  it("off (wrangler.toml's value): /register is 404 and discovery names no registration_endpoint", async () => {
    const before = await clientCount();
    const res = await call("/register", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(publicApp),
    });
    await expectRegistrationError(res, "not_found", 404);
    expect(await discovery({})).not.toHaveProperty("registration_endpoint");
    expect(await clientCount()).toBe(before);
  });

  it("open: discovery names the endpoint, in both documents", async () => {
    expect((await discovery(OPEN)).registration_endpoint).toBe(`${ISSUER}/register`);
    const oidc = await json(await fetchWith(OPEN, "/.well-known/openid-configuration"));
    expect(oidc.registration_endpoint).toBe(`${ISSUER}/register`);
  });

  it("token: without the initial access token, or with a wrong one, 401 invalid_token and nothing written; with it, 201", async () => {
    expect((await discovery(TOKEN)).registration_endpoint).toBe(`${ISSUER}/register`);
    const before = await clientCount();
    const none = await register(publicApp, { env: TOKEN });
    await expectRegistrationError(none, "invalid_token", 401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer /);
    for (const token of [`${INITIAL_ACCESS_TOKEN}x`, INITIAL_ACCESS_TOKEN.slice(0, -1), "x"]) {
      const wrong = await register(publicApp, {
        env: TOKEN,
        headers: { Authorization: `Bearer ${token}` },
      });
      const body = await expectRegistrationError(wrong, "invalid_token", 401);
      expect(body.error_description).not.toContain(token);
    }
    expect(await clientCount()).toBe(before);
    const client = await registered(
      await register(publicApp, {
        env: TOKEN,
        headers: { Authorization: `Bearer ${INITIAL_ACCESS_TOKEN}` },
      }),
    );
    const view = await json(await adminCall("GET", `/admin/clients/${client.client_id}`));
    expect(view.registration).toMatchObject({ via: "token" });
  });

  it("open ignores an Authorization header; token mode's token does not open the admin API", async () => {
    await registered(await register(publicApp, { headers: { Authorization: "Bearer whatever" } }));
    const admin = await fetchWith(TOKEN, "/admin/clients", {
      headers: { Authorization: `Bearer ${INITIAL_ACCESS_TOKEN}` },
    });
    expect(admin.status).toBe(401);
  });

  it("a misconfiguration refuses to run: an unknown mode, or token without a long enough REGISTRATION_TOKEN", async () => {
    // Each refusal is logged as an error, as it should be; kept out of the test output.
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    for (const overrides of [
      { REGISTRATION: "maybe" },
      { REGISTRATION: "token", REGISTRATION_TOKEN: undefined },
      { REGISTRATION: "token", REGISTRATION_TOKEN: "short-token" },
    ]) {
      const res = await register(publicApp, { env: overrides });
      const body = await expectRegistrationError(res, "server_error", 500);
      expect(body.error_description).toContain("REGISTRATION");
    }
    expect(errors).toHaveBeenCalledTimes(3);
    errors.mockRestore();
  });
});

describe("registrations per client address (REGISTRATION_LIMITER, 10 a minute)", () => {
  // Each test counts up to a limit: inside one of the limiter's minute windows.
  beforeEach(() => withinOneRateWindow(), 30_000);
  const limited = (
    address: string,
    env: Partial<Cloudflare.Env> = { ...OPEN, RATE_LIMITS: "on" },
  ) => register(publicApp, { env, headers: { "CF-Connecting-IP": address } });

  it("counts every attempt, refusals too: the 11th gets 429 with Retry-After and writes nothing; another address is not held back", async () => {
    const address = newAddress();
    for (let i = 0; i < 5; i++) expect((await limited(address)).status).toBe(201);
    for (let i = 0; i < 5; i++) {
      const bad = await register(
        { ...publicApp, redirect_uris: ["http://bad.example.test/"] },
        { env: { ...OPEN, RATE_LIMITS: "on" }, headers: { "CF-Connecting-IP": address } },
      );
      expect(bad.status).toBe(400);
    }
    const before = await clientCount();
    const over = await limited(address);
    await expectRegistrationError(over, "invalid_request", 429);
    expect(over.headers.get("retry-after")).toBe("60");
    expect((await limited(address)).status).toBe(429);
    expect(await clientCount()).toBe(before);
    expect((await limited(newAddress())).status).toBe(201);
  });

  it("is checked before the initial access token: guesses at it are limited too", async () => {
    const address = newAddress();
    const guess = (token: string) =>
      register(publicApp, {
        env: { ...TOKEN, RATE_LIMITS: "on" },
        headers: { "CF-Connecting-IP": address, Authorization: `Bearer ${token}` },
      });
    for (let i = 0; i < 10; i++) expect((await guess(`guess-${i}`)).status).toBe(401);
    expect((await guess(INITIAL_ACCESS_TOKEN)).status).toBe(429);
  });

  it("a parallel burst from one address gets at most ten clients", async () => {
    const address = newAddress();
    const before = await clientCount();
    const statuses = await Promise.all(Array.from({ length: 25 }, () => limited(address)));
    const created = statuses.filter((r) => r.status === 201).length;
    expect(created).toBeLessThanOrEqual(10);
    expect(statuses.every((r) => r.status === 201 || r.status === 429)).toBe(true);
    expect(await clientCount()).toBe(before + created);
  });

  it("RATE_LIMITS=off turns it off", async () => {
    const address = newAddress();
    for (let i = 0; i < 15; i++) expect((await limited(address, OPEN)).status).toBe(201);
  });
});

describe("the consent page of a self-registered client", () => {
  it("says the name is the client's own claim and shows where the answer goes; an administrator's client's page does not", async () => {
    const user = await registerUser();
    const { challenge } = await pkce();
    const self = await registered(
      await register({ ...publicApp, client_name: "Totally The Bank" }),
    );
    const page = await (
      await signIn(new Browser(), self, user, { scope: "openid", challenge })
    ).text();
    expect(isConsentPage(page)).toBe(true);
    expect(page).toContain("registered itself");
    expect(page).toContain(`<strong>${new URL(REDIRECT_URI).host}</strong>`);

    const native = await registered(
      await register({ ...publicApp, redirect_uris: ["com.example.app:/callback"] }),
    );
    const nativePage = await (
      await signIn(new Browser(), native, user, {
        scope: "openid",
        challenge,
        redirectUri: "com.example.app:/callback",
      })
    ).text();
    expect(nativePage).toContain("<strong>com.example.app</strong>");

    const adminMade = await registerClient();
    const own = await (await signIn(new Browser(), adminMade, user, { scope: "openid" })).text();
    expect(isConsentPage(own)).toBe(true);
    expect(own).not.toContain("registered itself");
  });
});
