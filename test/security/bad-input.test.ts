import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { LIMITS } from "../../src/config";
import {
  assertionParams,
  type ClientKey,
  clientKey,
  JWT_BEARER,
  signWithKey,
  signWithSecret,
} from "../support/assertions";
import {
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  registerPublicClient,
  type TestUser,
} from "../support/fixtures";
import { basic, call, formBody, ISSUER, json, postForm } from "../support/http";
import { refreshOk } from "../support/refresh";
import {
  bumpGeneration,
  expectErrorPage,
  expectErrorRedirect,
  expectJsonError,
  familySnapshot,
  flipAt,
  grantAndPendingCode,
  nonCanonical,
  rawPost,
  revocationEntries,
  streamed,
} from "../support/security";

/**
 * The bad-input matrix: every endpoint, every kind of malformed request.
 * Each row states the request and the one answer the RFCs give it; after
 * every row the test also checks that nothing changed (the live grant, the
 * unredeemed code, the revocation lists, the client registry, the user).
 *
 * Limits (src/config.ts LIMITS): form bodies 16 KiB (413), admin JSON 64 KiB
 * (413), a /authorize query 16 KiB (414), one header 8 KiB and all headers
 * 32 KiB (400).
 */

interface World {
  /** Confidential (client_secret_basic), grace window 0: the owner of the live grant and code. */
  owner: RegisteredClient;
  /** Another confidential client of the same provider. */
  other: RegisteredClient;
  /** A public client (PKCE, no secret). */
  publicClient: RegisteredClient;
  /** client_secret_post. */
  postClient: RegisteredClient;
  /** private_key_jwt, client_credentials only. */
  jwtClient: RegisteredClient;
  jwtKey: ClientKey;
  strangerKey: ClientKey;
  /** client_secret_jwt, client_credentials only. */
  hmacClient: RegisteredClient;
  user: TestUser;
  refreshToken: string;
  accessToken: string;
  idToken: string;
  grantFamily: string;
  code: string;
  verifier: string;
  codeFamily: string;
  /** Everything that must never appear in a response. */
  secrets: string[];
}

let w: World;

async function worldState(): Promise<string> {
  const clients = await env.CLIENTS.list({ prefix: "client:" });
  return JSON.stringify({
    grant: await familySnapshot(w.grantFamily),
    code: await familySnapshot(w.codeFamily),
    revocations: await revocationEntries(),
    clients: clients.keys.map((k) => k.name).sort(),
    records: await Promise.all(
      [w.owner, w.jwtClient].map((c) => env.CLIENTS.get(`client:${c.client_id}`)),
    ),
    user: await env.USER.getByName(w.user.id).view(),
  });
}

beforeAll(async () => {
  const { grant, code, verifier, codeFamily } = await grantAndPendingCode("openid api:read");
  const owner = grant.client;
  const jwtKey = await clientKey("ES256");
  const strangerKey = await clientKey("ES256");
  const ccOnly = { grant_types: ["client_credentials"], redirect_uris: [], scope: "api:read" };
  const [other, publicClient, postClient, jwtClient, hmacClient] = await Promise.all([
    registerClient(),
    registerPublicClient(),
    registerClient({ token_endpoint_auth_method: "client_secret_post" }),
    registerClient({
      ...ccOnly,
      token_endpoint_auth_method: "private_key_jwt",
      jwks: { keys: [jwtKey.publicJwk] },
    }),
    registerClient({ ...ccOnly, token_endpoint_auth_method: "client_secret_jwt" }),
  ]);
  w = {
    owner,
    other,
    publicClient,
    postClient,
    jwtClient,
    jwtKey,
    strangerKey,
    hmacClient,
    user: grant.user,
    refreshToken: grant.refreshToken,
    accessToken: grant.tokens.access_token,
    idToken: grant.tokens.id_token as string,
    grantFamily: grant.familyId,
    code,
    verifier,
    codeFamily,
    secrets: [],
  };
  w.secrets = [
    w.refreshToken,
    w.accessToken,
    w.idToken,
    w.code,
    w.verifier,
    owner.client_secret as string,
    other.client_secret as string,
    postClient.client_secret as string,
    hmacClient.client_secret as string,
    grant.user.password,
  ];
});

// ── how a row is sent and judged ─────────────────────────────────────────────

type Check = (res: Response) => Promise<void>;

interface Row {
  name: string;
  send: () => Promise<Response>;
  check: Check;
}

const FORM = { "Content-Type": "application/x-www-form-urlencoded" };
const ownerBasic = () => basic(w.owner.client_id, w.owner.client_secret as string);
const otherBasic = () => basic(w.other.client_id, w.other.client_secret as string);
const adminAuth = () => ({ Authorization: `Bearer ${env.ADMIN_TOKEN}` });
const asOwner = (path: string, params: Record<string, string>) =>
  postForm(path, params, { Authorization: ownerBasic() });
const asOther = (path: string, params: Record<string, string>) =>
  postForm(path, params, { Authorization: otherBasic() });
/** A raw form body, as the owner (so `&`, `=` and `%` reach the parser untouched). */
const rawAsOwner = (path: string, body: BodyInit, headers: Record<string, string> = FORM) =>
  rawPost(path, body, { Authorization: ownerBasic(), ...headers });
const refreshWith = (token: string, extra: Record<string, string> = {}) =>
  asOwner("/token", { grant_type: "refresh_token", refresh_token: token, ...extra });
const redeemWith = (code: string, extra: Record<string, string> = {}) =>
  asOwner("/token", {
    grant_type: "authorization_code",
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: w.verifier,
    ...extra,
  });
const clientCredentials = (params: Record<string, string>, headers: Record<string, string> = {}) =>
  postForm("/token", { grant_type: "client_credentials", ...params }, headers);
const jwtAuth = (assertion: string) => clientCredentials(assertionParams(assertion));
const adminJson = (method: string, path: string, body: string, type = "application/json") =>
  call(path, { method, headers: { ...adminAuth(), "Content-Type": type }, body });
const authorize = (params: Record<string, string>, init: RequestInit = {}) =>
  call(`/authorize?${new URLSearchParams(params)}`, { redirect: "manual", ...init });
