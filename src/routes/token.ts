import type { Hono } from "hono";
import { authenticateClient } from "../clients/authentication";
import { allowsGrant } from "../clients/model";
import { LIMITS } from "../config";
import { OAuthError, unauthorizedClient } from "../errors";
import { GRANT_HANDLERS } from "../grants";
import type { AppEnv } from "../http/context";
import { endpoint } from "../http/endpoint";
import { readForm } from "../http/form";
import { noStore } from "../http/no-store";
import { PATHS } from "./discovery";

/**
 * The token endpoint (RFC 6749 §3.2), as an ordered list of steps:
 * parse the form strictly → find the grant handler → authenticate the client →
 * check the client may use the grant → let the handler answer.
 */
export function tokenRoutes(app: Hono<AppEnv>): void {
  endpoint(app, PATHS.token, {
    POST: [
      noStore,
      async (c) => {
        const config = c.get("config");
        const params = await readForm(c.req.raw, LIMITS.maxFormBytes);
        const grantType = params.require("grant_type");
        const handler = GRANT_HANDLERS.get(grantType);
        if (!handler) {
          throw new OAuthError(
            "unsupported_grant_type",
            "This grant_type is not supported (see grant_types_supported).",
          );
        }
        const client = await authenticateClient({
          env: c.env,
          config,
          request: c.req.raw,
          params,
          endpointUrl: `${config.issuer}${PATHS.token}`,
        });
        if (!allowsGrant(client, handler.grantType)) {
          throw unauthorizedClient(
            `This client is not registered for the ${handler.grantType} grant.`,
          );
        }
        const response = await handler.handle({ env: c.env, config, client, params });
        return c.json(response);
      },
    ],
  });
}
