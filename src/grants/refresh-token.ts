import { accessTokenLifetime, familyPolicy, refreshPolicy } from "../clients/policy";
import { invalidGrant, invalidScope } from "../errors";
import { meansRevoked, type Refusal } from "../families/state";
import { familyStub } from "../families/stub";
import { nowSeconds } from "../lib/time";
import { audit } from "../log";
import { noteFamilyRevoked } from "../revocation/lists";
import {
  claimedKind,
  decodeFamilyToken,
  encodeFamilyToken,
  openSuccessor,
  prepareSuccessor,
  secretHash,
} from "../tokens/family-token";
import { issueAccessToken, issueIdToken, type TokenResponse } from "../tokens/issue";
import { serverKeys } from "../server-keys";
import type { GrantHandler } from "./grant";
import { formatScope, parseScope } from "../scope";

const refusals: Partial<Record<Refusal, string>> = {
  expired: "The refresh token has expired.",
  revoked: "The refresh token has been revoked.",
  reuse_detected: "The refresh token was already used; the grant has been revoked.",
  wrong_client: "The refresh token was issued to another client.",
};

/**
 * RFC 6749 §6, with rotation, reuse detection and a grace window (OAuth 2.1
 * §4.3, RFC 9700 §4.14.2). Everything that can be decided without the family
 * (the client's policy, the token's tag, the scope syntax) is decided first;
 * then one call to the family's Durable Object decides the rest, atomically.
 */
export const refreshTokenGrant: GrantHandler = {
  grantType: "refresh_token",
  async handle({ env, config, client, params }): Promise<TokenResponse> {
    const presentedText = params.require("refresh_token");
    const scopeParam = params.get("scope");
    let requested: string[] | undefined;
    if (scopeParam !== undefined) {
      requested = parseScope(scopeParam);
      if (!requested?.length) throw invalidScope("The scope parameter is malformed.");
    }

    const policy = refreshPolicy(client, config);
    if (!policy.issue) throw invalidGrant("Refresh tokens are turned off for this client.");

    const keys = await serverKeys(env);
    const presented = await decodeFamilyToken(presentedText, "refresh_token", keys.tokenTag);
    if (!presented) {
      throw invalidGrant(
        claimedKind(presentedText) === "authorization_code"
          ? "An authorization code is not a refresh token."
          : "The refresh token is invalid.",
      );
    }
    const family = familyStub(env, presented.familyId);
    if (!family) throw invalidGrant("The refresh token is invalid.");

    // The successor is prepared before the call so that the family's critical
    // section does no crypto; it is used only if this call rotates.
    const successor =
      policy.rotation === "rotate" ? await prepareSuccessor(presented, keys.tokenTag) : undefined;
    const iat = nowSeconds();
    const exp = iat + accessTokenLifetime(client, config);

    const result = await family.refresh({
      clientId: client.client_id,
      presented: { generation: presented.generation, hash: await secretHash(presented.secret) },
      ...(successor ? { successor: successor.record } : {}),
      ...(requested ? { scope: requested } : {}),
      policy: familyPolicy(policy),
      accessTokenExpiresAt: exp * 1000,
    });
    if (!result.ok) {
      // This isolate's introspection sees the revocation at once (KV carries it elsewhere).
      if (meansRevoked(result.reason)) noteFamilyRevoked(env, presented.familyId);
      if (result.reason === "scope_exceeded") {
        throw invalidScope(
          "The requested scope is not within the scope originally granted (RFC 6749 §6).",
        );
      }
      throw invalidGrant(refusals[result.reason] ?? "The refresh token is invalid.");
    }

    let refreshToken: string | undefined;
    switch (result.outcome) {
      case "rotated":
        refreshToken = successor?.text;
        break;
      case "grace": {
        const secret = await openSuccessor(result.sealedSuccessor, presented.secret);
        if (!secret) throw invalidGrant("The refresh token is invalid.");
        refreshToken = await encodeFamilyToken(
          {
            kind: "refresh_token",
            familyId: presented.familyId,
            generation: presented.generation + 1,
            secret,
          },
          keys.tokenTag,
        );
        break;
      }
      case "unchanged":
        refreshToken = policy.returnOnRefresh ? presentedText : undefined;
        break;
    }

    const { grant } = result;
    const scope = requested ?? grant.scope;
    const accessToken = await issueAccessToken(env, config, {
      client,
      sub: grant.sub,
      scope,
      familyId: presented.familyId,
      authTime: grant.authTime,
      iat,
      exp,
    });
    const response: TokenResponse = {
      access_token: accessToken.token,
      token_type: "Bearer",
      expires_in: exp - iat,
      scope: formatScope(scope),
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
    };
    // OIDC Core §12.2: same iss, sub, aud and auth_time; a new iat; no nonce.
    if (scope.includes("openid")) {
      response.id_token = await issueIdToken(env, config, {
        clientId: client.client_id,
        sub: grant.sub,
        authTime: grant.authTime,
        accessToken: accessToken.token,
        iat,
      });
    }
    audit("token.refreshed", {
      familyId: presented.familyId,
      clientId: client.client_id,
      sub: grant.sub,
      jti: accessToken.jti,
      outcome: result.outcome,
    });
    return response;
  },
};