const validAuthorize = (extra: Record<string, string> = {}) => ({
  client_id: w.owner.client_id,
  redirect_uri: REDIRECT_URI,
  response_type: "code",
  scope: "openid",
  state: "st-1",
  ...extra,
});

/** An OAuth JSON error; `headers` are checked too (a RegExp matches, a string is equal). */
const error =
  (status: number, code: string, headers: Record<string, string | RegExp> = {}): Check =>
  async (res) => {
    for (const [name, expected] of Object.entries(headers)) {
      const value = res.headers.get(name) ?? "";
      if (expected instanceof RegExp) expect(value).toMatch(expected);
      else expect(value).toBe(expected);
    }
    await expectJsonError(res, status, code, w.secrets);
  };
const badRequest = error(400, "invalid_request");
const badGrant = error(400, "invalid_grant");
/** RFC 6749 §5.2: a client that tried the Authorization header gets 401 and a Basic challenge. */
const badBasic = error(401, "invalid_client", { "WWW-Authenticate": /^Basic realm=/ });
const badClient = error(401, "invalid_client");
const tooLarge = error(413, "invalid_request");
const wrongMethod = (allow: string) =>
  error(405, "invalid_request", { Allow: allow.replace(/ /g, ", ") });
const page =
  (status: number): Check =>
  async (res) => {
    await expectErrorPage(res, status, w.secrets);
  };
const redirectError =
  (code: string, state = "st-1"): Check =>
  async (res) => {
    expectErrorRedirect(res, REDIRECT_URI, code, state);
    expect(new URL(res.headers.get("location") as string).searchParams.get("iss")).toBe(ISSUER);
  };
/** RFC 7009 §2.2: 200 whatever the token (invalid, unknown, someone else's). */
const revokeAnswered: Check = async (res) => {
  expect(res.status).toBe(200);
  expect(await res.text()).toBe("");
};
/** RFC 7662 §2.2: anything not live and visible to the caller is `{"active": false}` and no more. */
const inactive: Check = async (res) => {
  expect(res.status).toBe(200);
  expect(await json(res)).toEqual({ active: false });
};
const status =
  (expected: number): Check =>
  async (res) => {
    expect(res.status, await res.clone().text()).toBe(expected);
  };

function runRows(rows: Row[]): void {
  it.each(rows)("$name", async (row) => {
    const before = await worldState();
    await row.check(await row.send());
    expect(await worldState(), "a refused request changed state").toBe(before);
  });
}

const pad = (prefix: string, total: number) => prefix + "a".repeat(total - prefix.length);
const header8k = "h".repeat(LIMITS.maxHeaderBytes); // with its name, one byte over the limit
const latin1 = (bytes: number[]) => `Basic ${btoa(String.fromCharCode(...bytes))}`;

// ── the matrix ─────────────────────────────────────────────────────────────

describe("a wrong method is 405 invalid_request with an Allow header, on every endpoint", () => {
  const rows: [string, string, string][] = [
    ["GET", "/token", "POST"],
    ["PUT", "/token", "POST"],
    ["DELETE", "/revoke", "POST"],
    ["GET", "/revoke", "POST"],
    ["GET", "/introspect", "POST"],
    ["PATCH", "/introspect", "POST"],
    ["POST", "/.well-known/openid-configuration", "GET HEAD"],
    ["POST", "/.well-known/oauth-authorization-server", "GET HEAD"],
    ["DELETE", "/jwks", "GET HEAD"],
    ["PUT", "/userinfo", "GET POST HEAD"],
    ["PUT", "/authorize", "GET POST HEAD"],
    ["GET", "/login", "POST"],
    ["PUT", "/admin/clients", "GET POST HEAD"],
    ["POST", "/admin/users/00000000-0000-4000-8000-000000000000", "GET PATCH DELETE HEAD"],
  ];
  runRows(
    rows.map(([method, path, allow]) => ({
      name: `${method} ${path}`,
      send: () => call(path, { method, headers: path.startsWith("/admin") ? adminAuth() : {} }),
      check: wrongMethod(allow),
    })),
  );
});

describe("RFC 6749 §3.2: the token, revocation and introspection endpoints take application/x-www-form-urlencoded only", () => {
  const json = (o: Record<string, string>) => JSON.stringify(o);
  runRows([
    {
      name: "/token: a JSON body carrying the real refresh token",
      send: () =>
        rawAsOwner("/token", json({ grant_type: "refresh_token", refresh_token: w.refreshToken }), {
          "Content-Type": "application/json",
        }),
      check: badRequest,
    },
    {
      name: "/token: a form body labelled text/plain",
      send: () =>
        rawAsOwner(
          "/token",
          formBody({ grant_type: "refresh_token", refresh_token: w.refreshToken }),
          {
            "Content-Type": "text/plain",
          },
        ),
      check: badRequest,
    },
    {
      name: "/token: a form body with no Content-Type",
      send: () =>
        call("/token", {
          method: "POST",
          headers: { Authorization: ownerBasic() },
          body: new TextEncoder().encode(
            formBody({ grant_type: "refresh_token", refresh_token: w.refreshToken }),
          ),
        }),
      check: badRequest,
    },
    {
      name: "/token: multipart/form-data",
      send: () => {
        const data = new FormData();
        data.set("grant_type", "refresh_token");
        data.set("refresh_token", w.refreshToken);
        return call("/token", {
          method: "POST",
          headers: { Authorization: ownerBasic() },
          body: data,
        });
      },
      check: badRequest,
    },
    {
      name: "/token: a form in a charset other than UTF-8",
      send: () =>
        rawAsOwner(
          "/token",
          formBody({ grant_type: "refresh_token", refresh_token: w.refreshToken }),
          {
            "Content-Type": "application/x-www-form-urlencoded; charset=iso-8859-1",
          },
        ),
      check: badRequest,
    },
    {
      name: "/revoke: a JSON body carrying the real refresh token",
      send: () =>
        rawAsOwner("/revoke", json({ token: w.refreshToken }), {
          "Content-Type": "application/json",
        }),
      check: badRequest,
    },
    {
      name: "/introspect: a JSON body",
      send: () =>
        rawAsOwner("/introspect", json({ token: w.accessToken }), {
          "Content-Type": "application/json",
        }),
      check: badRequest,
    },
    {
      name: "/authorize: a POST with a JSON body is an error page",
      send: () =>
        call("/authorize", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: json(validAuthorize()),
        }),
      check: page(400),
    },
    {
      name: "/admin/clients: a form where JSON is expected",
      send: () =>
        adminJson("POST", "/admin/clients", "client_name=x", "application/x-www-form-urlencoded"),
      check: badRequest,
    },
    {
      name: "/admin/users: JSON labelled text/plain",
      send: () => adminJson("POST", "/admin/users", json({ username: "x" }), "text/plain"),
      check: badRequest,
    },
  ]);
});

