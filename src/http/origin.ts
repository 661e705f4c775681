import type { ProviderConfig } from "../config";
import { MTLS_ALIASED } from "../paths";

/**
 * Which of our two origins a request came to: the issuer's, or the mTLS
 * alias origin (RFC 8705 §5, MTLS_ENDPOINT_ORIGIN). The issuer never changes
 * with it (config.issuer comes from ISSUER alone); only the URLs a client
 * signs over do.
 */

/** The request came to the mTLS alias origin. A string test: no URL is parsed per request. */
export const onMtlsAlias = (config: ProviderConfig, requestUrl: string): boolean =>
  config.mtlsEndpointOrigin !== undefined && requestUrl.startsWith(`${config.mtlsEndpointOrigin}/`);

/**
 * The URL of one of our endpoints as this request addressed it: a DPoP
 * proof's `htu` (RFC 9449 §4.3: "the HTTP URI value for the HTTP request in
 * which the JWT was received") and a client assertion's audience name the
 * URL the client called, which is the alias when it does mutual TLS (§5: it
 * "MUST use the alias URL of the endpoint").
 */
export function endpointUrl(config: ProviderConfig, requestUrl: string, path: string): string {
  const origin = onMtlsAlias(config, requestUrl) ? config.mtlsEndpointOrigin : config.issuer;
  return `${origin}${path}`;
}

const ALIASED_PATHS: ReadonlySet<string> = new Set(Object.values(MTLS_ALIASED));

/** Only the aliased endpoints answer on the alias origin; the rest (pages, admin, discovery) do not exist there. */
export const servedOnMtlsAlias = (path: string): boolean => ALIASED_PATHS.has(path);
