import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { LIMITS } from "../../src/config";
import { JWT_BEARER } from "../support/assertions";
import {
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  registerPublicClient,
} from "../support/fixtures";
import { basic, call, DESCRIPTION_CHARSET, json } from "../support/http";
import { refreshOk } from "../support/refresh";
import {
  expectNoSecrets,
  grantAndPendingCode,
  INTROSPECTION_ERRORS,
  REVOCATION_ERRORS,
  stateOf,
  TOKEN_ERRORS,
} from "../support/security";

/**
 * Properties of the parameter handling of the token (RFC 6749 §3.2),
 * revocation (RFC 7009) and introspection (RFC 7662) endpoints, over
 * arbitrary requests: bodies, parameter sets, byte strings, content types,
 * Authorization headers. Whatever arrives, the answer is never a 5xx, always
 * JSON with a code from the endpoint's RFC set (or 200 where the RFC says
 * so), leaks nothing, and changes nothing: the live grant and the unredeemed
 * code in this file are compared, byte for byte, after every single request.
 *
 * A failing run prints fast-check's seed and the shrunk request.
 */

type Endpoint = "/token" | "/revoke" | "/introspect";

interface World {
  owner: RegisteredClient;
  other: RegisteredClient;
  publicClient: RegisteredClient;
  refreshToken: string;
  accessToken: string;
  idToken: string;
  code: string;
  verifier: string;
  families: string[];
  secrets: string[];
}

let w: World;
/** The state of the grant, the code and the revocation lists before any property ran. */
let before: string;

beforeAll(async () => {
  const { grant, code, verifier, codeFamily } = await grantAndPendingCode();
  const [other, publicClient] = await Promise.all([
    // May use client_credentials, so that a 200 from /token is possible (and stateless).
    registerClient({
      grant_types: ["authorization_code", "refresh_token", "client_credentials"],
      scope: "openid api:read",
    }),
    registerPublicClient(),
  ]);
  w = {
    owner: grant.client,
    other,
    publicClient,
    refreshToken: grant.refreshToken,
    accessToken: grant.tokens.access_token,
    idToken: grant.tokens.id_token as string,
    code,
    verifier,
    families: [grant.familyId, codeFamily],
    secrets: [],
  };
  w.secrets = [
    w.refreshToken,
    w.accessToken,
    w.idToken,
    w.code,
    w.verifier,
    w.owner.client_secret as string,
    w.other.client_secret as string,
    grant.user.password,
  ];
  before = await stateOf(w.families);
});

// ── arbitraries ─────────────────────────────────────────────────────────────

const FORM = "application/x-www-form-urlencoded";

/** Every parameter name one of the three endpoints reads. */
const KNOWN_NAMES = [
  "grant_type",
  "refresh_token",
  "code",
  "redirect_uri",
  "code_verifier",
  "scope",
  "client_id",
  "client_secret",
  "client_assertion",
  "client_assertion_type",
  "token",
  "token_type_hint",
  "access_token",
] as const;

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** The real tokens of the world; picked lazily, since the world exists only once the tests run. */
const realToken = fc
  .constantFrom("refresh", "access", "id", "code")
  .map(
    (kind) =>
      ({ refresh: w.refreshToken, access: w.accessToken, id: w.idToken, code: w.code })[
        kind
      ] as string,
  );

/** A real token, altered: cut, extended, one character changed, re-cased, re-prefixed, padded. */
const alteredToken = fc
  .tuple(
    realToken,
    fc.oneof(
      fc.nat().map((n) => (t: string) => t.slice(0, n % t.length)),
      fc.string({ maxLength: 8 }).map((s) => (t: string) => t + s),
      fc.tuple(fc.nat(), fc.constantFrom(...B64URL)).map(
        ([n, ch]) =>
          (t: string) =>
            t.slice(0, n % t.length) + ch + t.slice((n % t.length) + 1),
      ),
      // Another spelling of the same bytes (the last character's unused bits), for rt1/ac1 tokens.
      fc
        .integer({ min: 1, max: 15 })
        .map(
          (k) => (t: string) =>
            /^(rt1|ac1)\./.test(t)
              ? t.slice(0, -1) + (B64URL[B64URL.indexOf(t.at(-1) as string) ^ k] as string)
              : t.slice(1),
        ),
      fc.constant((t: string) => t.toUpperCase()),
      fc.constant((t: string) => t.replace(/^rt1\./, "ac1.").replace(/^ac1\./, "rt1.")),
      fc.constant((t: string) => ` ${t}`),
      fc.constant((t: string) => t.split(".").reverse().join(".")),
    ),
  )
  .map(([token, alter]) => alter(token))
  .filter((t) => ![w.refreshToken, w.accessToken, w.idToken, w.code].includes(t));

