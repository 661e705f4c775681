import { lookUpClient } from "../clients/lookup";
import { allowsGrant, type ClientRecord } from "../clients/model";
import { matchRedirectUri } from "../clients/redirect-uris";
import type { ProviderConfig } from "../config";
import {
  invalidRequest,
  OAuthError,
  type OAuthErrorCode,
  RESPONSE_MODES,
  type ResponseMode,
} from "../errors";
import type { Params } from "../params";
import { findResource } from "../resources/registry";
import { parseScope } from "../scope";
import { verifyOwnJwt } from "../tokens/jwt";

/**
 * An authorization request (RFC 6749 §4.1.1, RFC 7636, OIDC Core §3.1.2.1),
 * validated in the order RFC 6749 §4.1.2.1 needs: first what makes a redirect
 * safe (the client and its redirect URI), whose errors are shown to the user
 * and never redirected, and only then the rest, whose errors carry the
 * redirect target (OAuthError.redirectTo) and so go back to the client.
 */

export type Prompt = "none" | "login" | "consent";

export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  /** query (the default for response_type=code) or form_post. */
  responseMode: ResponseMode;
  scope: string[];
  state?: string;
  nonce?: string;
  codeChallenge?: string;
  prompt: Prompt[];
  maxAge?: number;
  /** The user an id_token_hint named (OIDC Core §3.1.2.1): the sign-in must be theirs. */
  expectedSub?: string;
  /** RFC 9449 §10: the thumbprint of the DPoP key the code is bound to. */
  dpopJkt?: string;
  /** RFC 8707 §2.1: the registered resources the grant is for; absent when the request named none. */
  resources?: string[];
}

const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7638 SHA-256 thumbprint, base64url: 43 characters, like an S256 challenge. */
const JWK_THUMBPRINT = S256_CHALLENGE;
const PROMPTS: readonly Prompt[] = ["none", "login", "consent"];

export async function validateAuthorizationRequest(
  env: Env,
  config: ProviderConfig,
  params: Params,
): Promise<{ client: ClientRecord; request: AuthorizationRequest }> {
  const clientId = params.get("client_id");
  if (!clientId) throw invalidRequest("The request has no client_id.");
  const client = await lookUpClient(env, config, clientId);
  if (!client) throw invalidRequest("The application that sent you here is not registered.");
  const presented = params.get("redirect_uri");
  if (!presented) throw invalidRequest("The request has no redirect_uri.");
  if (!matchRedirectUri(client.redirect_uris, presented, loopbackRule(client))) {
    throw invalidRequest("The redirect_uri is not one the application registered.");
  }
  const state = params.get("state");
  // Checked before any redirect: every error redirect echoes the state (§4.1.2.1),
  // and one that long would make the redirect itself unusable.
  if (state !== undefined && state.length > 2048)
    throw invalidRequest("The state is longer than 2048 characters.");
  // Read first, so that every later error goes back the way the client asked.
  // An unknown mode cannot be honoured: its error goes back in the query.
  const mode = params.get("response_mode") ?? "query";
  const responseMode: ResponseMode | undefined = RESPONSE_MODES.find((m) => m === mode);
  const fail = (code: OAuthErrorCode, description: string) =>
    new OAuthError(code, description, {
      redirectTo: { redirectUri: presented, state, responseMode: responseMode ?? "query" },
    });
  if (!responseMode) throw fail("invalid_request", "response_mode may be query or form_post only.");
  // A form can be posted only to a web origin; a native app's private-use
  // scheme has none (and its page could not be restricted to it).
  if (responseMode === "form_post" && !/^https?:/i.test(presented)) {
    throw new OAuthError(
      "invalid_request",
      "response_mode=form_post needs an http or https redirect_uri.",
      { redirectTo: { redirectUri: presented, state, responseMode: "query" } },
    );
  }

  const responseType = params.get("response_type");
  if (!responseType) throw fail("invalid_request", "The response_type parameter is missing.");
  if (responseType !== "code")
    throw fail("unsupported_response_type", "Only response_type=code is supported.");
  if (!allowsGrant(client, "authorization_code")) {
    throw fail(
      "unauthorized_client",
      "This client is not registered for the authorization code flow.",
    );
  }
  if (params.has("request"))
    throw fail("request_not_supported", "Request objects are not supported.");
  if (params.has("request_uri"))
    throw fail("request_uri_not_supported", "request_uri is not supported.");

  const scopeParam = params.get("scope");
  const fallback = client.scopes.filter((s) => s !== "offline_access");
  const scope = scopeParam === undefined ? fallback : parseScope(scopeParam);
  if (!scope || scope.length === 0)
    throw fail("invalid_scope", "The scope parameter is malformed.");
  // Not echoing which: the description goes back to the client and is shown
  // to people, and never repeats a request value.
  if (scope.some((s) => !client.scopes.includes(s))) {
    throw fail("invalid_scope", "The application asked for a scope it is not registered for.");
  }

  const resources = await requestedResources(env, params.all("resource"), fail);

  const method = params.get("code_challenge_method");
  const challenge = params.get("code_challenge");
  if (method !== undefined && method !== "S256") {
    throw fail("invalid_request", "Only code_challenge_method=S256 is supported.");
  }
  if (challenge === undefined && method !== undefined)
    throw fail("invalid_request", "code_challenge is missing.");
  if (challenge !== undefined) {
    // RFC 7636 §4.3 defaults the method to plain, which we do not accept.
    if (method === undefined)
      throw fail(
        "invalid_request",
        "code_challenge_method=S256 is required with a code_challenge.",
      );
    if (!S256_CHALLENGE.test(challenge))
      throw fail("invalid_request", "The code_challenge is not an S256 challenge.");
  } else if (client.credential.method === "none") {
    throw fail("invalid_request", "A public client must use PKCE (code_challenge with S256).");
  }

  const prompt = (params.get("prompt") ?? "").split(" ").filter(Boolean) as Prompt[];
  if (prompt.some((p) => !PROMPTS.includes(p)))
    throw fail("invalid_request", "prompt may contain only none, login and consent.");
  if (prompt.includes("none") && prompt.length > 1)
    throw fail("invalid_request", "prompt=none cannot be combined with other values.");

  const maxAgeParam = params.get("max_age");
  const maxAge = maxAgeParam === undefined ? undefined : Number(maxAgeParam);
  if (maxAge !== undefined && (!Number.isInteger(maxAge) || maxAge < 0)) {
    throw fail("invalid_request", "max_age must be a whole number of seconds.");
  }
  // RFC 9449 §10: "dpop_jkt: JWK Thumbprint [RFC7638] of the DPoP public key".
  const dpopJkt = params.get("dpop_jkt");
  if (dpopJkt !== undefined && !JWK_THUMBPRINT.test(dpopJkt)) {
    throw fail("invalid_request", "dpop_jkt must be a base64url SHA-256 JWK thumbprint.");
  }
  const nonce = params.get("nonce");
  if (nonce !== undefined && nonce.length > 512)
    throw fail("invalid_request", "The nonce is longer than 512 characters.");
  // OIDC Core §3.1.2.1: id_token_hint, "an ID Token previously issued by the
  // Authorization Server", names the user the client expects; it may have expired.
  const hint = params.get("id_token_hint");
  let expectedSub: string | undefined;
  if (hint !== undefined) {
    const claims = await verifyOwnJwt(env, config, hint, "JWT", { expiredOk: true });
    if (!claims || typeof claims.sub !== "string" || claims.aud !== client.client_id) {
      throw fail(
        "invalid_request",
        "The id_token_hint is not an ID token issued here to this client.",
      );
    }
    expectedSub = claims.sub;
  }

  return {
    client,
    request: {
      clientId: client.client_id,
      redirectUri: presented,
      responseMode,
      scope,
      prompt,
      ...(state !== undefined ? { state } : {}),
      ...(nonce !== undefined ? { nonce } : {}),
      ...(challenge !== undefined ? { codeChallenge: challenge } : {}),
      ...(maxAge !== undefined ? { maxAge } : {}),
      ...(expectedSub !== undefined ? { expectedSub } : {}),
      ...(dpopJkt !== undefined ? { dpopJkt } : {}),
      ...(resources.length > 0 ? { resources } : {}),
    },
  };
}

