import type { MiddlewareHandler } from "hono";
import type { ResourceServer, RouteRequirements, VerifiedToken } from "./resource-server";

/** What the middleware puts in the context: `c.get("accessToken")`. */
export interface AccessTokenVariables {
  accessToken: VerifiedToken;
}

/**
 * Hono middleware: the route runs only for a request with a valid access
 * token holding `requirements.scopes`; otherwise the RFC 6750 §3 refusal is
 * the response. `server` may be a function of the bindings, for a resource
 * server made once from them. (Only a type of hono is imported.)
 */
export function requireAccessToken<Bindings extends object = object>(
  server: ResourceServer | ((env: Bindings) => ResourceServer),
  requirements: RouteRequirements = {},
): MiddlewareHandler<{ Bindings: Bindings; Variables: AccessTokenVariables }> {
  return async (c, next) => {
    const rs = typeof server === "function" ? server(c.env) : server;
    const result = await rs.authenticate(c.req.raw, requirements);
    if (result instanceof Response) return result;
    c.set("accessToken", result);
    await next();
  };
}

/**
 * Hono middleware publishing the resource server's RFC 9728 document at its
 * well-known path (derived from `metadata.resource`, RFC 9728 §3.1):
 * `app.use(protectedResourceMetadata(rs))`. Any other request goes on.
 */
export function protectedResourceMetadata<Bindings extends object = object>(
  server: ResourceServer | ((env: Bindings) => ResourceServer),
): MiddlewareHandler<{ Bindings: Bindings }> {
  return async (c, next) => {
    const rs = typeof server === "function" ? server(c.env) : server;
    const response = rs.metadataResponse(c.req.raw);
    if (response) return response;
    await next();
  };
}