const clientIds = fc
  .constantFrom("owner", "other", "public")
  .map(
    (who) =>
      ({ owner: w.owner.client_id, other: w.other.client_id, public: w.publicClient.client_id })[
        who
      ] as string,
  );

const value = fc.oneof(
  { weight: 4, arbitrary: alteredToken },
  { weight: 2, arbitrary: realToken },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "refresh_token",
      "authorization_code",
      "client_credentials",
      "password",
      "urn:ietf:params:oauth:grant-type:jwt-bearer",
      JWT_BEARER,
      "access_token",
      "openid",
      "openid api:read",
      "api:write email",
      REDIRECT_URI,
      "x".repeat(43),
    ),
  },
  { weight: 2, arbitrary: clientIds },
  { weight: 3, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 60 }) },
);

const name = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...KNOWN_NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 16 }) },
);

const pairs = fc.array(fc.tuple(name, value), { maxLength: 8 });

const encode = (list: readonly (readonly [string, string])[]) =>
  list.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");

/** Mostly a token (altered, or real), sometimes anything. */
const tokenValue = fc.oneof(
  { weight: 5, arbitrary: alteredToken },
  { weight: 2, arbitrary: realToken },
  { weight: 1, arbitrary: value },
);
const rarely = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

/** The parameters an endpoint's real requests carry, with arbitrary or altered values. */
function mainParams(path: Endpoint): fc.Arbitrary<Record<string, string | undefined>> {
  if (path !== "/token") {
    return fc.record({
      token: tokenValue,
      token_type_hint: rarely(fc.oneof(fc.constantFrom("access_token", "refresh_token"), value)),
    });
  }
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        grant_type: fc.constant("refresh_token"),
        refresh_token: tokenValue,
        scope: rarely(fc.oneof(fc.constantFrom("openid", "api:read", "email"), value)),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        grant_type: fc.constant("authorization_code"),
        code: tokenValue,
        redirect_uri: fc.oneof(fc.constant(REDIRECT_URI), value),
        code_verifier: rarely(fc.oneof(fc.constant("v".repeat(43)), value)),
      }),
    },
    fc.record({ grant_type: fc.constant("client_credentials"), scope: rarely(value) }),
    fc.record({ grant_type: value }),
  );
}

/** Mostly names no endpoint reads; sometimes one it does (client_secret, scope, ...). */
const extraName = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...KNOWN_NAMES) },
  { weight: 3, arbitrary: fc.string({ maxLength: 16 }) },
);

/** A plausible request for the endpoint plus a few other parameters, each name once. */
const shapedPairs = (path: Endpoint) =>
  fc
    .tuple(
      mainParams(path),
      fc.uniqueArray(fc.tuple(extraName, value), { maxLength: 3, selector: ([n]) => n }),
    )
    .map(([main, extra]) => {
      const list = Object.entries(main).filter((e): e is [string, string] => e[1] !== undefined);
      return [...list, ...extra.filter(([n]) => !(n in main))];
    });

/** Bodies: plausible requests, any parameter lists (names may repeat), raw text, arbitrary bytes. */
const bodyFor = (path: Endpoint) =>
  fc.oneof(
    { weight: 8, arbitrary: shapedPairs(path).map((list) => encode(list)) },
    { weight: 3, arbitrary: pairs.map((list) => encode(list)) },
    { weight: 2, arbitrary: pairs.map((list) => list.map(([k, v]) => `${k}=${v}`).join("&")) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  );

/** Header-safe text: printable ASCII (workerd sends anything above as UTF-8, with a warning). */
const headerText = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 80,
});

const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant(FORM) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      `${FORM}; charset=utf-8`,
      `${FORM}; charset="UTF-8"`,
      `${FORM}; charset=iso-8859-1`,
      "APPLICATION/X-WWW-FORM-URLENCODED",
      "application/json",
      "text/plain",
      "multipart/form-data; boundary=x",
    ),
  },
  { weight: 1, arbitrary: headerText },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

type Auth = "none" | "owner" | "owner-wrong-secret" | "other" | { raw: string };

const auth: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<Auth>("owner", "other") },
  fc.constantFrom<Auth>("none", "owner-wrong-secret"),
  headerText.map((raw) => ({ raw })),
  headerText.map((raw) => ({ raw: `Basic ${raw}` })),
  fc
    .uint8Array({ maxLength: 40 })
    .map((bytes) => ({ raw: `Basic ${btoa(String.fromCharCode(...bytes))}` })),
);

