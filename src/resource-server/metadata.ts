/**
 * RFC 9728: OAuth 2.0 Protected Resource Metadata, the document an API
 * publishes so that a client that met it (often through a 401's
 * `resource_metadata`, §5.1) can learn which authorization server issues its
 * tokens and how to present them. Pure functions: the document's shape, the
 * well-known URL derived from the resource identifier, and the response.
 */

/** RFC 9728 §2, the members this service knows; others may be added (§2: "Additional protected resource metadata parameters MAY also be used"). */
export interface ProtectedResourceMetadata {
  /** §2 REQUIRED: "The protected resource's resource identifier, which is a URL that uses the https scheme and has no fragment component." */
  resource: string;
  /** §2: "JSON array containing a list of OAuth authorization server issuer identifiers". */
  authorization_servers?: string[];
  /** §2: "URL of the protected resource's JSON Web Key (JWK) Set document"; absent when it signs nothing. */
  jwks_uri?: string;
  /** §2 RECOMMENDED: "JSON array containing a list of the OAuth 2.0 [RFC6749] scope values that are used in authorization requests to request access to this protected resource". */
  scopes_supported?: string[];
  /** §2: "the supported methods of sending an OAuth 2.0 bearer token [RFC6750] to the protected resource. Defined values are ["header", "body", "query"]". */
  bearer_methods_supported?: string[];
  /** §2 RECOMMENDED: "Human-readable name of the protected resource intended for display to the end user". */
  resource_name?: string;
  /** §2: "JSON array containing a list of the JWS alg values ... supported by the resource server for validating DPoP proof JWTs". */
  dpop_signing_alg_values_supported?: string[];
  /** §2: "whether the protected resource always requires the use of DPoP-bound access tokens [RFC9449]. If omitted, the default value is false." */
  dpop_bound_access_tokens_required?: boolean;
  /** §2: "protected resource support for mutual-TLS client certificate-bound access tokens [RFC8705]. If omitted, the default value is false." */
  tls_client_certificate_bound_access_tokens?: boolean;
  [extension: string]: unknown;
}

/** §3: "The well-known URI path suffix used for protected resource metadata is oauth-protected-resource". */
export const WELL_KNOWN_SUFFIX = "/.well-known/oauth-protected-resource";

/**
 * RFC 9728 §3.1: "If the resource identifier value contains a path or query
 * component, any terminating slash (/) following the host component MUST be
 * removed before inserting /.well-known/ and the well-known URI path suffix
 * between the host component and the path and/or query components."
 * So https://api.example.com/ → https://api.example.com/.well-known/oauth-protected-resource
 * and https://api.example.com/v1 → https://api.example.com/.well-known/oauth-protected-resource/v1.
 * A slash that ends a longer path is dropped too, as the MCP TypeScript SDK
 * (the client most of our resources meet) builds the URL.
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname.replace(/\/$/, "");
  return `${url.origin}${WELL_KNOWN_SUFFIX}${path}${url.search}`;
}

/**
 * §3.2: "A successful response MUST use the 200 OK HTTP status code and
 * return a JSON object using the application/json content type". Public,
 * cacheable for a while, and readable cross-origin (browser-based clients
 * discover the API this way).
 */
export function metadataResponse(document: ProtectedResourceMetadata, method = "GET"): Response {
  const headers = {
    "Content-Type": "application/json",
    "Cache-Control": "public, max-age=300",
    "Access-Control-Allow-Origin": "*",
  };
  return new Response(method === "HEAD" ? null : JSON.stringify(document), {
    status: 200,
    headers,
  });
}