describe("RFC 6749 §3.1: a parameter sent twice is invalid_request, even with the same value", () => {
  const twice = (path: string, body: string) => () => rawAsOwner(path, body);
  runRows([
    {
      name: "/token: grant_type twice",
      send: () =>
        twice(
          "/token",
          `grant_type=refresh_token&grant_type=refresh_token&refresh_token=${w.refreshToken}`,
        )(),
      check: badRequest,
    },
    {
      name: "/token: the real refresh token twice",
      send: () =>
        twice(
          "/token",
          `grant_type=refresh_token&refresh_token=${w.refreshToken}&refresh_token=${w.refreshToken}`,
        )(),
      check: badRequest,
    },
    {
      name: "/token: the real code twice",
      send: () =>
        twice(
          "/token",
          `grant_type=authorization_code&code=${w.code}&code=${w.code}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_verifier=${w.verifier}`,
        )(),
      check: badRequest,
    },
    {
      name: "/token: client_id twice (public client)",
      send: () =>
        rawPost(
          "/token",
          `grant_type=refresh_token&client_id=${w.publicClient.client_id}&client_id=${w.publicClient.client_id}&refresh_token=x`,
          FORM,
        ),
      check: badRequest,
    },
    {
      name: "/token: a name spelled twice, once percent-encoded",
      send: () =>
        twice(
          "/token",
          `grant_type=refresh_token&refresh%5Ftoken=${w.refreshToken}&refresh_token=${w.refreshToken}`,
        )(),
      check: badRequest,
    },
    {
      name: "/revoke: the real refresh token twice",
      send: () => twice("/revoke", `token=${w.refreshToken}&token=${w.refreshToken}`)(),
      check: badRequest,
    },
    {
      name: "/introspect: token twice",
      send: () => twice("/introspect", `token=${w.accessToken}&token=${w.refreshToken}`)(),
      check: badRequest,
    },
    {
      name: "/authorize: client_id twice is an error page (no redirect can be trusted)",
      send: () =>
        call(`/authorize?${new URLSearchParams(validAuthorize())}&client_id=${w.owner.client_id}`, {
          redirect: "manual",
        }),
      check: page(400),
    },
    {
      name: "/authorize: state twice is an error page",
      send: () =>
        call(`/authorize?${new URLSearchParams(validAuthorize())}&state=other`, {
          redirect: "manual",
        }),
      check: page(400),
    },
  ]);
});

describe("RFC 6749 §3.1: an empty parameter is an omitted one; a missing one is invalid_request", () => {
  runRows([
    { name: "/token: an empty body", send: () => rawAsOwner("/token", ""), check: badRequest },
    {
      name: "/token: grant_type with no value",
      send: () => rawAsOwner("/token", `grant_type=&refresh_token=${w.refreshToken}`),
      check: badRequest,
    },
    {
      name: "/token: grant_type=refresh_token with no refresh_token",
      send: () => asOwner("/token", { grant_type: "refresh_token" }),
      check: badRequest,
    },
    {
      name: "/token: an empty refresh_token",
      send: () => rawAsOwner("/token", "grant_type=refresh_token&refresh_token="),
      check: badRequest,
    },
    {
      name: "/token: authorization_code with no code",
      send: () =>
        asOwner("/token", { grant_type: "authorization_code", redirect_uri: REDIRECT_URI }),
      check: badRequest,
    },
    {
      name: "/token: the real code with no redirect_uri",
      send: () =>
        asOwner("/token", {
          grant_type: "authorization_code",
          code: w.code,
          code_verifier: w.verifier,
        }),
      check: badRequest,
    },
    {
      name: "/token: an unknown grant_type is unsupported_grant_type",
      send: () => asOwner("/token", { grant_type: "password", username: "u", password: "p" }),
      check: error(400, "unsupported_grant_type"),
    },
    {
      name: "/token: a public client with an empty client_id is invalid_client",
      send: () => rawPost("/token", "grant_type=refresh_token&client_id=&refresh_token=x", FORM),
      check: badClient,
    },
    { name: "/revoke: no token", send: () => asOwner("/revoke", {}), check: badRequest },
    {
      name: "/revoke: an empty token",
      send: () => rawAsOwner("/revoke", "token="),
      check: badRequest,
    },
    { name: "/introspect: no token", send: () => asOwner("/introspect", {}), check: badRequest },
    { name: "/authorize: no parameters at all", send: () => authorize({}), check: page(400) },
    {
      name: "/authorize: no response_type goes back to the client as invalid_request",
      send: () => authorize({ ...validAuthorize(), response_type: "" }),
      check: redirectError("invalid_request"),
    },
  ]);
});

