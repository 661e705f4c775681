import { invalidScope, invalidTarget } from "../errors";
import { audit } from "../log";
import { requestedScope } from "../scope";
import { clientResource, downscoped, windowFor } from "./audience";
import { defineGrant, provenBy } from "./grant";
import { tokenResponse } from "./response";

/** Scopes about a user make no sense for a token that has none. */
const USER_SCOPES = new Set(["openid", "profile", "email", "offline_access"]);

/** RFC 6749 §4.4: a token for the client itself, and never a refresh token (§4.4.3). */
export const clientCredentialsGrant = defineGrant({
  grantType: "client_credentials",
  parameters: { required: [], optional: ["scope", "resource"] },
  async handle(request) {
    const { env, config, client, params } = request;
    const proven = provenBy(request);
    const allowed = client.scopes.filter((s) => !USER_SCOPES.has(s));
    const asked = requestedScope(params.scope, allowed, allowed);
    if (asked.length === 0) {
      throw invalidScope(
        "This client has no scope it can be granted without a user (see its registered scope).",
      );
    }
    // RFC 8707 §2.2, "for all grant types": a resource the client is registered for.
    const resource =
      params.resource !== undefined
        ? await clientResource(env, client, params.resource, proven)
        : undefined;
    // RFC 8707 §2.2: the client's other resources' scopes stay out of this token;
    // §2: invalid_target also tells "an invalid combination of resource and scope".
    const scope = await downscoped(env, asked, resource, client.resources ?? []);
    if (scope.length === 0) {
      throw invalidTarget(
        "None of the requested scopes can be granted for this audience: they belong to another resource.",
      );
    }
    const { response, jti } = await tokenResponse(env, config, {
      client,
      sub: client.client_id,
      scope,
      audience: resource?.identifier ?? config.defaultAudience,
      window: windowFor(client, config, resource),
      ...proven,
    });
    audit("token.issued", {
      grant: "client_credentials",
      clientId: client.client_id,
      jti,
      aud: resource?.identifier ?? config.defaultAudience,
      ...proven,
    });
    return { body: response };
  },
});
