import { accessTokenLifetime } from "../clients/policy";
import { invalidScope } from "../errors";
import { nowSeconds } from "../lib/time";
import { audit } from "../log";
import { issueAccessToken, type TokenResponse } from "../tokens/issue";
import type { GrantHandler } from "./grant";
import { formatScope, requestedScope } from "../scope";

/** Scopes about a user make no sense for a token that has none. */
const USER_SCOPES = new Set(["openid", "profile", "email", "offline_access"]);

/** RFC 6749 §4.4: a token for the client itself, and never a refresh token (§4.4.3). */
export const clientCredentialsGrant: GrantHandler = {
  grantType: "client_credentials",
  async handle({ env, config, client, params }): Promise<TokenResponse> {
    const allowed = client.scopes.filter((s) => !USER_SCOPES.has(s));
    const scope = requestedScope(params.get("scope"), allowed, allowed);
    if (scope.length === 0) {
      throw invalidScope(
        "This client has no scope it can be granted without a user (see its registered scope).",
      );
    }
    const iat = nowSeconds();
    const exp = iat + accessTokenLifetime(client, config);
    const accessToken = await issueAccessToken(env, config, {
      client,
      sub: client.client_id,
      scope,
      iat,
      exp,
    });
    audit("token.issued", {
      grant: "client_credentials",
      clientId: client.client_id,
      jti: accessToken.jti,
    });
    return {
      access_token: accessToken.token,
      token_type: "Bearer",
      expires_in: exp - iat,
      scope: formatScope(scope),
    };
  },
};