describe("oversized requests are refused before they are read: bodies with 413, headers with 400", () => {
  const overForm = () =>
    pad(`grant_type=refresh_token&refresh_token=${w.refreshToken}&pad=`, LIMITS.maxFormBytes + 1);
  runRows([
    {
      name: `/token: a form of ${LIMITS.maxFormBytes + 1} bytes carrying the real refresh token`,
      send: () => rawAsOwner("/token", overForm()),
      check: tooLarge,
    },
    {
      name: "/token: the same form streamed, with no Content-Length",
      send: () =>
        call("/token", {
          method: "POST",
          headers: { ...FORM, Authorization: ownerBasic() },
          body: streamed(new TextEncoder().encode(overForm())),
        }),
      check: tooLarge,
    },
    {
      name: `/token: a form of exactly ${LIMITS.maxFormBytes} bytes is read (and refused for what it says)`,
      send: () => rawAsOwner("/token", pad("grant_type=nope&pad=", LIMITS.maxFormBytes)),
      check: error(400, "unsupported_grant_type"),
    },
    {
      name: "/revoke: an oversized form",
      send: () =>
        rawAsOwner("/revoke", pad(`token=${w.refreshToken}&pad=`, LIMITS.maxFormBytes + 1)),
      check: tooLarge,
    },
    {
      name: "/introspect: an oversized form",
      send: () => rawAsOwner("/introspect", pad("token=x&pad=", LIMITS.maxFormBytes + 1)),
      check: tooLarge,
    },
    {
      name: "/userinfo: an oversized form",
      send: () => rawPost("/userinfo", pad("access_token=x&pad=", LIMITS.maxFormBytes + 1), FORM),
      check: tooLarge,
    },
    {
      name: "/authorize: an oversized POST is an error page with 413",
      send: () =>
        call("/authorize", {
          method: "POST",
          headers: FORM,
          body: pad(`${new URLSearchParams(validAuthorize())}&pad=`, LIMITS.maxFormBytes + 1),
          redirect: "manual",
        }),
      check: page(413),
    },
    {
      name: "/authorize: an oversized query is an error page with 414",
      send: () => authorize(validAuthorize({ pad: "a".repeat(LIMITS.maxFormBytes) })),
      check: page(414),
    },
    {
      name: "/authorize: a state over 2048 characters is an error page, never echoed in a redirect",
      send: () => authorize(validAuthorize({ state: "s".repeat(2049) })),
      check: page(400),
    },
    {
      name: `/admin/clients: JSON of ${LIMITS.maxJsonBytes + 1} bytes`,
      send: () =>
        adminJson("POST", "/admin/clients", `{"client_name":"${"n".repeat(LIMITS.maxJsonBytes)}"}`),
      check: tooLarge,
    },
    {
      name: `/token: one header over ${LIMITS.maxHeaderBytes} bytes`,
      send: () =>
        rawAsOwner(
          "/token",
          formBody({ grant_type: "refresh_token", refresh_token: w.refreshToken }),
          {
            ...FORM,
            "X-Pad": header8k,
          },
        ),
      check: badRequest,
    },
    {
      name: `/authorize: one header over ${LIMITS.maxHeaderBytes} bytes`,
      send: () => authorize(validAuthorize(), { headers: { "X-Pad": header8k } }),
      check: badRequest,
    },
    {
      name: `/.well-known/openid-configuration: headers over ${LIMITS.maxTotalHeaderBytes} bytes in all`,
      send: () =>
        call("/.well-known/openid-configuration", {
          headers: Object.fromEntries(
            Array.from({ length: 5 }, (_, i) => [`x-pad-${i}`, "h".repeat(7000)]),
          ),
        }),
      check: badRequest,
    },
    {
      name: "/admin/clients: an admin bearer token over the header limit",
      send: () => call("/admin/clients", { headers: { Authorization: `Bearer ${header8k}` } }),
      check: badRequest,
    },
  ]);
});

describe("bytes that are not UTF-8 are invalid_request (an error page on /authorize)", () => {
  const bytes = (...parts: (string | number[])[]) => {
    const chunks = parts.map((p) =>
      typeof p === "string" ? new TextEncoder().encode(p) : new Uint8Array(p),
    );
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  };
  runRows([
    {
      name: "/token: a raw 0xFF byte in the body",
      send: () =>
        rawAsOwner(
          "/token",
          bytes("grant_type=refresh_token&scope=", [0xff], `&refresh_token=${w.refreshToken}`),
        ),
      check: badRequest,
    },
    {
      name: "/token: %FF percent-encoded",
      send: () =>
        rawAsOwner("/token", `grant_type=refresh_token&scope=%FF&refresh_token=${w.refreshToken}`),
      check: badRequest,
    },
    {
      name: "/token: an overlong encoding (%C0%AF)",
      send: () =>
        rawAsOwner("/token", `grant_type=refresh_token&refresh_token=${w.refreshToken}%C0%AF`),
      check: badRequest,
    },
    {
      name: "/token: a lone surrogate (%ED%A0%80)",
      send: () => rawAsOwner("/token", "grant_type=refresh_token&refresh_token=%ED%A0%80"),
      check: badRequest,
    },
    {
      name: "/token: a broken percent-escape (%G1)",
      send: () =>
        rawAsOwner("/token", `grant_type=refresh_token&refresh_token=${w.refreshToken}%G1`),
      check: badRequest,
    },
    {
      name: "/revoke: %FF in the token",
      send: () => rawAsOwner("/revoke", `token=${w.refreshToken}%FF`),
      check: badRequest,
    },
    {
      name: "/introspect: a raw 0xC3 byte cut short",
      send: () => rawAsOwner("/introspect", bytes("token=", [0xc3])),
      check: badRequest,
    },
    {
      name: "/authorize: %FF in the query is an error page",
      send: () =>
        call(`/authorize?${new URLSearchParams(validAuthorize())}&x=%FF`, { redirect: "manual" }),
      check: page(400),
    },
    {
      name: "/authorize: a POSTed form with a raw 0xFF byte is an error page",
      send: () =>
        call("/authorize", {
          method: "POST",
          headers: FORM,
          body: bytes(`${new URLSearchParams(validAuthorize())}&x=`, [0xff]),
          redirect: "manual",
        }),
      check: page(400),
    },
    {
      name: "/admin/users: JSON with a raw 0xFF byte",
      send: () =>
        call("/admin/users", {
          method: "POST",
          headers: { ...adminAuth(), "Content-Type": "application/json" },
          body: bytes('{"username":"', [0xff], '"}'),
        }),
      check: badRequest,
    },
  ]);
});

