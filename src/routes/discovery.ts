import type { Hono } from "hono";
import {
  CLIENT_AUTH_METHODS,
  CLIENT_AUTH_SIGNING_ALGS,
  INTROSPECTION_AUTH_METHODS,
} from "../clients/authentication";
import type { ProviderConfig } from "../config";
import { DPOP_ALGS } from "../dpop/proof";
import { RESPONSE_MODES } from "../errors";
import { GRANT_HANDLERS } from "../grants";
import type { AppContext, AppEnv } from "../http/context";
import { endpoint } from "../http/endpoint";
import { MTLS_ALIASED, PATHS } from "../paths";
import { SIGNING_ALGS } from "../tokens/signing-keys";

/**
 * RFC 8414 and OIDC Discovery 1.0. Every value advertised here is read from
 * the module that implements it (the grant map, client authentication, the
 * signing keys), so the document cannot promise what the code does not do
 * (test/routes/discovery.test.ts checks each one).
 */

export function metadata(config: ProviderConfig): Record<string, unknown> {
  const url = (path: string) => `${config.issuer}${path}`;
  const authMethods = CLIENT_AUTH_METHODS;
  const authAlgs = CLIENT_AUTH_SIGNING_ALGS;
  return {
    issuer: config.issuer,
    authorization_endpoint: url(PATHS.authorization),
    token_endpoint: url(PATHS.token),
    userinfo_endpoint: url(PATHS.userinfo),
    jwks_uri: url(PATHS.jwks),
    revocation_endpoint: url(PATHS.revocation),
    introspection_endpoint: url(PATHS.introspection),
    // OIDC RP-Initiated Logout 1.0 §2.1.
    end_session_endpoint: url(PATHS.endSession),
    // OIDC Back-Channel Logout 1.0 §2.1: logout tokens go to the clients'
    // backchannel_logout_uri, and they carry `sid` (as ID tokens do).
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    // RFC 8628 §4.
    device_authorization_endpoint: url(PATHS.deviceAuthorization),
    // RFC 8414 §2: named only when there is one to use (REGISTRATION open or token).
    ...(config.registration !== "off" ? { registration_endpoint: url(PATHS.registration) } : {}),
    scopes_supported: config.scopes,
    response_types_supported: ["code"],
    response_modes_supported: RESPONSE_MODES,
    grant_types_supported: [...GRANT_HANDLERS.keys()],
    subject_types_supported: ["public"],
    // OIDC Core §15.1 and Discovery §3: RS256 must be supported for ID tokens.
    id_token_signing_alg_values_supported: ["RS256", ...SIGNING_ALGS.filter((a) => a !== "RS256")],
    token_endpoint_auth_methods_supported: authMethods,
    token_endpoint_auth_signing_alg_values_supported: authAlgs,
    revocation_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_signing_alg_values_supported: authAlgs,
    introspection_endpoint_auth_methods_supported: INTROSPECTION_AUTH_METHODS,
    introspection_endpoint_auth_signing_alg_values_supported: authAlgs,
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
    // RFC 9449 §5.1.
    dpop_signing_alg_values_supported: DPOP_ALGS,
    // RFC 8705 §3.3: every token request made with a TLS client certificate
    // gets access tokens bound to it (src/grants/grant.ts).
    tls_client_certificate_bound_access_tokens: true,
    // draft-ietf-oauth-client-id-metadata-document §5.
    ...(config.clientMetadataDocuments ? { client_id_metadata_document_supported: true } : {}),
    ...(config.mtlsEndpointOrigin
      ? { mtls_endpoint_aliases: aliases(config.mtlsEndpointOrigin) }
      : {}),
  };
}

/**
 * RFC 8705 §5: "An OAuth client intending to do mutual TLS ... MUST use the
 * alias URL of the endpoint within the mtls_endpoint_aliases, when present".
 */
const aliases = (origin: string): Record<string, string> =>
  Object.fromEntries(
    Object.entries(MTLS_ALIASED).map(([name, path]) => [name, `${origin}${path}`]),
  );

export function discoveryRoutes(app: Hono<AppEnv>): void {
  const serve = (c: AppContext) =>
    c.json(metadata(c.get("config")), 200, { "Cache-Control": "public, max-age=300" });
  endpoint(app, "/.well-known/openid-configuration", { GET: serve });
  endpoint(app, "/.well-known/oauth-authorization-server", { GET: serve });
}