/** More than any sensible request needs; each is a registry read. */
const MAX_RESOURCES = 10;

/**
 * RFC 8707 §2.1: "Multiple resource parameters MAY be used"; "If the
 * authorization server fails to parse the provided value(s) or does not
 * consider the resource(s) acceptable, it should reject the request with an
 * error response using the error code invalid_target". Acceptable here: a
 * registered resource, named exactly as registered. The error goes back to
 * the client (the redirect URI is already known to be the client's).
 */
async function requestedResources(
  env: Env,
  values: readonly string[],
  fail: (code: OAuthErrorCode, description: string) => OAuthError,
): Promise<string[]> {
  const unique = [...new Set(values)];
  if (unique.length > MAX_RESOURCES)
    throw fail("invalid_target", `At most ${MAX_RESOURCES} resources can be requested at once.`);
  const records = await Promise.all(unique.map((identifier) => findResource(env, identifier)));
  if (records.some((record) => record === undefined)) {
    throw fail(
      "invalid_target",
      "The request names a resource that is not registered here (RFC 8707 section 2).",
    );
  }
  return unique;
}

/** RFC 8252 §7.3: the loopback port exception is for native apps, which are public clients. */
const loopbackRule = (client: ClientRecord) => ({
  loopbackAnyPort: client.credential.method === "none",
});

/**
 * Whether a request validated earlier (and carried by a login or consent
 * form) is still one the client's current registration allows: the same
 * redirect URI rule, the code flow, the scopes, and PKCE if it is now public.
 */
export function stillAllowed(client: ClientRecord, request: AuthorizationRequest): boolean {
  return (
    matchRedirectUri(client.redirect_uris, request.redirectUri, loopbackRule(client)) !==
      undefined &&
    allowsGrant(client, "authorization_code") &&
    request.scope.every((s) => client.scopes.includes(s)) &&
    (client.credential.method !== "none" || request.codeChallenge !== undefined)
  );
}

/** RFC 6749 §4.1.2 and §4.1.2.1, with RFC 9207's `iss`. */
export function redirectWith(
  redirectUri: string,
  issuer: string,
  values: Record<string, string | undefined>,
): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(values))
    if (value !== undefined) url.searchParams.set(name, value);
  url.searchParams.set("iss", issuer);
  return url.toString();
}