function authorization(who: Auth): string | undefined {
  if (who === "none") return undefined;
  if (who === "owner") return basic(w.owner.client_id, w.owner.client_secret as string);
  if (who === "owner-wrong-secret") return basic(w.owner.client_id, "not-the-secret");
  if (who === "other") return basic(w.other.client_id, w.other.client_secret as string);
  return who.raw;
}

interface Sent {
  path: Endpoint;
  body: string | Uint8Array;
  contentType: string | undefined;
  auth: Auth;
}

/**
 * The one request that may change state legitimately is the owner using its
 * own live refresh or access token. When the body (read the way a lenient
 * parser would) carries one of them exactly, the request is sent as the
 * other client instead, so every request in these properties is one that
 * must change nothing.
 */
function mustNotChangeState(request: Sent): Sent {
  if (request.auth !== "owner") return request;
  const text =
    typeof request.body === "string" ? request.body : new TextDecoder().decode(request.body);
  let values: string[];
  try {
    values = [...new URLSearchParams(text).values()];
  } catch {
    values = [];
  }
  const live = [w.refreshToken, w.accessToken];
  const carriesLive = values.some((v) => live.includes(v)) || live.some((t) => text.includes(t));
  return carriesLive ? { ...request, auth: "other" } : request;
}

function send(request: Sent): Promise<Response> {
  const headers: Record<string, string> = {};
  if (request.contentType !== undefined) headers["Content-Type"] = request.contentType;
  const authz = authorization(request.auth);
  if (authz !== undefined) headers.Authorization = authz;
  return call(request.path, { method: "POST", headers, body: request.body });
}

const ERRORS: Record<Endpoint, readonly string[]> = {
  "/token": TOKEN_ERRORS,
  "/revoke": REVOCATION_ERRORS,
  "/introspect": INTROSPECTION_ERRORS,
};

/** The answer's shape: never 5xx, JSON from the RFC set (or the RFC's 200), nothing leaked. */
async function judge(
  path: Endpoint,
  res: Response,
): Promise<{ status: number; error?: string; description?: string }> {
  const text = await res.text();
  expect(res.status, text).toBeLessThan(500);
  expectNoSecrets(text, w.secrets);
  if (path === "/token" && res.status === 200) {
    // Only the other client's client_credentials grant can succeed here: a new
    // access token, never a refresh token.
    const answer = JSON.parse(text) as Record<string, unknown>;
    expect(answer).toMatchObject({ token_type: "Bearer" });
    expect(answer).not.toHaveProperty("refresh_token");
    return { status: 200 };
  }
  if (path === "/revoke" && res.status === 200) {
    expect(text).toBe("");
    return { status: 200 };
  }
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  const answer = JSON.parse(text) as Record<string, unknown>;
  if (res.status === 200) {
    expect(path).toBe("/introspect");
    expect(answer).toEqual({ active: false });
    return { status: 200 };
  }
  expect(Object.keys(answer).sort()).toEqual(["error", "error_description"]);
  const error = answer.error as string;
  expect(ERRORS[path]).toContain(error);
  const statuses: Record<string, number[]> = { invalid_client: [401], invalid_request: [400, 413] };
  expect(statuses[error] ?? [400]).toContain(res.status);
  expect(answer.error_description, "RFC 6749 section 5.2 character set").toMatch(
    DESCRIPTION_CHARSET,
  );
  return { status: res.status, error, description: answer.error_description as string };
}

async function expectUnchanged(): Promise<void> {
  expect(await stateOf(w.families), "a refused request changed state").toBe(before);
}

const RUNS = 120;

// ── properties ──────────────────────────────────────────────────────────────

describe("arbitrary requests to the token, revocation and introspection endpoints", () => {
  it.each(["/token", "/revoke", "/introspect"] as const)(
    "%s: any body, content type and Authorization header gets an RFC answer, never a 5xx, and changes nothing",
    async (path) => {
      await fc.assert(
        fc.asyncProperty(
          fc.record({ body: bodyFor(path), contentType, auth }),
          async (generated) => {
            const request = mustNotChangeState({ path, ...generated });
            await judge(path, await send(request));
            await expectUnchanged();
          },
        ),
        { numRuns: RUNS },
      );
    },
  );

  it("a body over the limit is 413 invalid_request whatever it holds", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Endpoint>("/token", "/revoke", "/introspect"),
        pairs,
        fc.integer({ min: 1, max: 4096 }),
        async (path, list, over) => {
          const text = encode(list);
          const padded = `${text}&pad=${"p".repeat(Math.max(0, LIMITS.maxFormBytes - text.length) + over)}`;
          const res = await send(
            mustNotChangeState({ path, body: padded, contentType: FORM, auth: "owner" }),
          );
          expect((await judge(path, res)).status).toBe(413);
        },
      ),
      { numRuns: 30 },
    );
    await expectUnchanged();
  });
});

