import type { RefreshPolicy } from "../clients/policy";
import { invalidGrant, invalidRequest, invalidTarget, type OAuthError } from "../errors";
import { sha256, toBase64Url, utf8 } from "../lib/bytes";
import { currentRequestId } from "../log";
import { noteFamilyRevoked } from "../revocation/lists";
import { serverKeys } from "../server-keys";
import {
  claimedKind,
  decodeFamilyToken,
  encodeFamilyToken,
  type FamilyToken,
  type FamilyTokenKind,
  newSecret,
  secretHash,
} from "../tokens/family-token";
import type { FamilyPolicy, Grant, PendingCode, Refusal } from "./model";
import { expiryOf, meansRevoked } from "./state";

/**
 * The Worker's one way into a family's Durable Object (as fosite's storage
 * interfaces are narrow): each function opens the token it is given, makes
 * the one call, turns a refusal into the OAuthError the RFC names, and
 * records a revocation in this isolate. The endpoints reach a family only
 * through here (and ./refresh-gateway.ts and ./device-gateway.ts, built on
 * it); the one other caller is the User object (users/user.ts),
 * which lists and revokes the families of its index through familyObject.
 * A call that may log carries the request's id as its last argument
 * (src/log.ts), so the family's lines name the request that caused them.
 */

/** A new family's id: a fresh Durable Object id, never used before. */
export const newFamilyId = (env: Env): string => env.TOKEN_FAMILY.newUniqueId().toString();

/** The family's Durable Object, or undefined for an id this namespace never issued. */
export function familyObject(env: Env, familyId: string) {
  try {
    return env.TOKEN_FAMILY.get(env.TOKEN_FAMILY.idFromString(familyId));
  } catch {
    return undefined;
  }
}

/** The part of a client's refresh policy that the family enforces. */
export function familyPolicy(policy: RefreshPolicy): FamilyPolicy {
  if (!policy.issue)
    return { graceSeconds: 0, graceNeedsBinding: false, absoluteLifetime: 0, idleLifetime: 0 };
  return {
    graceSeconds: policy.graceSeconds,
    graceNeedsBinding: policy.graceNeedsBinding,
    absoluteLifetime: policy.absoluteLifetime,
    idleLifetime: policy.idleLifetime,
  };
}

/** A token of ours, opened (tag checked) and routed to its family. */
export async function open(env: Env, text: string, kind: FamilyTokenKind) {
  const tagKey = (await serverKeys(env)).tokenTag;
  const token = await decodeFamilyToken(text, kind, tagKey);
  const family = token && familyObject(env, token.familyId);
  return token && family ? { token, family, tagKey } : undefined;
}

export const presentedRecord = async (token: FamilyToken) => ({
  generation: token.generation,
  hash: await secretHash(token.secret),
});

/** The family refused: note a revocation here at once (KV carries it elsewhere), then the error. */
export function refused(
  env: Env,
  familyId: string,
  reason: Refusal,
  errors: Partial<Record<Refusal, () => OAuthError>>,
  fallback: () => OAuthError,
): OAuthError {
  if (meansRevoked(reason)) noteFamilyRevoked(env, familyId);
  return (errors[reason] ?? fallback)();
}

// ── the authorization code: issued by the browser flow, redeemed at /token ──

export interface NewGrant {
  familyId: string;
  grant: Grant;
  code: Omit<PendingCode, "hash">;
}

/**
 * RFC 6749 §4.1.2: a new family, pending, and the code that redeems it; none
 * when the family was revoked before it could be created (a tombstone).
 */
export async function issueCode(env: Env, input: NewGrant): Promise<string | undefined> {
  const family = familyObject(env, input.familyId);
  if (!family) throw new Error("a new family id does not resolve");
  const secret = newSecret();
  const created = await family.createPending({
    grant: input.grant,
    code: { ...input.code, hash: await secretHash(secret) },
  });
  if (!created) return undefined;
  return encodeFamilyToken(
    { kind: "authorization_code", familyId: input.familyId, generation: 0, secret },
    (await serverKeys(env)).tokenTag,
  );
}

export interface RedeemRequest {
  code: string;
  clientId: string;
  redirectUri: string;
  /** RFC 7636 §4.5, checked for its syntax by the caller. */
  verifier?: string;
  /** The thumbprint of the request's DPoP proof key, if it had a valid proof. */
  proofJkt?: string;
  /** The `x5t#S256` of the request's TLS client certificate, if it had one. */
  certX5t?: string;
  /** RFC 9449 §5, RFC 8705 §4: the refresh tokens are bound to that key and certificate (a public client's). */
  bindRefreshToProof: boolean;
  /** RFC 8707 §2.2: the resource the request names; the family checks the grant covers it. */
  resource?: string;
  policy: RefreshPolicy;
  accessTokenExpiresAt: number;
}

export interface Redeemed {
  familyId: string;
  grant: Grant;
  nonce?: string;
  refreshToken?: string;
  /** The resource the access token is for; absent: the default audience. */
  resource?: string;
}

