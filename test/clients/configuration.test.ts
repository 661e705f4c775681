import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  tokenRequest,
} from "../support/fixtures";
import { adminCall, DESCRIPTION_CHARSET, fetchWith, ISSUER, json } from "../support/http";

/**
 * The client configuration endpoint (RFC 7592): a client that registered
 * itself at /register reads, replaces and deletes its registration at
 * /register/<client_id> with the registration access token it got, and
 * nobody else can, or can tell which clients exist. The suite's env has
 * REGISTRATION=off; these requests run with it open (or token).
 */

const OPEN = { REGISTRATION: "open" };
const INITIAL_ACCESS_TOKEN = "initial-access-token-0123456789abcdef";
const TOKEN = { REGISTRATION: "token", REGISTRATION_TOKEN: INITIAL_ACCESS_TOKEN };

interface Registered extends RegisteredClient {
  registration_access_token: string;
  registration_client_uri: string;
}

const publicApp = {
  client_name: "MCP client",
  redirect_uris: [REDIRECT_URI],
  token_endpoint_auth_method: "none",
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  scope: "openid offline_access api:read",
  contacts: ["ops@example.test"],
};

async function register(
  metadata: Record<string, unknown> = publicApp,
  mode: Partial<Cloudflare.Env> = OPEN,
): Promise<Registered> {
  const res = await fetchWith(mode, "/register", {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      ...(mode === TOKEN ? { Authorization: `Bearer ${INITIAL_ACCESS_TOKEN}` } : {}),
    },
    body: JSON.stringify(metadata),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return json<Registered>(res);
}

/** A request to a client configuration endpoint, with a registration access token (or none). */
function manage(
  method: "GET" | "PUT" | "DELETE" | "POST",
  clientId: string,
  token: string | undefined,
  body?: unknown,
  mode: Partial<Cloudflare.Env> = OPEN,
): Promise<Response> {
  return fetchWith(mode, `/register/${clientId}`, {
    method,
    headers: {
      ...(token !== undefined ? { Authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

const read = (client: Registered) =>
  manage("GET", client.client_id, client.registration_access_token);

/** The metadata a client sends back in an update: what it registered, with its client_id. */
const metadataOf = (client: Registered, changes: Record<string, unknown> = {}) => {
  const {
    registration_access_token: _t,
    registration_client_uri: _u,
    client_id_issued_at: _i,
    client_secret: _s,
    client_secret_expires_at: _e,
    ...metadata
  } = client;
  return { ...metadata, ...changes };
};

/** A code request with a garbage code: invalid_grant means the client authenticated, invalid_client that it did not. */
async function authenticates(client: RegisteredClient): Promise<boolean> {
  const res = await tokenRequest(client, {
    grant_type: "authorization_code",
    code: "not-a-code",
    redirect_uri: REDIRECT_URI,
    code_verifier: "v".repeat(43),
  });
  const { error } = await json<{ error: string }>(res);
  expect(["invalid_grant", "invalid_client"]).toContain(error);
  return error === "invalid_grant";
}

async function expectUnauthorized(res: Response, withError = true) {
  expect(res.status).toBe(401);
  expect(res.headers.get("cache-control")).toBe("no-store");
  const body = await json<{ error: string; error_description: string }>(res);
  expect(body.error).toBe("invalid_token");
  expect(body.error_description).toMatch(DESCRIPTION_CHARSET);
  expect(res.headers.get("WWW-Authenticate")).toBe(
    withError
      ? 'Bearer realm="registration", error="invalid_token"'
      : 'Bearer realm="registration"',
  );
  return body;
}

describe("the registration response (RFC 7592 section 3)", () => {
  it("carries a registration access token and the client configuration endpoint; the registry keeps only the token's hash", async () => {
    const client = await register();
    expect(client.registration_access_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(client.registration_client_uri).toBe(`${ISSUER}/register/${client.client_id}`);
    const stored = (await env.CLIENTS.get(`client:${client.client_id}`)) as string;
    expect(stored).not.toContain(client.registration_access_token);
    const digest = new Uint8Array(
      await crypto.subtle.digest(
        "SHA-256",
        new TextEncoder().encode(client.registration_access_token),
      ),
    );
    const hex = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(stored).toContain(hex);
    // The admin API shows how the client came in, never the hash.
    const view = await json(await adminCall("GET", `/admin/clients/${client.client_id}`));
    expect(view.registration).toEqual({ via: "open", contacts: ["ops@example.test"] });
  });
});

describe("reading (RFC 7592 section 2.1)", () => {
  it("answers the client as registered, with the same token and URI, and no secret", async () => {
    const client = await register({
      ...publicApp,
      token_endpoint_auth_method: "client_secret_basic",
    });
    const res = await read(client);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const { client_secret: _s, client_secret_expires_at: _e, ...rest } = client;
    expect(await json(res)).toEqual(rest);
  });

  it("any number of reads, in parallel too, keep the token working (it is not rotated)", async () => {
    const client = await register();
    const all = await Promise.all(Array.from({ length: 8 }, () => read(client)));
    expect(all.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect((await read(client)).status).toBe(200);
  });
});

describe("who may manage a registration: only the holder of its token", () => {
  it("no token: 401 with a bare Bearer challenge", async () => {
    const client = await register();
    await expectUnauthorized(await manage("GET", client.client_id, undefined), false);
  });

  it("a wrong token, another client's, an administrator's client and an unknown client id all get the same 401, and nothing changes", async () => {
    const client = await register();
    const other = await register();
    const admins = await registerClient();
    const unknownId = "AAAAAAAAAAAAAAAAAAAAAA";
    const answers = [
      await manage("GET", client.client_id, `${client.registration_access_token}x`),
      await manage("GET", client.client_id, other.registration_access_token),
      await manage("PUT", client.client_id, other.registration_access_token, metadataOf(client)),
      await manage("DELETE", client.client_id, other.registration_access_token),
      await manage("GET", admins.client_id, other.registration_access_token),
      await manage("DELETE", admins.client_id, client.registration_access_token),
      await manage("GET", unknownId, client.registration_access_token),
      await manage("GET", "not a client id", client.registration_access_token),
    ];
    const bodies = [];
    for (const res of answers) bodies.push(await expectUnauthorized(res));
    // RFC 7592 §2.1 "MUST respond with HTTP 401": nothing tells a stranger which clients exist.
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect((await read(client)).status).toBe(200);
    expect((await adminCall("GET", `/admin/clients/${admins.client_id}`)).status).toBe(200);
  });

  it("REGISTRATION=off: the endpoint does not exist; a method it does not serve is 405", async () => {
    const client = await register();
    const off = await manage("GET", client.client_id, client.registration_access_token, undefined, {
      REGISTRATION: "off",
    });
    expect(off.status).toBe(404);
    const post = await manage("POST", client.client_id, client.registration_access_token, {});
    expect(post.status).toBe(405);
    expect(post.headers.get("Allow")).toBe("GET, PUT, DELETE, HEAD");
  });
});

describe("updating (RFC 7592 section 2.2)", () => {
  it("replaces the metadata: changed fields change, omitted ones are gone or back to registration's defaults; the token stays", async () => {
    const client = await register();
    const res = await manage("PUT", client.client_id, client.registration_access_token, {
      client_id: client.client_id,
      client_name: "Renamed client",
      redirect_uris: ["https://app.example.test/new-callback"],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      client_uri: "https://app.example.test",
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const updated = await json<Registered>(res);
    expect(updated).toMatchObject({
      client_id: client.client_id,
      client_name: "Renamed client",
      redirect_uris: ["https://app.example.test/new-callback"],
      scope: "openid", // omitted: registration's default
      client_uri: "https://app.example.test",
      client_id_issued_at: client.client_id_issued_at,
      registration_access_token: client.registration_access_token,
      registration_client_uri: client.registration_client_uri,
    });
    expect(updated).not.toHaveProperty("contacts"); // omitted: deleted
    expect(await json(await read(client))).toEqual(updated);
    const view = await json(await adminCall("GET", `/admin/clients/${client.client_id}`));
    expect(view).toMatchObject({
      client_name: "Renamed client",
      self_registered: true,
      registration: { via: "open", client_uri: "https://app.example.test" },
    });
  });

  it("keeps what an administrator set (lifetimes, refresh policy), which is not the client's to replace", async () => {
    const client = await register();
    const patched = await adminCall("PATCH", `/admin/clients/${client.client_id}`, {
      access_token_lifetime: 120,
      refresh_token: { idle_lifetime: 3600 },
    });
    expect(patched.status).toBe(200);
    const res = await manage(
      "PUT",
      client.client_id,
      client.registration_access_token,
      metadataOf(client, { client_name: "Still mine" }),
    );
    expect(res.status, await res.clone().text()).toBe(200);
    const view = await json(await adminCall("GET", `/admin/clients/${client.client_id}`));
    expect(view).toMatchObject({
      client_name: "Still mine",
      access_token_lifetime: 120,
      refresh_token: { idle_lifetime: 3600 },
      consent: "required",
    });
  });

  it("keeps every setting only an administrator chooses, and silent consent only for the same redirect URIs", async () => {
    const client = await register();
    const patched = await adminCall("PATCH", `/admin/clients/${client.client_id}`, {
      grants_end_with_session: "always",
      consent: "implicit",
    });
    expect(patched.status).toBe(200);
    const same = await manage(
      "PUT",
      client.client_id,
      client.registration_access_token,
      metadataOf(client, { client_name: "Same redirects" }),
    );
    expect(same.status, await same.clone().text()).toBe(200);
    expect(await json(await adminCall("GET", `/admin/clients/${client.client_id}`))).toMatchObject({
      grants_end_with_session: "always",
      consent: "implicit",
    });
    const moved = await manage(
      "PUT",
      client.client_id,
      client.registration_access_token,
      metadataOf(client, { redirect_uris: ["https://elsewhere.example.test/cb"] }),
    );
    expect(moved.status, await moved.clone().text()).toBe(200);
    expect(await json(await adminCall("GET", `/admin/clients/${client.client_id}`))).toMatchObject({
      grants_end_with_session: "always",
      consent: "required",
    });
  });

  it("a switch to a secret method shows the new secret once, and it works; a matching client_secret keeps it", async () => {
    const client = await register();
    const res = await manage(
      "PUT",
      client.client_id,
      client.registration_access_token,
      metadataOf(client, { token_endpoint_auth_method: "client_secret_basic" }),
    );
    expect(res.status, await res.clone().text()).toBe(200);
    const updated = await json<Registered>(res);
    expect(updated.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(updated.client_secret_expires_at).toBe(0);
    expect(await authenticates(updated)).toBe(true);
    // §2.2: a client_secret sent back must be the current one; it is kept, not replaced.
    const again = await manage("PUT", client.client_id, client.registration_access_token, {
      ...metadataOf(updated),
      client_secret: updated.client_secret,
    });
    expect(again.status, await again.clone().text()).toBe(200);
    expect(await json(again)).not.toHaveProperty("client_secret");
    expect(await authenticates(updated)).toBe(true);
  });

  const refusals: [string, (c: Registered) => Record<string, unknown>, string][] = [
    ["no client_id", (c) => metadataOf(c, { client_id: undefined }), "invalid_client_metadata"],
    [
      "another client_id",
      (c) => metadataOf(c, { client_id: "AAAAAAAAAAAAAAAAAAAAAA" }),
      "invalid_client_metadata",
    ],
    [
      "the registration access token in the body",
      (c) => metadataOf(c, { registration_access_token: c.registration_access_token }),
      "invalid_client_metadata",
    ],
    [
      "client_id_issued_at",
      (c) => metadataOf(c, { client_id_issued_at: 1 }),
      "invalid_client_metadata",
    ],
    [
      "a client_secret that is not the current one",
      (c) => metadataOf(c, { client_secret: "guess" }),
      "invalid_client_metadata",
    ],
    [
      "a bad redirect URI",
      (c) => metadataOf(c, { redirect_uris: ["http://evil.example/cb"] }),
      "invalid_redirect_uri",
    ],
    [
      "an administrator's setting",
      (c) => metadataOf(c, { consent: "implicit" }),
      "invalid_client_metadata",
    ],
    ["resource_server", (c) => metadataOf(c, { resource_server: true }), "invalid_client_metadata"],
    [
      "client_credentials after open registration",
      (c) =>
        metadataOf(c, {
          grant_types: ["client_credentials"],
          token_endpoint_auth_method: "client_secret_basic",
          redirect_uris: [],
          response_types: [],
        }),
      "invalid_client_metadata",
    ],
    ["an unsupported scope", (c) => metadataOf(c, { scope: "admin" }), "invalid_client_metadata"],
    [
      "a software statement",
      (c) => metadataOf(c, { software_statement: "e30.e30." }),
      "invalid_software_statement",
    ],
  ];
  for (const [what, body, error] of refusals) {
    it(`refuses ${what} (${error}), changing nothing`, async () => {
      const client = await register();
      const before = await env.CLIENTS.get(`client:${client.client_id}`);
      const res = await manage(
        "PUT",
        client.client_id,
        client.registration_access_token,
        body(client),
      );
      expect(res.status).toBe(400);
      const answer = await json<{ error: string; error_description: string }>(res);
      expect(answer.error, JSON.stringify(answer)).toBe(error);
      expect(answer.error_description).toMatch(DESCRIPTION_CHARSET);
      expect(await env.CLIENTS.get(`client:${client.client_id}`)).toBe(before);
    });
  }

  it("a client registered with the initial access token keeps its mode: client_credentials stays allowed", async () => {
    const metadata = {
      client_name: "Nightly sync",
      grant_types: ["client_credentials"],
      token_endpoint_auth_method: "client_secret_basic",
      scope: "api:read",
    };
    const client = await register(metadata, TOKEN);
    const res = await manage(
      "PUT",
      client.client_id,
      client.registration_access_token,
      { ...metadataOf(client), client_name: "Nightly sync v2" },
      TOKEN,
    );
    expect(res.status, await res.clone().text()).toBe(200);
    const ok = await tokenRequest(client, { grant_type: "client_credentials" });
    expect(ok.status, await ok.clone().text()).toBe(200);
  });
});

describe("deleting (RFC 7592 section 2.3)", () => {
  it("204; then the client, its secret and its token are gone", async () => {
    const client = await register({
      ...publicApp,
      token_endpoint_auth_method: "client_secret_basic",
    });
    expect(await authenticates(client)).toBe(true);
    const res = await manage("DELETE", client.client_id, client.registration_access_token);
    expect(res.status).toBe(204);
    await expectUnauthorized(await read(client));
    expect((await adminCall("GET", `/admin/clients/${client.client_id}`)).status).toBe(404);
    expect(await authenticates(client)).toBe(false);
    // A second delete is a 401 like any other unknown client.
    await expectUnauthorized(
      await manage("DELETE", client.client_id, client.registration_access_token),
    );
  });
});