describe("RFC 6749 §3.1 at the token endpoint, as properties", () => {
  /** Well-formed bodies: no name twice, known names or not, any values. */
  const distinctPairs = fc.uniqueArray(fc.tuple(name, value), {
    maxLength: 8,
    selector: ([n]) => n,
  });
  const tokenRequest = fc.record({ list: distinctPairs, auth });

  it("a parameter included more than once is invalid_request, whatever else the request says", async () => {
    await fc.assert(
      fc.asyncProperty(tokenRequest, name, value, value, async ({ list, auth }, dup, v1, v2) => {
        const withDup: [string, string][] = [...list, [dup, v1], [dup, v2]];
        const request = mustNotChangeState({
          path: "/token",
          body: encode(withDup),
          contentType: FORM,
          auth,
        });
        const answer = await judge("/token", await send(request));
        expect(answer.error).toBe("invalid_request");
        expect(answer.status).toBe(400);
        await expectUnchanged();
      }),
      { numRuns: RUNS },
    );
  });

  it("a grant_type we do not support is unsupported_grant_type, before the client is even looked at", async () => {
    const supported = ["authorization_code", "refresh_token", "client_credentials"];
    await fc.assert(
      fc.asyncProperty(
        tokenRequest,
        fc.string({ minLength: 1, maxLength: 40 }).filter((g) => !supported.includes(g)),
        async ({ list, auth }, grantType) => {
          const rest = list.filter(([n]) => n !== "grant_type");
          const request = mustNotChangeState({
            path: "/token",
            body: encode([["grant_type", grantType], ...rest]),
            contentType: FORM,
            auth,
          });
          expect((await judge("/token", await send(request))).error).toBe("unsupported_grant_type");
        },
      ),
      { numRuns: RUNS },
    );
    await expectUnchanged();
  });

  /** Requests whose answer is a fixed refusal, to vary around. */
  const baseline = fc.constantFrom(
    "altered refresh",
    "refresh as other",
    "code, wrong verifier",
    "code as other",
    "client_credentials not allowed",
    "scope beyond grant",
    "no grant_type",
    "public, altered refresh",
    "revoke, altered",
    "introspect, altered",
  );
  function baselineRequest(which: string): {
    path: Endpoint;
    list: [string, string][];
    auth: Auth;
  } {
    const altered = `${w.refreshToken.slice(0, -4)}AAAA`;
    const refresh = (token: string): [string, string][] => [
      ["grant_type", "refresh_token"],
      ["refresh_token", token],
    ];
    const redeem: [string, string][] = [
      ["grant_type", "authorization_code"],
      ["code", w.code],
      ["redirect_uri", REDIRECT_URI],
    ];
    switch (which) {
      case "altered refresh":
        return { path: "/token", list: refresh(altered), auth: "owner" };
      case "refresh as other":
        return { path: "/token", list: refresh(w.refreshToken), auth: "other" };
      case "code, wrong verifier":
        return {
          path: "/token",
          list: [...redeem, ["code_verifier", "v".repeat(43)]],
          auth: "owner",
        };
      case "code as other":
        return { path: "/token", list: [...redeem, ["code_verifier", w.verifier]], auth: "other" };
      case "client_credentials not allowed":
        return { path: "/token", list: [["grant_type", "client_credentials"]], auth: "owner" };
      case "scope beyond grant":
        // The owner's live token, asked for more than the grant: refused before anything rotates.
        return {
          path: "/token",
          list: [...refresh(w.refreshToken), ["scope", "email"]],
          auth: "owner",
        };
      case "no grant_type":
        return { path: "/token", list: [["refresh_token", altered]], auth: "owner" };
      case "public, altered refresh":
        return {
          path: "/token",
          list: [...refresh(altered), ["client_id", w.publicClient.client_id]],
          auth: "none",
        };
      case "revoke, altered":
        return { path: "/revoke", list: [["token", altered]], auth: "owner" };
      default:
        return { path: "/introspect", list: [["token", altered]], auth: "owner" };
    }
  }
  const answerTo = async (path: Endpoint, list: [string, string][], who: Auth) =>
    judge(path, await send({ path, body: encode(list), contentType: FORM, auth: who }));

  it("an empty parameter is treated as omitted", async () => {
    await fc.assert(
      fc.asyncProperty(baseline, fc.subarray([...KNOWN_NAMES]), async (which, empties) => {
        const { path, list, auth } = baselineRequest(which);
        const present = new Set(list.map(([n]) => n));
        const blank = empties.filter((n) => !present.has(n)).map((n): [string, string] => [n, ""]);
        const plain = await answerTo(path, list, auth);
        expect(await answerTo(path, [...list, ...blank], auth)).toEqual(plain);
      }),
      { numRuns: 60 },
    );
    await expectUnchanged();
  });

  it("unrecognized parameters are ignored", async () => {
    const unknownName = fc
      .string({ minLength: 1, maxLength: 20 })
      .filter((n) => !(KNOWN_NAMES as readonly string[]).includes(n));
    await fc.assert(
      fc.asyncProperty(
        baseline,
        fc.uniqueArray(fc.tuple(unknownName, fc.string({ minLength: 1, maxLength: 40 })), {
          maxLength: 5,
          selector: ([n]) => n,
        }),
        async (which, extra) => {
          const { path, list, auth } = baselineRequest(which);
          const plain = await answerTo(path, list, auth);
          expect(await answerTo(path, [...list, ...extra], auth)).toEqual(plain);
        },
      ),
      { numRuns: 60 },
    );
    await expectUnchanged();
  });

  it("the order of parameters does not matter", async () => {
    await fc.assert(
      fc.asyncProperty(baseline, fc.infiniteStream(fc.nat()), async (which, randoms) => {
        const { path, list, auth } = baselineRequest(which);
        const shuffled = [...list];
        const it = randoms[Symbol.iterator]();
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = (it.next().value as number) % (i + 1);
          [shuffled[i], shuffled[j]] = [
            shuffled[j] as [string, string],
            shuffled[i] as [string, string],
          ];
        }
        expect(await answerTo(path, shuffled, auth)).toEqual(await answerTo(path, list, auth));
      }),
      { numRuns: 40 },
    );
    await expectUnchanged();
  });
});