/** RFC 8707 §2.2, answered the same way for a code and a refresh token. */
export const targetRefusals: Partial<Record<Refusal, () => OAuthError>> = {
  target_not_granted: () =>
    invalidTarget(
      "The resource is not one this grant was authorized for (RFC 8707 section 2.2); nothing was changed.",
    ),
  // Not invalid_target: the resource is known and granted; the request lacks the proof it requires.
  target_needs_binding: () =>
    invalidRequest(
      "Tokens for this resource must be sender-constrained: send a DPoP proof or use mutual TLS.",
    ),
};

const codeInvalid = () => invalidGrant("The authorization code is invalid.");
const codeRefusals: Partial<Record<Refusal, () => OAuthError>> = {
  expired: () => invalidGrant("The authorization code has expired."),
  pkce_failed: () =>
    invalidGrant(
      "The code_verifier does not match the code_challenge of the authorization request.",
    ),
  reuse_detected: () =>
    invalidGrant(
      "The authorization code was already used; the tokens issued with it have been revoked.",
    ),
  revoked: () => invalidGrant("The authorization code was already used."),
  wrong_client: () => invalidGrant("The authorization code was issued to another client."),
  dpop_key_mismatch: () =>
    invalidGrant(
      "The authorization code is bound to a DPoP key (dpop_jkt): a proof by that key is required.",
    ),
  ...targetRefusals,
};

/** RFC 6749 §4.1.3: the code, once, by its client, with its redirect URI and verifier. */
export async function redeemCode(env: Env, request: RedeemRequest): Promise<Redeemed> {
  const opened = await open(env, request.code, "authorization_code");
  if (!opened) {
    throw claimedKind(request.code) === "refresh_token"
      ? invalidGrant("A refresh token is not an authorization code.")
      : codeInvalid();
  }
  const { token, family, tagKey } = opened;
  const firstRefresh = request.policy.issue ? newSecret() : undefined;
  const result = await family.redeem(
    {
      codeHash: await secretHash(token.secret),
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      ...(request.verifier !== undefined
        ? { verifierChallenge: toBase64Url(await sha256(utf8(request.verifier))) }
        : {}),
      ...(firstRefresh ? { refresh: { generation: 0, hash: await secretHash(firstRefresh) } } : {}),
      ...(request.proofJkt !== undefined ? { proofJkt: request.proofJkt } : {}),
      ...(request.certX5t !== undefined ? { certX5t: request.certX5t } : {}),
      bindRefreshToProof: request.bindRefreshToProof,
      ...(request.resource !== undefined ? { resource: request.resource } : {}),
      policy: familyPolicy(request.policy),
      accessTokenExpiresAt: request.accessTokenExpiresAt,
    },
    currentRequestId(),
  );
  if (!result.ok) throw refused(env, token.familyId, result.reason, codeRefusals, codeInvalid);
  const refreshToken =
    result.refreshIssued && firstRefresh
      ? await encodeFamilyToken(
          { kind: "refresh_token", familyId: token.familyId, generation: 0, secret: firstRefresh },
          tagKey,
        )
      : undefined;
  return {
    familyId: token.familyId,
    grant: result.grant,
    ...(result.nonce !== undefined ? { nonce: result.nonce } : {}),
    ...(refreshToken ? { refreshToken } : {}),
    ...(result.resource !== undefined ? { resource: result.resource } : {}),
  };
}

// ── revocation and introspection ─────────────────────────────────────────

/**
 * RFC 7009 with a refresh token: the whole family, if the token is genuine
 * and the caller is its client; anything else changes nothing (§2.2).
 */
export async function revokeWithRefreshToken(
  env: Env,
  text: string,
  clientId: string,
): Promise<boolean> {
  const opened = await open(env, text, "refresh_token");
  if (!opened) return false;
  const revoked = await opened.family.revokeWithToken(
    { clientId, presented: await presentedRecord(opened.token) },
    currentRequestId(),
  );
  if (revoked) noteFamilyRevoked(env, opened.token.familyId);
  return revoked;
}

export interface LiveRefreshToken {
  grant: Grant;
  issuedAt: number;
  /** When the token stops working under `policy`, the policy of the client it belongs to. */
  expiresAt(policy: RefreshPolicy): number;
}

/** RFC 7662 for a refresh token: live only if it is its family's current one. */
export async function inspectRefreshToken(
  env: Env,
  text: string,
): Promise<LiveRefreshToken | undefined> {
  const opened = await open(env, text, "refresh_token");
  if (!opened) return undefined;
  const inspection = await opened.family.inspect(await presentedRecord(opened.token));
  if (!inspection.active) return undefined;
  const { grant, createdAt, lastUsedAt } = inspection;
  return {
    grant,
    issuedAt: inspection.issuedAt,
    expiresAt: (policy) =>
      policy.issue ? expiryOf(createdAt, lastUsedAt, familyPolicy(policy), grant) : 0,
  };
}