describe("RFC 6749 §6 and §5.2: a refresh token that is not exactly one we issued is invalid_grant", () => {
  runRows([
    {
      name: "truncated by one character",
      send: () => refreshWith(w.refreshToken.slice(0, -1)),
      check: badGrant,
    },
    { name: "cut in half", send: () => refreshWith(w.refreshToken.slice(0, 60)), check: badGrant },
    {
      name: "one character longer",
      send: () => refreshWith(`${w.refreshToken}A`),
      check: badGrant,
    },
    {
      name: "8 KiB long",
      send: () => refreshWith(w.refreshToken + "A".repeat(8192)),
      check: badGrant,
    },
    {
      name: "one character of the secret changed",
      send: () => refreshWith(flipAt(w.refreshToken, -30)),
      check: badGrant,
    },
    {
      name: "one character of the tag changed",
      send: () => refreshWith(flipAt(w.refreshToken, -5)),
      check: badGrant,
    },
    {
      name: "re-spelled in a non-canonical base64url that decodes to the same bytes",
      send: () => refreshWith(nonCanonical(w.refreshToken)),
      check: badGrant,
    },
    {
      name: "its family id changed",
      send: () => refreshWith(flipAt(w.refreshToken, 10)),
      check: badGrant,
    },
    {
      name: "its family id in upper case",
      send: () =>
        refreshWith(
          w.refreshToken.replace(/^rt1\.[0-9a-f]{64}/, (m) => `rt1.${m.slice(4).toUpperCase()}`),
        ),
      check: badGrant,
    },
    {
      name: "its generation raised, tag kept",
      send: () => refreshWith(bumpGeneration(w.refreshToken)),
      check: badGrant,
    },
    {
      name: "its prefix changed to a code's",
      send: () => refreshWith(w.refreshToken.replace(/^rt1/, "ac1")),
      check: badGrant,
    },
    { name: "wrapped in spaces", send: () => refreshWith(` ${w.refreshToken} `), check: badGrant },
    { name: "an access token instead", send: () => refreshWith(w.accessToken), check: badGrant },
    { name: "an ID token instead", send: () => refreshWith(w.idToken), check: badGrant },
    { name: "an authorization code instead", send: () => refreshWith(w.code), check: badGrant },
    {
      name: "the real refresh token, presented by another client",
      send: () => asOther("/token", { grant_type: "refresh_token", refresh_token: w.refreshToken }),
      check: badGrant,
    },
    {
      name: "the real refresh token with a scope beyond the grant is invalid_scope",
      send: () => refreshWith(w.refreshToken, { scope: "openid email" }),
      check: error(400, "invalid_scope"),
    },
    {
      name: "the real refresh token with a malformed scope is invalid_scope",
      send: () => refreshWith(w.refreshToken, { scope: 'openid "profile"' }),
      check: error(400, "invalid_scope"),
    },
  ]);
});

describe("RFC 6749 §4.1.3 and RFC 7636 §4.6: a code that is not exactly ours, for this client, with its verifier, is refused", () => {
  runRows([
    { name: "a truncated code", send: () => redeemWith(w.code.slice(0, -1)), check: badGrant },
    {
      name: "a code with a changed character",
      send: () => redeemWith(flipAt(w.code, -20)),
      check: badGrant,
    },
    {
      name: "a refresh token as the code",
      send: () => redeemWith(w.refreshToken),
      check: badGrant,
    },
    { name: "an access token as the code", send: () => redeemWith(w.accessToken), check: badGrant },
    {
      name: "the real code with another redirect_uri",
      send: () => redeemWith(w.code, { redirect_uri: "https://app.example.test/other" }),
      check: badGrant,
    },
    {
      name: "the real code with a wrong code_verifier",
      send: () => redeemWith(w.code, { code_verifier: "x".repeat(43) }),
      check: badGrant,
    },
    {
      name: "the real code with a malformed code_verifier is invalid_request",
      send: () => redeemWith(w.code, { code_verifier: "short" }),
      check: badRequest,
    },
    {
      name: "the real code, verifier and redirect_uri, presented by another client",
      send: () =>
        asOther("/token", {
          grant_type: "authorization_code",
          code: w.code,
          redirect_uri: REDIRECT_URI,
          code_verifier: w.verifier,
        }),
      check: badGrant,
    },
  ]);
});

describe("RFC 7009 §2.2: revocation answers 200 to tokens it cannot or may not revoke, and revokes nothing", () => {
  const revoke = (token: string) => () => asOwner("/revoke", { token });
  runRows([
    { name: "a truncated refresh token", send: revoke("rt1.abc"), check: revokeAnswered },
    {
      name: "a refresh token with a changed character",
      send: () => revoke(flipAt(w.refreshToken, -30))(),
      check: revokeAnswered,
    },
    {
      name: "a non-canonical spelling of the refresh token",
      send: () => revoke(nonCanonical(w.refreshToken))(),
      check: revokeAnswered,
    },
    { name: "an authorization code", send: () => revoke(w.code)(), check: revokeAnswered },
    { name: "an ID token", send: () => revoke(w.idToken)(), check: revokeAnswered },
    {
      name: "a truncated access token",
      send: () => revoke(w.accessToken.slice(0, -2))(),
      check: revokeAnswered,
    },
    { name: "garbage", send: revoke("not a token at all"), check: revokeAnswered },
    {
      name: "the real refresh token, sent by another client",
      send: () => asOther("/revoke", { token: w.refreshToken }),
      check: revokeAnswered,
    },
    {
      name: "the real access token, sent by another client",
      send: () => asOther("/revoke", { token: w.accessToken, token_type_hint: "access_token" }),
      check: revokeAnswered,
    },
  ]);
});

describe("RFC 7662 §2.2: introspection of anything not live and the caller's own is {active: false}", () => {
  const ask = (token: string) => () => asOwner("/introspect", { token });
  runRows([
    {
      name: "a refresh token with a changed character",
      send: () => ask(flipAt(w.refreshToken, -30))(),
      check: inactive,
    },
    {
      name: "a non-canonical spelling of the refresh token",
      send: () => ask(nonCanonical(w.refreshToken))(),
      check: inactive,
    },
    {
      name: "a truncated access token",
      send: () => ask(w.accessToken.slice(0, -2))(),
      check: inactive,
    },
    {
      name: "an access token with a changed signature",
      send: () => ask(flipAt(w.accessToken, -10))(),
      check: inactive,
    },
    { name: "an ID token", send: () => ask(w.idToken)(), check: inactive },
    { name: "an authorization code", send: () => ask(w.code)(), check: inactive },
    { name: "a 16 KiB string", send: () => ask("x".repeat(15_000))(), check: inactive },
    {
      name: "the real refresh token, asked by another (non resource server) client",
      send: () => asOther("/introspect", { token: w.refreshToken }),
      check: inactive,
    },
    {
      name: "the real access token, asked by another client",
      send: () => asOther("/introspect", { token: w.accessToken }),
      check: inactive,
    },
    {
      name: "a wrong token_type_hint changes nothing (the real refresh token stays active)",
      send: () =>
        asOwner("/introspect", { token: w.refreshToken, token_type_hint: "access_token" }),
      check: async (res) => {
        expect(res.status).toBe(200);
        expect(await json(res)).toMatchObject({ active: true, token_type: "refresh_token" });
      },
    },
  ]);
});

