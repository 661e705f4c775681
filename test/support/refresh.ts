import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { FamilyState } from "../../src/families/model";
import type { TokenFamily } from "../../src/families/token-family";
import { codeFlow, type TokenSet } from "./browser";
import {
  type RegisteredClient,
  registerClient,
  registerPublicClient,
  registerUser,
  type TestUser,
  tokenRequest,
} from "./fixtures";
import { json } from "./http";

/** Helpers for the refresh-token family tests: a grant in one call, and a look into its DO. */

export interface Grant {
  client: RegisteredClient;
  user: TestUser;
  tokens: TokenSet;
  /** The first refresh token of the family. */
  refreshToken: string;
  familyId: string;
}

export interface GrantOptions {
  /** Fields of the client registration (e.g. `refresh_token: { grace_seconds: 0 }`). */
  client?: Record<string, unknown>;
  /** Register a public client (token_endpoint_auth_method "none"). */
  public?: boolean;
  scope?: string;
  nonce?: string;
}

/**
 * A new client and user, and the authorization code flow through the real
 * pages (consent is implicit unless the options say otherwise), ending in a
 * token response that carries a refresh token.
 */
export async function grantWithRefresh(options: GrantOptions = {}): Promise<Grant> {
  const register = options.public ? registerPublicClient : registerClient;
  const client = await register({ consent: "implicit", ...options.client });
  const user = await registerUser();
  const tokens = await codeFlow(client, user, {
    scope: options.scope ?? "openid profile api:read api:write",
    ...(options.nonce ? { nonce: options.nonce } : {}),
  });
  expect(tokens.refresh_token, "the code flow issued a refresh token").toMatch(/^rt1\./);
  const refreshToken = tokens.refresh_token as string;
  return { client, user, tokens, refreshToken, familyId: familyIdOf(refreshToken) };
}

/** The family id a refresh token carries: `rt1.<family id>.<payload>`. */
export const familyIdOf = (token: string): string => token.split(".")[1] as string;

/** POST /token with grant_type=refresh_token, authenticated as `client`. */
export function refresh(
  client: RegisteredClient,
  refreshToken: string | undefined,
  extra: Record<string, string | undefined> = {},
): Promise<Response> {
  return tokenRequest(client, {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    ...extra,
  });
}

/** A refresh that must succeed; returns the token response. */
export async function refreshOk(
  client: RegisteredClient,
  refreshToken: string,
  extra: Record<string, string | undefined> = {},
): Promise<TokenSet> {
  const res = await refresh(client, refreshToken, extra);
  expect(res.status, await res.clone().text()).toBe(200);
  return json<TokenSet>(res);
}

/** A refresh that must be refused with `error` (RFC 6749 §5.2: 400, or 401 for invalid_client); returns the error body. */
export async function refreshRefused(
  client: RegisteredClient,
  refreshToken: string | undefined,
  error = "invalid_grant",
  extra: Record<string, string | undefined> = {},
): Promise<{ error: string; error_description: string }> {
  const res = await refresh(client, refreshToken, extra);
  const body = await json<{ error: string; error_description: string }>(res);
  expect(body.error, JSON.stringify(body)).toBe(error);
  expect(res.status).toBe(error === "invalid_client" ? 401 : 400);
  expect(typeof body.error_description).toBe("string");
  return body;
}

/** The TokenFamily Durable Object a refresh token (or a family id) routes to. */
export function familyStubOf(tokenOrFamilyId: string): DurableObjectStub<TokenFamily> {
  const familyId = tokenOrFamilyId.startsWith("rt1.")
    ? familyIdOf(tokenOrFamilyId)
    : tokenOrFamilyId;
  return env.TOKEN_FAMILY.get(env.TOKEN_FAMILY.idFromString(familyId));
}

/** Everything the family's Durable Object has in storage, key by key. */
export function storedEntries(tokenOrFamilyId: string): Promise<[string, unknown][]> {
  return runInDurableObject(familyStubOf(tokenOrFamilyId), (_instance, state) => [
    ...state.storage.kv.list(),
  ]);
}

/** The family's stored state (the `family` key), or undefined once it is gone. */
export function storedFamily(tokenOrFamilyId: string): Promise<FamilyState | undefined> {
  return runInDurableObject(familyStubOf(tokenOrFamilyId), (_instance, state) =>
    state.storage.kv.get<FamilyState>("family"),
  );
}

/**
 * Test setup, not a mock: rewrites the family's stored state (e.g. to move
 * its timestamps into the past instead of waiting for them).
 */
export function rewriteFamily(
  tokenOrFamilyId: string,
  change: (state: FamilyState) => FamilyState,
): Promise<void> {
  return runInDurableObject(familyStubOf(tokenOrFamilyId), (_instance, state) => {
    const current = state.storage.kv.get<FamilyState>("family");
    if (!current) throw new Error("the family has no stored state");
    state.storage.kv.put("family", change(current));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
