import type { Hono } from "hono";
import type { ProviderConfig } from "../config";
import type { AppContext, AppEnv } from "../http/context";
import { endpoint } from "../http/endpoint";
import { SIGNING_ALG } from "../tokens/signing-keys";

/**
 * RFC 8414 and OIDC Discovery 1.0. Every value advertised here comes from the
 * module that implements it, so the document cannot promise what the code
 * does not do (test/routes/discovery.test.ts checks each one).
 */

/** Paths of every endpoint, relative to the issuer. */
export const PATHS = {
  authorization: "/authorize",
  token: "/token",
  userinfo: "/userinfo",
  jwks: "/jwks",
  revocation: "/revoke",
  introspection: "/introspect",
} as const;

export interface Supported {
  grantTypes: readonly string[];
  clientAuthMethods: readonly string[];
  clientAuthSigningAlgs: readonly string[];
}

let supported: Supported = { grantTypes: [], clientAuthMethods: [], clientAuthSigningAlgs: [] };

/** The grant and client-authentication modules register what they implement. */
export function advertise(values: Partial<Supported>): void {
  supported = { ...supported, ...values };
}

export function metadata(config: ProviderConfig): Record<string, unknown> {
  const url = (path: string) => `${config.issuer}${path}`;
  const authMethods = supported.clientAuthMethods;
  return {
    issuer: config.issuer,
    authorization_endpoint: url(PATHS.authorization),
    token_endpoint: url(PATHS.token),
    userinfo_endpoint: url(PATHS.userinfo),
    jwks_uri: url(PATHS.jwks),
    revocation_endpoint: url(PATHS.revocation),
    introspection_endpoint: url(PATHS.introspection),
    scopes_supported: config.scopes,
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: supported.grantTypes,
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: [SIGNING_ALG],
    userinfo_signing_alg_values_supported: ["none"],
    token_endpoint_auth_methods_supported: authMethods,
    token_endpoint_auth_signing_alg_values_supported: supported.clientAuthSigningAlgs,
    revocation_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_signing_alg_values_supported: supported.clientAuthSigningAlgs,
    introspection_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_signing_alg_values_supported: supported.clientAuthSigningAlgs,
    code_challenge_methods_supported: ["S256"],
    claims_supported: [
      "iss",
      "sub",
      "aud",
      "exp",
      "iat",
      "auth_time",
      "nonce",
      "at_hash",
      "azp",
      "name",
      "preferred_username",
      "updated_at",
      "email",
      "email_verified",
    ],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    prompt_values_supported: ["none", "login", "consent"],
    authorization_response_iss_parameter_supported: true,
  };
}

export function discoveryRoutes(app: Hono<AppEnv>): void {
  const serve = (c: AppContext) =>
    c.json(metadata(c.get("config")), 200, { "Cache-Control": "public, max-age=300" });
  endpoint(app, "/.well-known/openid-configuration", { GET: serve });
  endpoint(app, "/.well-known/oauth-authorization-server", { GET: serve });
}
