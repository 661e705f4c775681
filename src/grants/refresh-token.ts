import { refreshPolicy } from "../clients/policy";
import { invalidGrant, invalidScope } from "../errors";
import { refreshFamily } from "../families/refresh-gateway";
import { audit } from "../log";
import type { ResourceRecord } from "../resources/model";
import { parseScope } from "../scope";
import { claimedFamilyId } from "../tokens/family-token";
import { downscoped, registeredResource, targetAfter, windowFor } from "./audience";
import { defineGrant, presentedProofs, provenBy } from "./grant";
import { readyToSign, tokenResponse } from "./response";

/**
 * RFC 6749 §6, with rotation, reuse detection and a grace window (OAuth 2.1
 * §4.3, RFC 9700 §4.14.2). Everything that can be decided without the family
 * (the client's policy, the scope syntax; the token's tag in the gateway) is
 * decided first; then one call to the family decides the rest, atomically.
 */
export const refreshTokenGrant = defineGrant({
  grantType: "refresh_token",
  parameters: { required: ["refresh_token"], optional: ["scope", "resource"] },
  proofFamily: (params) => {
    const token = params.get("refresh_token");
    return token === undefined ? undefined : claimedFamilyId(token, "refresh_token");
  },
  async handle(request) {
    const { env, config, client, params } = request;
    const proven = provenBy(request);
    let requested: string[] | undefined;
    if (params.scope !== undefined) {
      requested = parseScope(params.scope);
      if (!requested?.length) throw invalidScope("The scope parameter is malformed.");
    }
    const policy = refreshPolicy(client, config);
    if (!policy.issue) throw invalidGrant("Refresh tokens are turned off for this client.");

    // RFC 8707 §2.2: a refresh may ask for any one resource the grant covers;
    // checked here (registered, proof if needed), then by the family (granted).
    let named =
      params.resource !== undefined
        ? await registeredResource(env, params.resource, proven)
        : undefined;
    await readyToSign(env, config);
    const attempt = (resource: ResourceRecord | undefined) => {
      const window = windowFor(client, config, resource);
      return refreshFamily(env, {
        refreshToken: params.refresh_token,
        clientId: client.client_id,
        ...(requested ? { scope: requested } : {}),
        clientScopes: client.scopes,
        ...presentedProofs(proven),
        ...(request.dpop ? { proof: request.dpop } : {}),
        // RFC 9449 §5: confidential clients' refresh tokens stay bound to their authentication.
        bindRefreshToProof: client.credential.method === "none",
        ...(resource ? { resource: resource.identifier } : {}),
        policy,
        accessTokenExpiresAt: window.exp * 1000,
      }).then((answer) => ({ answer, window }));
    };
    let { answer, window } = await attempt(named);
    if ("resourceToCheck" in answer) {
      // The grant's only resource, as the client named none: checked as it is
      // registered now (deleted since, or now requiring a proof the request
      // lacks: refused), then asked for by name. Nothing rotated meanwhile.
      named = await registeredResource(env, answer.resourceToCheck, proven);
      ({ answer, window } = await attempt(named));
      if ("resourceToCheck" in answer) throw new Error("the family named a resource twice");
    }
    const refreshed = answer;
    const { grant } = refreshed;
    // RFC 6749 §6: a narrower scope applies to this response; the grant keeps
    // its own. And never more than the client may have today: a scope the
    // administrator took away since the grant is dropped from every new token.
    // (The family refused the refresh if nothing would be left.)
    const permitted = (requested ?? grant.scope).filter((s) => client.scopes.includes(s));
    // OIDC Core §12.2: an ID token on refresh has the same iss, sub, aud and
    // auth_time, a new iat, and no nonce.
    const target = await targetAfter(env, config, refreshed.resource, window, proven, named);
    // RFC 8707 §2.2, narrowing per resource: of what RFC 6749 §6 allows, only
    // what this token's resource may see (another granted resource's scopes stay out).
    const scope = await downscoped(env, permitted, target.resource, grant.resources ?? []);
    const { response, jti } = await tokenResponse(env, config, {
      client,
      sub: grant.sub,
      scope,
      audience: target.audience,
      window: target.window,
      familyId: refreshed.familyId,
      authTime: grant.authTime,
      ...(grant.sid !== undefined ? { sid: grant.sid } : {}),
      ...(refreshed.refreshToken ? { refreshToken: refreshed.refreshToken } : {}),
      ...proven,
    });
    audit("token.refreshed", {
      familyId: refreshed.familyId,
      clientId: client.client_id,
      sub: grant.sub,
      jti,
      outcome: refreshed.outcome,
      aud: target.audience,
      ...proven,
    });
    return { body: response, ...(refreshed.dpopNonce ? { dpopNonce: refreshed.dpopNonce } : {}) };
  },
});
