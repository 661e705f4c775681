import { createMiddleware } from "hono/factory";
import { OAuthError } from "../errors";
import { type ClientCertificate, presentedCertificate } from "../mtls/certificate";
import type { StepEnv } from "./context";
import type { WithClient } from "./steps";

/** The token endpoint's mutual-TLS steps (RFC 8705 §3): the certificate, then the client's rule. */

export type WithCertificate = { certificate: ClientCertificate | undefined };

/**
 * RFC 8705 §3: "When mutual TLS is used by the client on the connection to
 * the token endpoint, the authorization server is able to bind the issued
 * access token to the client certificate." The certificate Cloudflare
 * reports for the request (none, when the hostname has no mTLS or the client
 * sent none), for the grant to bind to.
 */
export const tokenEndpointCertificate = createMiddleware<StepEnv<WithCertificate>>(
  async (c, next) => {
    c.set("certificate", presentedCertificate(c.req.raw));
    await next();
  },
);

/**
 * RFC 8705 §3.4 tls_client_certificate_bound_access_tokens: the client's
 * "intention to use mutual-TLS client certificate-bound access tokens". Held
 * to it, as dpop_bound_access_tokens holds a DPoP client: a token request
 * without a certificate would get a token that is not bound, so it is refused.
 */
export const clientCertificateRule = createMiddleware<StepEnv<WithClient & WithCertificate>>(
  async (c, next) => {
    if (c.get("client").tls_client_certificate_bound_access_tokens && !c.get("certificate")) {
      throw new OAuthError(
        "invalid_request",
        "This client must present its TLS client certificate with every token request (tls_client_certificate_bound_access_tokens).",
      );
    }
    await next();
  },
);
