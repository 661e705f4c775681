import { env } from "cloudflare:workers";
import {
  decodeJwt,
  generateKeyPair,
  importJWK,
  type JWTHeaderParameters,
  type JWTPayload,
  SignJWT,
} from "jose";
import { expect, type MockInstance, vi } from "vitest";
import { Browser, codeFlow, pkce, signInAndAuthorize, type TokenSet } from "./browser";
import {
  clientAuth,
  introspect,
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  registerUser,
  revokeRequest,
  type TestUser,
  tokenRequest,
} from "./fixtures";
import { fetchWith, formBody, json } from "./http";

/**
 * Helpers for the revocation, introspection, grants and audit tests: grants
 * in one call, the Worker's fetch handler called with our own (wrapped)
 * bindings, JWTs signed with the server's key or a stranger's, and the audit
 * lines the service writes.
 */

export type Bindings = Cloudflare.Env;

// ── grants ────────────────────────────────────────────────────────────────

export interface IssuedGrant {
  client: RegisteredClient;
  user: TestUser;
  tokens: TokenSet;
  refreshToken: string;
  familyId: string;
}

/** A confidential client (consent implicit) and a user, through the real pages. */
export async function issueGrant(
  options: {
    client?: RegisteredClient;
    user?: TestUser;
    browser?: Browser;
    scope?: string;
    clientFields?: Record<string, unknown>;
  } = {},
): Promise<IssuedGrant> {
  const client =
    options.client ?? (await registerClient({ consent: "implicit", ...options.clientFields }));
  const user = options.user ?? (await registerUser());
  const tokens = await codeFlow(client, user, {
    scope: options.scope ?? "openid api:read",
    ...(options.browser ? { browser: options.browser } : {}),
  });
  expect(tokens.refresh_token, "the grant has a refresh token").toMatch(/^rt1\./);
  const refreshToken = tokens.refresh_token as string;
  return { client, user, tokens, refreshToken, familyId: familyIdOf(refreshToken) };
}

/** `rt1.<family id>.<payload>`: the family id a refresh token carries. */
export const familyIdOf = (refreshToken: string): string => refreshToken.split(".")[1] as string;

export const jtiOf = (accessToken: string): string => decodeJwt(accessToken).jti as string;

export function refreshRequest(client: RegisteredClient, refreshToken: string): Promise<Response> {
  return tokenRequest(client, { grant_type: "refresh_token", refresh_token: refreshToken });
}

export async function refreshed(client: RegisteredClient, refreshToken: string): Promise<TokenSet> {
  const res = await refreshRequest(client, refreshToken);
  expect(res.status, await res.clone().text()).toBe(200);
  return json<TokenSet>(res);
}

/** A refresh the server must refuse (RFC 6749 §5.2 invalid_grant). */
export async function expectRefreshRefused(
  client: RegisteredClient,
  refreshToken: string,
): Promise<void> {
  const res = await refreshRequest(client, refreshToken);
  expect(res.status).toBe(400);
  expect(await res.json()).toMatchObject({ error: "invalid_grant" });
}

/** POST /revoke that must answer 200 with an empty body (RFC 7009 §2.2). */
export async function revoked(
  client: RegisteredClient,
  token: string,
  hint?: string,
): Promise<void> {
  const res = await revokeRequest(client, { token, token_type_hint: hint });
  expect(res.status, await res.clone().text()).toBe(200);
  expect(await res.text()).toBe("");
}

export const INACTIVE = { active: false };

/** Introspection that must answer exactly `{"active": false}` (RFC 7662 §2.2). */
export async function expectInactive(client: RegisteredClient, token: string): Promise<void> {
  expect(await introspect(client, token)).toStrictEqual(INACTIVE);
}

export async function expectActive(
  client: RegisteredClient,
  token: string,
): Promise<Record<string, unknown>> {
  const answer = await introspect(client, token);
  expect(answer.active, JSON.stringify(answer)).toBe(true);
  return answer;
}

// ── the Worker's fetch handler with our own bindings ──────────────────────

export { fetchWith };

export function postFormWith(
  bindings: Bindings,
  client: RegisteredClient,
  path: string,
  params: Record<string, string | undefined>,
): Promise<Response> {
  const auth = clientAuth(client);
  return fetchWith(bindings, path, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...auth.headers },
    body: formBody({ ...auth.params, ...params }),
  });
}

export async function introspectWith(
  bindings: Bindings,
  client: RegisteredClient,
  token: string,
): Promise<Record<string, unknown>> {
  const res = await postFormWith(bindings, client, "/introspect", { token });
  expect(res.status, await res.clone().text()).toBe(200);
  return json(res);
}

/**
 * The code flow through the real pages, with the code redeemed by the
 * Worker under `bindings` (for example a provider whose access tokens live
 * a few seconds).
 */
