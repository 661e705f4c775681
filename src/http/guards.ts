import type { MiddlewareHandler } from "hono";
import { LIMITS, providerConfig } from "../config";
import { invalidRequest, OAuthError } from "../errors";
import type { AppEnv } from "./context";
import { onMtlsAlias, servedOnMtlsAlias } from "./origin";

/** Refuses oversized headers before any work is done for the request. */
export const headerLimits: MiddlewareHandler<AppEnv> = async (c, next) => {
  let total = 0;
  for (const [name, value] of c.req.raw.headers) {
    const size = name.length + value.length;
    if (size > LIMITS.maxHeaderBytes)
      throw invalidRequest(`A request header is larger than ${LIMITS.maxHeaderBytes} bytes.`);
    total += size;
  }
  if (total > LIMITS.maxTotalHeaderBytes) {
    throw invalidRequest(
      `The request headers are larger than ${LIMITS.maxTotalHeaderBytes} bytes.`,
    );
  }
  await next();
};

export const withConfig: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set("config", providerConfig(c.env, c.req.url));
  await next();
};

/**
 * RFC 8705 §5: the mTLS alias origin serves the aliased endpoints and
 * nothing else. The sign-in pages, discovery and the admin API stay on the
 * issuer's origin, where browsers are never asked for a certificate.
 */
export const mtlsAliasScope: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (onMtlsAlias(c.get("config"), c.req.url) && !servedOnMtlsAlias(c.req.path)) {
    throw new OAuthError(
      "not_found",
      "This host serves only the mutual-TLS endpoint aliases (see mtls_endpoint_aliases).",
    );
  }
  await next();
};
