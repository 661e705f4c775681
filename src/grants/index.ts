import { authorizationCodeGrant } from "./authorization-code";
import { clientCredentialsGrant } from "./client-credentials";
import { deviceCodeGrant } from "./device-code";
import type { GrantHandler } from "./grant";
import { refreshTokenGrant } from "./refresh-token";

/** Every grant the token endpoint accepts, looked up by `grant_type` (discovery lists these). */
export const GRANT_HANDLERS: ReadonlyMap<string, GrantHandler> = new Map(
  [authorizationCodeGrant, refreshTokenGrant, clientCredentialsGrant, deviceCodeGrant].map((h) => [
    h.grantType,
    h,
  ]),
);