export async function codeFlowWith(
  bindings: Bindings,
  client: RegisteredClient,
  user: TestUser,
  scope = "openid api:read",
): Promise<TokenSet> {
  const { verifier, challenge } = await pkce();
  const redirect = await signInAndAuthorize(new Browser(), client, user, { scope, challenge });
  const code = redirect.searchParams.get("code");
  expect(code, redirect.toString()).toBeTruthy();
  const res = await postFormWith(bindings, client, "/token", {
    grant_type: "authorization_code",
    code: code as string,
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return json<TokenSet>(res);
}

/** The provider with another access-token lifetime (the ACCESS_TOKEN_LIFETIME var). */
export const withAccessTokenLifetime = (seconds: number): Bindings => ({
  ...env,
  ACCESS_TOKEN_LIFETIME: String(seconds),
});

/** REVOCATIONS that cannot be read (a KV outage), writes passing through. */
export function unreadableKv(base: KVNamespace): KVNamespace {
  return new Proxy(base, {
    get(target, prop) {
      if (prop === "get" || prop === "getWithMetadata" || prop === "list") {
        return () => Promise.reject(new Error("KV is unavailable (injected by the test)"));
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

// ── counting Durable Object calls ─────────────────────────────────────────

export const DURABLE_OBJECT_BINDINGS = [
  "TOKEN_FAMILY",
  "USER",
  "USERNAME",
  "SIGNING_KEYS",
  "REPLAY_GUARD",
  "USER_DIRECTORY",
  "ADMINISTRATORS",
] as const;

export interface DurableObjectUse {
  binding: (typeof DURABLE_OBJECT_BINDINGS)[number];
  /** `namespace.get`, `namespace.idFromName`, ... or `stub.inspect`, ... */
  what: string;
}

/** Namespace methods that name or reach a Durable Object. */
const NAMESPACE_METHODS = new Set([
  "get",
  "getByName",
  "idFromName",
  "idFromString",
  "newUniqueId",
  "jurisdiction",
]);

function countedStub(
  stub: object,
  binding: DurableObjectUse["binding"],
  uses: DurableObjectUse[],
): object {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof prop === "symbol" || prop === "then" || typeof value !== "function") return value;
      return (...args: unknown[]) => {
        uses.push({ binding, what: `stub.${prop}` });
        return Reflect.apply(value, target, args);
      };
    },
  });
}

/**
 * `base` with every Durable Object namespace wrapped so that each lookup
 * (get, getByName, idFromName, ...) and each call on a stub is recorded in
 * `uses`. The calls themselves go through to the real objects.
 */
export function countingDurableObjects(base: Bindings = env): {
  bindings: Bindings;
  uses: DurableObjectUse[];
} {
  const uses: DurableObjectUse[] = [];
  const bindings: Record<string, unknown> = { ...base };
  for (const binding of DURABLE_OBJECT_BINDINGS) {
    bindings[binding] = new Proxy(base[binding], {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof prop === "symbol" || typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (NAMESPACE_METHODS.has(prop)) uses.push({ binding, what: `namespace.${prop}` });
          const result = Reflect.apply(value, target, args);
          return prop === "get" || prop === "getByName"
            ? countedStub(result as object, binding, uses)
            : result;
        };
      },
    });
  }
  return { bindings: bindings as unknown as Bindings, uses };
}

// ── JWTs the server did not issue ─────────────────────────────────────────

const SIGNING_KEY_ROTATION_SECONDS = 30 * 86_400; // SIGNING_KEY_ROTATION_DAYS in wrangler.toml

/**
 * A JWT signed with the server's active signing key, read from our own
 * SigningKeys Durable Object: lets a test change exactly one thing (an
 * expired `exp`, a wrong `typ`) of an otherwise genuine access token.
 */
export async function signedWithServerKey(
  claims: JWTPayload,
  header: Partial<JWTHeaderParameters> = {},
): Promise<string> {
  const view = await env.SIGNING_KEYS.getByName("signing-keys").keySet(
    { rotationSeconds: SIGNING_KEY_ROTATION_SECONDS },
    "test:signed-with-server-key",
  );
  const key = await importJWK(view.active.ES256.privateJwk, "ES256");
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: view.active.ES256.kid, ...header })
    .sign(key);
}

/** A JWT signed with a key generated here, under the given `kid`. */
export async function signedWithStrangerKey(claims: JWTPayload, kid: string): Promise<string> {
  const { privateKey } = await generateKeyPair("ES256");
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid })
    .sign(privateKey);
}

// ── the KV revocation lists ───────────────────────────────────────────────

/** A key of REVOCATIONS with its expiration (seconds), as KV lists it. */
export async function revocationEntry(
  name: string,
): Promise<{ name: string; expiration?: number } | undefined> {
  const page = await env.REVOCATIONS.list({ prefix: name });
  return page.keys.find((k) => k.name === name);
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ── audit lines ───────────────────────────────────────────────────────────

export interface LogLine {
  level: string;
  type: string;
  event: string;
  [field: string]: unknown;
}

/**
 * Records what the service writes to console.log / warn / error (the Worker
 * and its Durable Objects run in this isolate), instead of printing it.
 * Restore with `vi.restoreAllMocks()`.
 */
export function captureLogs(): { raw: () => string[]; lines: () => LogLine[] } {
  const quiet = () => {};
  const spies: MockInstance[] = [
    vi.spyOn(console, "log").mockImplementation(quiet),
    vi.spyOn(console, "warn").mockImplementation(quiet),
    vi.spyOn(console, "error").mockImplementation(quiet),
  ];
  const raw = () =>
    spies.flatMap((spy) => spy.mock.calls.map((args) => args.map(String).join(" ")));
  return {
    raw,
    lines: () =>
      raw().map((text) => {
        let parsed: unknown;
        expect(
          () => {
            parsed = JSON.parse(text);
          },
          `a JSON line: ${text.slice(0, 200)}`,
        ).not.toThrow();
        return parsed as LogLine;
      }),
  };
}
