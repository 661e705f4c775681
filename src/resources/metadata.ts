import { DPOP_ALGS } from "../dpop/proof";
import type { ProtectedResourceMetadata } from "../resource-server/metadata";
import type { ResourceRecord } from "./model";

/**
 * The RFC 9728 §2 document a registered API should publish at its
 * /.well-known/oauth-protected-resource: what this authorization server
 * knows of it. The admin API serves it for APIs hosted elsewhere; an API on
 * Workers passes it to createResourceServer's `metadata` option.
 */
export function resourceMetadata(
  resource: ResourceRecord,
  issuer: string,
): ProtectedResourceMetadata {
  return {
    // §2: "resource REQUIRED. The protected resource's resource identifier".
    resource: resource.identifier,
    // §2: "authorization_servers OPTIONAL. JSON array containing a list of
    // OAuth authorization server issuer identifiers ... for authorization
    // servers that can be used with this protected resource."
    authorization_servers: [issuer],
    // §2: "scopes_supported RECOMMENDED"; omitted when the API defines none
    // (its tokens then carry the provider's scopes only).
    ...(resource.scopes.length ? { scopes_supported: [...resource.scopes] } : {}),
    // §2: "bearer_methods_supported ... Defined values are ["header", "body",
    // "query"]": RFC 6750 §2.1 only; our resource-server module reads
    // nothing else, and tokens in bodies and URLs end up in logs.
    bearer_methods_supported: ["header"],
    // §2: "resource_name RECOMMENDED. Human-readable name of the protected resource".
    resource_name: resource.name,
    // §2: the JWS algs "supported by the resource server for validating DPoP
    // proof JWTs": those this server accepts at /token (tokens it binds).
    dpop_signing_alg_values_supported: [...DPOP_ALGS],
    // §2: "dpop_bound_access_tokens_required ... whether the protected
    // resource always requires the use of DPoP-bound access tokens". Not so
    // even when require_sender_constrained is set: a token bound to a TLS
    // client certificate (RFC 8705) satisfies it too.
    dpop_bound_access_tokens_required: false,
    // §2: "tls_client_certificate_bound_access_tokens ... protected resource
    // support for mutual-TLS client certificate-bound access tokens". We bind
    // every token requested with a client certificate (discovery says so,
    // RFC 8705 §3.3), so the API must accept them: it does on our
    // resource-server module.
    tls_client_certificate_bound_access_tokens: true,
    // §2 "jwks_uri": the API signs no responses; no key set to name.
  };
}
