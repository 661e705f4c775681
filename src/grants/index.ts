import type { GrantType } from "../clients/model";
import { advertise } from "../routes/discovery";
import { authorizationCodeGrant } from "./authorization-code";
import { clientCredentialsGrant } from "./client-credentials";
import type { GrantHandler } from "./grant";
import { refreshTokenGrant } from "./refresh-token";

/** Every grant the token endpoint accepts, looked up by `grant_type`. */
export const GRANT_HANDLERS: ReadonlyMap<string, GrantHandler> = new Map<GrantType, GrantHandler>(
  [authorizationCodeGrant, refreshTokenGrant, clientCredentialsGrant].map((h) => [h.grantType, h]),
);

advertise({ grantTypes: [...GRANT_HANDLERS.keys()] });
