import type { ClientRecord, GrantType } from "../clients/model";
import type { ProviderConfig } from "../config";
import type { Env } from "../env";
import type { Params } from "../http/form";
import type { TokenResponse } from "../tokens/issue";

/** What a grant handler is given: an authenticated client and the request's parameters. */
export interface GrantRequest {
  env: Env;
  config: ProviderConfig;
  client: ClientRecord;
  params: Params;
}

/** One grant type at the token endpoint (as fosite's handlers are). */
export interface GrantHandler {
  grantType: GrantType;
  handle(request: GrantRequest): Promise<TokenResponse>;
}
