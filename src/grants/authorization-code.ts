import type { ClientRecord } from "../clients/model";
import { refreshPolicy } from "../clients/policy";
import type { ProviderConfig } from "../config";
import { invalidRequest } from "../errors";
import { issueCode, newFamilyId, redeemCode } from "../families/gateway";
import { audit } from "../log";
import type { ResourceRecord } from "../resources/model";
import type { SessionRef } from "../users/login-sessions";
import { downscoped, registeredResource, targetAfter, windowFor } from "./audience";
import { defineGrant, presentedProofs, provenBy } from "./grant";
import { readyToSign, tokenResponse } from "./response";

/**
 * The authorization code (RFC 6749 §4.1), both halves: issued when the
 * browser flow has a signed-in, consenting user, redeemed at the token
 * endpoint. The code creates the grant's family in a pending state, so that
 * redeeming it is serialized by the family like every later refresh.
 */

export interface CodeRequest {
  client: ClientRecord;
  sub: string;
  /** The login session: the code is issued only while it stands. */
  session: SessionRef;
  /** When that session ends by itself, milliseconds. */
  sessionEndsAt: number;
  authTime: number;
  scope: readonly string[];
  redirectUri: string;
  /** RFC 7636: the S256 challenge, when the request carried one. */
  codeChallenge?: string;
  nonce?: string;
  /** RFC 9449 §10: the request's dpop_jkt. */
  dpopJkt?: string;
  /** RFC 8707 §2.1: the registered resources the request named, as registered now. */
  resources?: readonly ResourceRecord[];
}

/**
 * Whether a code for this scope will come with a refresh token. OIDC Core
 * §11: offline access needs consent for offline_access (asked for, or
 * implicit for first-party clients); the client's policy decides the rest.
 */
export function issuesRefreshToken(
  client: ClientRecord,
  config: ProviderConfig,
  scope: readonly string[],
): boolean {
  const policy = refreshPolicy(client, config);
  return policy.issue && (!policy.requireOfflineAccess || scope.includes("offline_access"));
}

/**
 * RFC 6749 §4.1.2: the code for an authorization the user has allowed, or
 * none once the login session has ended (a password change, a block, a
 * deletion, which also revoke the user's grants).
 *
 * The family is created (pending) first, and only then entered in the user's
 * index, which the User object refuses once the session has ended. The User
 * object serializes the two: a revocation of the user's grants either runs
 * before the entry (which it then refuses: the code is never handed out) or
 * after it, and then finds the family already pending and revokes it. In the
 * other order a revocation could come between the entry and the creation,
 * find nothing to revoke yet, and a code created after it would live on.
 */
export async function issueAuthorizationCode(
  env: Env,
  config: ProviderConfig,
  request: CodeRequest,
): Promise<string | undefined> {
  const familyId = newFamilyId(env);
  const clientId = request.client.client_id;
  const refreshAllowed = issuesRefreshToken(request.client, config, request.scope);
  const endsWithSession = endsWithTheSession(request.client, request.scope);
  const code = await issueCode(env, {
    familyId,
    grant: {
      clientId,
      sub: request.sub,
      scope: request.scope,
      authTime: request.authTime,
      sid: request.session.sid,
      ...(endsWithSession ? { sessionEndsAt: request.sessionEndsAt } : {}),
      ...grantedResources(request.resources ?? []),
    },
    code: {
      expiresAt: Date.now() + config.authorizationCodeLifetime * 1000,
      redirectUri: request.redirectUri,
      refreshAllowed,
      ...(request.codeChallenge ? { codeChallenge: request.codeChallenge } : {}),
      ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
      ...(request.dpopJkt !== undefined ? { dpopJkt: request.dpopJkt } : {}),
    },
  });
  const user = env.USER.getByName(request.sub);
  if (!code || !(await user.registerFamily(request.session, familyId, clientId, endsWithSession)))
    return undefined; // a family left pending, whose code nobody has, deletes itself when it expires
  return code;
}