describe("RFC 6749 §2.3.1: a malformed or wrong Basic header is 401 invalid_client with a Basic challenge", () => {
  const withAuth = (authorization: string) => () =>
    rawPost("/token", formBody({ grant_type: "refresh_token", refresh_token: w.refreshToken }), {
      ...FORM,
      Authorization: authorization,
    });
  const b64 = (s: string) => btoa(s);
  runRows([
    { name: "the bare word Basic", send: withAuth("Basic"), check: badBasic },
    {
      name: "Basic with characters outside base64",
      send: withAuth("Basic !!!***"),
      check: badBasic,
    },
    { name: "Basic with broken base64 padding", send: withAuth("Basic YWJj=x"), check: badBasic },
    {
      name: "base64 without a colon",
      send: () => withAuth(`Basic ${b64(w.owner.client_id)}`)(),
      check: badBasic,
    },
    {
      name: "an empty client id",
      send: () => withAuth(`Basic ${b64(`:${w.owner.client_secret}`)}`)(),
      check: badBasic,
    },
    {
      name: "a malformed percent-escape in the id",
      send: () => withAuth(`Basic ${b64(`%ZZ:${w.owner.client_secret}`)}`)(),
      check: badBasic,
    },
    {
      name: "bytes that are not UTF-8",
      send: withAuth(latin1([0xff, 0xfe, 0x3a, 0x61])),
      check: badBasic,
    },
    {
      name: "two Basic credentials in one header",
      send: () => withAuth(`${ownerBasic()}, ${otherBasic()}`)(),
      check: badBasic,
    },
    {
      name: "the right id with a wrong secret",
      send: () => withAuth(basic(w.owner.client_id, "wrong-secret"))(),
      check: badBasic,
    },
    {
      name: "the right id with the secret truncated",
      send: () =>
        withAuth(basic(w.owner.client_id, (w.owner.client_secret as string).slice(0, -1)))(),
      check: badBasic,
    },
    {
      name: "an unknown client",
      send: withAuth(basic("no-such-client", "secret")),
      check: badBasic,
    },
    {
      name: "a client id that could never be registered",
      send: withAuth(basic("a/b c", "secret")),
      check: badBasic,
    },
    {
      name: "Basic and client_secret in the body together (two methods)",
      send: () =>
        postForm(
          "/token",
          { grant_type: "refresh_token", refresh_token: w.refreshToken, client_secret: "x" },
          { Authorization: ownerBasic() },
        ),
      check: badBasic,
    },
    {
      name: "a client_id in the body that is not the authenticated one",
      send: () =>
        postForm(
          "/token",
          {
            grant_type: "refresh_token",
            refresh_token: w.refreshToken,
            client_id: w.other.client_id,
          },
          { Authorization: ownerBasic() },
        ),
      check: badBasic,
    },
    {
      name: "Basic for a client registered for client_secret_post",
      send: () => withAuth(basic(w.postClient.client_id, w.postClient.client_secret as string))(),
      check: badBasic,
    },
    {
      name: "client_secret_post with the wrong secret (no header, so no challenge)",
      send: () =>
        postForm("/token", {
          grant_type: "refresh_token",
          refresh_token: w.refreshToken,
          client_id: w.postClient.client_id,
          client_secret: "wrong",
        }),
      check: badClient,
    },
    {
      name: "a confidential client that sends only its client_id",
      send: () =>
        postForm("/token", {
          grant_type: "refresh_token",
          refresh_token: w.refreshToken,
          client_id: w.owner.client_id,
        }),
      check: badClient,
    },
  ]);
});