describe("every endpoint, any method", () => {
  const paths = () => [
    "/authorize",
    "/token",
    "/revoke",
    "/introspect",
    "/userinfo",
    "/login",
    "/consent",
    "/jwks",
    "/.well-known/openid-configuration",
    "/admin/clients",
    `/admin/clients/${w.owner.client_id}`,
    "/admin/users",
    `/admin/users/00000000-0000-4000-8000-000000000000/grants`,
    "/admin/keys/rotate",
    "/no/such/path",
  ];
  const query = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.constant(
      `client_id=${"{client}"}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&response_type=code&scope=openid&state=s`,
    ),
  );

  it("never answers a 5xx, whatever the method, query, body, content type, Authorization or Origin", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 14 }),
        fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"),
        query,
        fc.oneof(bodyFor("/token"), fc.string({ maxLength: 100 })),
        contentType,
        fc.constantFrom("", "Bearer x", "admin", "Basic eDp5"),
        fc.constantFrom("", "https://auth.example.test", "https://evil.example"),
        async (pathIndex, method, q, requestBody, type, authz, origin) => {
          const path = paths()[pathIndex] as string;
          const headers: Record<string, string> = {};
          if (type !== undefined) headers["Content-Type"] = type;
          // The admin token only reads: this property must change nothing.
          if (authz === "admin" && method === "GET")
            headers.Authorization = `Bearer ${env.ADMIN_TOKEN}`;
          else if (authz && authz !== "admin") headers.Authorization = authz;
          if (origin) headers.Origin = origin;
          const res = await call(`${path}?${q.replace("{client}", w.owner.client_id)}`, {
            method,
            headers,
            body: method === "GET" || method === "HEAD" ? undefined : requestBody,
            redirect: "manual",
          });
          const text = await res.text();
          expect(res.status, `${method} ${path}: ${text.slice(0, 200)}`).toBeLessThan(500);
          expectNoSecrets(text, w.secrets);
        },
      ),
      { numRuns: 400 },
    );
    await expectUnchanged();
  });
});

describe("after every property", () => {
  it("the grant's refresh token still rotates exactly once, and its code still redeems", async () => {
    expect(await stateOf(w.families)).toBe(before);
    const next = await refreshOk(w.owner, w.refreshToken);
    expect(next.refresh_token).not.toBe(w.refreshToken);
    const res = await call("/token", {
      method: "POST",
      headers: {
        "Content-Type": FORM,
        Authorization: basic(w.owner.client_id, w.owner.client_secret as string),
      },
      body: encode([
        ["grant_type", "authorization_code"],
        ["code", w.code],
        ["redirect_uri", REDIRECT_URI],
        ["code_verifier", w.verifier],
      ]),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await json(res)).toHaveProperty("access_token");
  });
});
