import { accessTokenLifetime, familyPolicy, refreshPolicy } from "../clients/policy";
import { invalidGrant, invalidRequest } from "../errors";
import { meansRevoked, type Refusal } from "../families/state";
import { familyStub } from "../families/stub";
import { sha256, toBase64Url, utf8 } from "../lib/bytes";
import { nowSeconds } from "../lib/time";
import { audit } from "../log";
import { noteFamilyRevoked } from "../revocation/lists";
import {
  claimedKind,
  decodeFamilyToken,
  encodeFamilyToken,
  newSecret,
  secretHash,
} from "../tokens/family-token";
import { issueAccessToken, issueIdToken, type TokenResponse } from "../tokens/issue";
import { serverKeys } from "../server-keys";
import type { GrantHandler } from "./grant";
import { formatScope } from "../scope";

/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

const refusals: Partial<Record<Refusal, string>> = {
  expired: "The authorization code has expired.",
  pkce_failed: "The code_verifier does not match the code_challenge of the authorization request.",
  reuse_detected:
    "The authorization code was already used; the tokens issued with it have been revoked.",
  revoked: "The authorization code was already used.",
  wrong_client: "The authorization code was issued to another client.",
};

/** RFC 6749 §4.1.3 with RFC 7636 (PKCE) and OIDC Core §3.1.3. */
export const authorizationCodeGrant: GrantHandler = {
  grantType: "authorization_code",
  async handle({ env, config, client, params }): Promise<TokenResponse> {
    const codeText = params.require("code");
    const redirectUri = params.require("redirect_uri");
    const verifier = params.get("code_verifier");
    if (verifier !== undefined && !CODE_VERIFIER.test(verifier)) {
      throw invalidRequest(
        "The code_verifier must be 43 to 128 characters of [A-Za-z0-9._~-] (RFC 7636 §4.1).",
      );
    }
    const keys = await serverKeys(env);
    const code = await decodeFamilyToken(codeText, "authorization_code", keys.tokenTag);
    if (!code) {
      throw invalidGrant(
        claimedKind(codeText) === "refresh_token"
          ? "A refresh token is not an authorization code."
          : "The authorization code is invalid.",
      );
    }
    const family = familyStub(env, code.familyId);
    if (!family) throw invalidGrant("The authorization code is invalid.");

    const policy = refreshPolicy(client, config);
    const firstRefresh = policy.issue ? { generation: 0, secret: newSecret() } : undefined;
    const iat = nowSeconds();
    const exp = iat + accessTokenLifetime(client, config);
    const result = await family.redeem({
      codeHash: await secretHash(code.secret),
      clientId: client.client_id,
      redirectUri,
      ...(verifier !== undefined
        ? { verifierChallenge: toBase64Url(await sha256(utf8(verifier))) }
        : {}),
      ...(firstRefresh
        ? { refresh: { generation: 0, hash: await secretHash(firstRefresh.secret) } }
        : {}),
      policy: familyPolicy(policy),
      accessTokenExpiresAt: exp * 1000,
    });
    if (!result.ok) {
      if (meansRevoked(result.reason)) noteFamilyRevoked(env, code.familyId);
      throw invalidGrant(refusals[result.reason] ?? "The authorization code is invalid.");
    }

    const { grant } = result;
    const accessToken = await issueAccessToken(env, config, {
      client,
      sub: grant.sub,
      scope: grant.scope,
      familyId: code.familyId,
      authTime: grant.authTime,
      iat,
      exp,
    });
    const response: TokenResponse = {
      access_token: accessToken.token,
      token_type: "Bearer",
      expires_in: exp - iat,
      scope: formatScope(grant.scope),
    };
    if (result.refreshIssued && firstRefresh) {
      response.refresh_token = await encodeFamilyToken(
        { kind: "refresh_token", familyId: code.familyId, ...firstRefresh },
        keys.tokenTag,
      );
    }
    if (grant.scope.includes("openid")) {
      response.id_token = await issueIdToken(env, config, {
        clientId: client.client_id,
        sub: grant.sub,
        authTime: grant.authTime,
        accessToken: accessToken.token,
        iat,
        ...(result.nonce !== undefined ? { nonce: result.nonce } : {}),
      });
    }
    audit("token.issued", {
      grant: "authorization_code",
      familyId: code.familyId,
      clientId: client.client_id,
      sub: grant.sub,
      jti: accessToken.jti,
      refreshToken: response.refresh_token !== undefined,
    });
    return response;
  },
};