/**
 * OIDC Core §11: "the use of Refresh Tokens is not exclusive to the
 * offline_access use case". A grant made without offline_access is for while
 * the user is signed in: it belongs to the login session and ends with it
 * (logout, the session's expiry, a password change). One made with
 * offline_access outlives it. The client's `grants_end_with_session` may
 * make every grant end with the session ("always") or none ("never").
 */
export function endsWithTheSession(client: ClientRecord, scope: readonly string[]): boolean {
  const rule = client.grants_end_with_session ?? "unless_offline";
  return rule === "always" || (rule === "unless_offline" && !scope.includes("offline_access"));
}

/** What the grant remembers of its resources (src/families/model.ts, Grant). */
function grantedResources(resources: readonly ResourceRecord[]) {
  if (resources.length === 0) return {};
  const bound = resources.filter((r) => r.require_sender_constrained).map((r) => r.identifier);
  return {
    resources: resources.map((r) => r.identifier),
    ...(bound.length > 0 ? { senderConstrained: bound } : {}),
  };
}

/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** RFC 6749 §4.1.3 with RFC 7636 (PKCE) and OIDC Core §3.1.3. */
export const authorizationCodeGrant = defineGrant({
  grantType: "authorization_code",
  parameters: { required: ["code", "redirect_uri"], optional: ["code_verifier", "resource"] },
  async handle(request) {
    const { env, config, client, params } = request;
    const proven = provenBy(request);
    const verifier = params.code_verifier;
    if (verifier !== undefined && !CODE_VERIFIER.test(verifier)) {
      throw invalidRequest(
        "The code_verifier must be 43 to 128 characters of [A-Za-z0-9._~-] (RFC 7636 section 4.1).",
      );
    }
    // RFC 8707 §2.2: a named resource is checked (registered, proof if it
    // needs one) before the code is touched; the family checks the grant covers it.
    const named =
      params.resource !== undefined
        ? await registeredResource(env, params.resource, proven)
        : undefined;
    await readyToSign(env, config);
    const window = windowFor(client, config, named);
    const redeemed = await redeemCode(env, {
      code: params.code,
      clientId: client.client_id,
      redirectUri: params.redirect_uri,
      ...(verifier !== undefined ? { verifier } : {}),
      ...presentedProofs(proven),
      // RFC 9449 §5: "Refresh tokens issued to confidential clients ... are
      // not bound to the DPoP proof public key because they are already
      // sender-constrained with a different existing mechanism." RFC 8705
      // §7.1 says the same of certificates; §4 binds a public client's.
      bindRefreshToProof: client.credential.method === "none",
      ...(named ? { resource: named.identifier } : {}),
      policy: refreshPolicy(client, config),
      accessTokenExpiresAt: window.exp * 1000,
    });
    const { grant } = redeemed;
    const target = await targetAfter(env, config, redeemed.resource, window, proven, named);
    // RFC 8707 §2.2: another granted resource's scopes stay out of this token.
    const scope = await downscoped(env, grant.scope, target.resource, grant.resources ?? []);
    const { response, jti } = await tokenResponse(env, config, {
      client,
      sub: grant.sub,
      scope,
      audience: target.audience,
      window: target.window,
      familyId: redeemed.familyId,
      authTime: grant.authTime,
      ...(grant.sid !== undefined ? { sid: grant.sid } : {}),
      ...(redeemed.refreshToken ? { refreshToken: redeemed.refreshToken } : {}),
      ...(redeemed.nonce !== undefined ? { nonce: redeemed.nonce } : {}),
      ...proven,
    });
    audit("token.issued", {
      grant: "authorization_code",
      familyId: redeemed.familyId,
      clientId: client.client_id,
      sub: grant.sub,
      jti,
      refreshToken: response.refresh_token !== undefined,
      aud: target.audience,
      ...proven,
    });
    return { body: response };
  },
});