describe("RFC 7523 §3: a client assertion that does not verify, or says the wrong thing, is 401 invalid_client", () => {
  const key = () => w.jwtKey;
  const id = () => w.jwtClient.client_id;
  const b64url = (o: unknown) =>
    btoa(JSON.stringify(o)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  runRows([
    {
      name: "(control) a valid assertion is accepted",
      send: async () => jwtAuth(await signWithKey(key(), id())),
      check: status(200),
    },
    {
      name: "signed with a key the client did not register",
      send: async () =>
        jwtAuth(await signWithKey({ ...w.strangerKey, publicJwk: key().publicJwk }, id())),
      check: badClient,
    },
    {
      name: "its signature altered",
      send: async () => jwtAuth(flipAt(await signWithKey(key(), id()), -10)),
      check: badClient,
    },
    {
      name: "for another audience",
      send: async () => jwtAuth(await signWithKey(key(), id(), { aud: "https://other.example" })),
      check: badClient,
    },
    {
      name: "expired",
      send: async () => {
        const now = Math.floor(Date.now() / 1000);
        return jwtAuth(await signWithKey(key(), id(), { iat: now - 600, exp: now - 300 }));
      },
      check: badClient,
    },
    {
      name: "valid for more than an hour",
      send: async () =>
        jwtAuth(await signWithKey(key(), id(), { exp: Math.floor(Date.now() / 1000) + 7200 })),
      check: badClient,
    },
    {
      name: "without a jti",
      send: async () => jwtAuth(await signWithKey(key(), id(), { jti: undefined })),
      check: badClient,
    },
    {
      name: "whose sub is not its iss",
      send: async () => jwtAuth(await signWithKey(key(), id(), { sub: w.other.client_id })),
      check: badClient,
    },
    {
      name: 'with alg "none"',
      send: async () => {
        const now = Math.floor(Date.now() / 1000);
        const claims = {
          iss: id(),
          sub: id(),
          aud: ISSUER,
          jti: crypto.randomUUID(),
          exp: now + 60,
        };
        return jwtAuth(`${b64url({ alg: "none" })}.${b64url(claims)}.`);
      },
      check: badClient,
    },
    {
      name: "HS256 keyed with the client's public key (algorithm confusion)",
      send: async () =>
        jwtAuth(
          await new SignJWT({ jti: crypto.randomUUID() })
            .setProtectedHeader({ alg: "HS256" })
            .setIssuer(id())
            .setSubject(id())
            .setAudience(ISSUER)
            .setExpirationTime("60s")
            .sign(new TextEncoder().encode(JSON.stringify(key().publicJwk))),
        ),
      check: badClient,
    },
    {
      name: "a client_assertion that is not a JWT",
      send: () => jwtAuth("a.b.c"),
      check: badClient,
    },
    {
      name: "a client_assertion_type other than jwt-bearer",
      send: async () =>
        clientCredentials({
          client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
          client_assertion: await signWithKey(key(), id()),
        }),
      check: badClient,
    },
    {
      name: "a client_assertion_type without an assertion",
      send: () => clientCredentials({ client_assertion_type: JWT_BEARER }),
      check: badClient,
    },
    {
      name: "a client_id that is not the assertion's issuer",
      send: async () =>
        clientCredentials({
          ...assertionParams(await signWithKey(key(), id())),
          client_id: w.other.client_id,
        }),
      check: badClient,
    },
    {
      name: "an assertion together with Basic (two methods)",
      send: async () =>
        clientCredentials(assertionParams(await signWithKey(key(), id())), {
          Authorization: otherBasic(),
        }),
      check: badBasic,
    },
    {
      name: "client_secret_jwt signed with a wrong secret",
      send: async () => jwtAuth(await signWithSecret("w".repeat(43), w.hmacClient.client_id)),
      check: badClient,
    },
  ]);

  it("refuses a replayed assertion (its jti was already used)", async () => {
    const assertion = await signWithKey(key(), id());
    expect((await jwtAuth(assertion)).status).toBe(200);
    await expectJsonError(await jwtAuth(assertion), 401, "invalid_client", w.secrets);
  });
});

describe("RFC 6750 §3.1: userinfo refuses what is not a live access token, with a Bearer challenge", () => {
  const bearer = (token: string) => () =>
    call("/userinfo", { headers: { Authorization: `Bearer ${token}` } });
  const invalidToken = error(401, "invalid_token", { "WWW-Authenticate": /^Bearer realm=/ });
  runRows([
    { name: "no token at all", send: () => call("/userinfo"), check: invalidToken },
    {
      name: "Bearer with nothing after it",
      send: () => call("/userinfo", { headers: { Authorization: "Bearer" } }),
      check: error(400, "invalid_request", { "WWW-Authenticate": /error="invalid_request"/ }),
    },
    { name: "a refresh token", send: () => bearer(w.refreshToken)(), check: invalidToken },
    { name: "an ID token", send: () => bearer(w.idToken)(), check: invalidToken },
    {
      name: "a truncated access token",
      send: () => bearer(w.accessToken.slice(0, -3))(),
      check: invalidToken,
    },
    {
      name: "an access token in the query string (RFC 6750 §2.3 is not supported)",
      send: () => call(`/userinfo?access_token=${w.accessToken}`),
      check: invalidToken,
    },
    {
      name: "a token in the header and in the body",
      send: () =>
        rawPost("/userinfo", `access_token=${w.accessToken}`, {
          ...FORM,
          Authorization: `Bearer ${w.accessToken}`,
        }),
      check: error(400, "invalid_request"),
    },
  ]);
});

describe("RFC 6749 §4.1.2.1: /authorize shows a page until the redirect URI is known good, then redirects errors back", () => {
  runRows([
    {
      name: "no client_id",
      send: () => authorize({ ...validAuthorize(), client_id: "" }),
      check: page(400),
    },
    {
      name: "an unknown client",
      send: () => authorize(validAuthorize({ client_id: "nobody" })),
      check: page(400),
    },
    {
      name: "a redirect_uri the client did not register (never redirected to)",
      send: () => authorize(validAuthorize({ redirect_uri: "https://evil.example/callback" })),
      check: page(400),
    },
    {
      name: "response_type=token is unsupported_response_type",
      send: () => authorize(validAuthorize({ response_type: "token" })),
      check: redirectError("unsupported_response_type"),
    },
    {
      name: "a scope with a forbidden character is invalid_scope",
      send: () => authorize(validAuthorize({ scope: 'openid "x"' })),
      check: redirectError("invalid_scope"),
    },
    {
      name: "code_challenge_method=plain is invalid_request",
      send: () =>
        authorize(
          validAuthorize({ code_challenge: "a".repeat(43), code_challenge_method: "plain" }),
        ),
      check: redirectError("invalid_request"),
    },
    {
      name: "a public client without PKCE is invalid_request",
      send: () => authorize(validAuthorize({ client_id: w.publicClient.client_id })),
      check: redirectError("invalid_request"),
    },
    {
      name: "a request object is request_not_supported",
      send: () => authorize(validAuthorize({ request: "eyJ.eyJ.sig" })),
      check: redirectError("request_not_supported"),
    },
    {
      name: "prompt=none with another value is invalid_request",
      send: () => authorize(validAuthorize({ prompt: "none login" })),
      check: redirectError("invalid_request"),
    },
    {
      name: "a negative max_age is invalid_request",
      send: () => authorize(validAuthorize({ max_age: "-1" })),
      check: redirectError("invalid_request"),
    },
    {
      name: "/login without a same-origin Origin header is refused with an error page (CSRF)",
      send: () => rawPost("/login", "username=a&password=b", FORM),
      check: page(403),
    },
    {
      name: "/login without its CSRF token is an error page",
      send: () =>
        rawPost("/login", "username=a&password=b&interaction=x", { ...FORM, Origin: ISSUER }),
      check: page(400),
    },
    {
      name: "/consent with a JSON body is an error page",
      send: () =>
        rawPost("/consent", '{"decision":"allow"}', {
          "Content-Type": "application/json",
          Origin: ISSUER,
        }),
      check: page(400),
    },
  ]);
});

describe("discovery, JWKS and unknown paths", () => {
  runRows([
    {
      name: "discovery ignores a query string, even a malformed one",
      send: () => call("/.well-known/openid-configuration?x=%FF&x=1"),
      check: status(200),
    },
    {
      name: "HEAD on discovery answers like GET, without a body",
      send: () => call("/.well-known/oauth-authorization-server", { method: "HEAD" }),
      check: async (res) => {
        expect(res.status).toBe(200);
        expect(await res.text()).toBe("");
      },
    },
    {
      name: "an unknown path is 404 not_found",
      send: () => call("/tokens"),
      check: error(404, "not_found"),
    },
    {
      name: "an unknown well-known document is 404 not_found",
      send: () => call("/.well-known/webfinger"),
      check: error(404, "not_found"),
    },
    {
      name: "a path with a malformed percent-escape is 404 not_found",
      send: () => call("/tok%ZZen"),
      check: error(404, "not_found"),
    },
  ]);
});

describe("the admin API refuses what it cannot use, and changes nothing", () => {
  const userPath = () => `/admin/users/${w.user.id}`;
  const adminChallenge = error(401, "invalid_token", {
    "WWW-Authenticate": 'Bearer realm="admin"',
  });
  runRows([
    {
      name: "no Authorization header",
      send: () => call("/admin/clients", { method: "POST", body: "{}" }),
      check: adminChallenge,
    },
    {
      name: "a wrong admin token, blocking a user",
      send: () =>
        call(`${userPath()}/block`, { method: "POST", headers: { Authorization: "Bearer wrong" } }),
      check: adminChallenge,
    },
    {
      name: "Basic instead of Bearer, deleting a client",
      send: () =>
        call(`/admin/clients/${w.owner.client_id}`, {
          method: "DELETE",
          headers: { Authorization: basic("admin", env.ADMIN_TOKEN as string) },
        }),
      check: adminChallenge,
    },
    {
      name: "malformed JSON",
      send: () => adminJson("POST", "/admin/clients", '{"client_name":'),
      check: badRequest,
    },
    {
      name: "a JSON array",
      send: () => adminJson("POST", "/admin/clients", "[]"),
      check: badRequest,
    },
    { name: "JSON null", send: () => adminJson("POST", "/admin/users", "null"), check: badRequest },
    {
      name: "an unknown field",
      send: () =>
        adminJson("POST", "/admin/clients", JSON.stringify({ client_name: "x", colour: "red" })),
      check: badRequest,
    },
    {
      name: "a client_secret chosen by the caller",
      send: () =>
        adminJson(
          "POST",
          "/admin/clients",
          JSON.stringify({ client_name: "x", client_secret: "s" }),
        ),
      check: badRequest,
    },
    {
      name: "redirect_uris as a string",
      send: () =>
        adminJson(
          "POST",
          "/admin/clients",
          JSON.stringify({ client_name: "x", redirect_uris: REDIRECT_URI }),
        ),
      check: badRequest,
    },
    {
      name: "a redirect URI with a fragment",
      send: () =>
        adminJson(
          "POST",
          "/admin/clients",
          JSON.stringify({ client_name: "x", redirect_uris: [`${REDIRECT_URI}#frag`] }),
        ),
      check: badRequest,
    },
    {
      name: "a private key in jwks",
      send: () =>
        adminJson(
          "PATCH",
          `/admin/clients/${w.jwtClient.client_id}`,
          JSON.stringify({ jwks: { keys: [{ ...w.jwtKey.publicJwk, d: "secret" }] } }),
        ),
      check: badRequest,
    },
    {
      name: "a public key without its key material",
      send: () =>
        adminJson(
          "POST",
          "/admin/clients",
          JSON.stringify({
            client_name: "x",
            token_endpoint_auth_method: "private_key_jwt",
            grant_types: ["client_credentials"],
            jwks: { keys: [{ kty: "EC", crv: "P-256" }] },
          }),
        ),
      check: badRequest,
    },
    {
      name: "a grace window over 60 seconds",
      send: () =>
        adminJson(
          "PATCH",
          `/admin/clients/${w.owner.client_id}`,
          JSON.stringify({ refresh_token: { grace_seconds: 61 } }),
        ),
      check: badRequest,
    },
    {
      name: "a user with an empty password",
      send: () =>
        adminJson("POST", "/admin/users", JSON.stringify({ username: "x", password: "" })),
      check: badRequest,
    },
    {
      name: "a user id that is not a UUID",
      send: () => call("/admin/users/not-a-uuid", { headers: adminAuth() }),
      check: error(404, "not_found"),
    },
    {
      name: "a user id with a malformed percent-escape",
      send: () => call("/admin/users/%ZZ/grants", { headers: adminAuth() }),
      check: error(404, "not_found"),
    },
    {
      name: "blocking a user that does not exist",
      send: () =>
        call("/admin/users/00000000-0000-4000-8000-000000000000/block", {
          method: "POST",
          headers: adminAuth(),
        }),
      check: error(404, "not_found"),
    },
    {
      name: "revoking a grant id that is not one",
      send: () => call(`${userPath()}/grants/xyz`, { method: "DELETE", headers: adminAuth() }),
      check: error(404, "not_found"),
    },
    {
      name: "revoking another user's grant",
      send: () =>
        call(`/admin/users/00000000-0000-4000-8000-000000000000/grants/${w.grantFamily}`, {
          method: "DELETE",
          headers: adminAuth(),
        }),
      check: error(404, "not_found"),
    },
    {
      name: "updating a client that does not exist",
      send: () => adminJson("PATCH", "/admin/clients/nobody", JSON.stringify({ client_name: "x" })),
      check: error(404, "not_found"),
    },
    {
      name: "a user lookup with an empty ?username=",
      send: () => call("/admin/users?username=", { headers: adminAuth() }),
      check: badRequest,
    },
  ]);
});

describe("after the whole matrix", () => {
  it("the refresh token still rotates exactly once: the grant was never touched", async () => {
    const next = await refreshOk(w.owner, w.refreshToken);
    expect(next.refresh_token).toMatch(/^rt1\./);
    expect(next.refresh_token).not.toBe(w.refreshToken);
    // Grace window 0: the old token, presented again, is a replay.
    await expectJsonError(await refreshWith(w.refreshToken), 400, "invalid_grant", w.secrets);
  });

  it("the code is still redeemed exactly once", async () => {
    const res = await redeemWith(w.code);
    expect(res.status, await res.clone().text()).toBe(200);
    await expectJsonError(await redeemWith(w.code), 400, "invalid_grant", w.secrets);
  });
});
