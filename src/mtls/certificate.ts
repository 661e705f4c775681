import { toBase64Url } from "../lib/bytes";

/**
 * The TLS client certificate a request was made with (RFC 8705), as
 * Cloudflare's edge reports it. The Worker never sees the TLS handshake:
 * Cloudflare terminates TLS, asks for a client certificate on hostnames where
 * mTLS is enabled, checks the client's CertificateVerify (possession of the
 * private key, RFC 8705 §1.2) and the chain against the CAs the zone trusts,
 * and hands the result to the Worker in `request.cf.tlsClientAuth`
 * (Cloudflare, "Client certificate variables"). `request.cf` is written by the
 * edge alone; no request header (Client-Cert, X-SSL-Client-*) is ever read
 * for a certificate here, since any client can send one.
 */

export interface ClientCertificate {
  /**
   * RFC 8705 §3.1: "a base64url-encoded SHA-256 hash ... of the DER encoding
   * of the X.509 certificate", the `x5t#S256` of a bound token. Cloudflare
   * gives the same hash as hex (`certFingerprintSHA256`).
   */
  x5t: string;
  /**
   * `certVerified` is "SUCCESS": the certificate chains to a CA configured for
   * the zone's mTLS. Otherwise it reads "FAILED:<reason>" (a self-signed
   * certificate: "FAILED:self signed certificate"), and the handshake still
   * proved the client holds the certificate's key.
   */
  chainVerified: boolean;
  /** `certSubjectDNRFC2253`: the subject as an RFC 2253 string ("" when Cloudflare gives none). */
  subjectDn: string;
}

/** The fields we read; typed loosely, since a test or a future edge may leave any of them out. */
type TlsClientAuth = Partial<Record<string, unknown>>;

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

function hexBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++)
    bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/**
 * The certificate of this request, or undefined when there is none to rely
 * on: no `cf` (a request that did not come through the edge), no certificate
 * presented (`certPresented` "0", the placeholder Cloudflare sets when mTLS is
 * not in play), a certificate Cloudflare reports revoked (`certRevoked` "1":
 * it authenticates nothing and binds nothing here), or a fingerprint that is
 * not a SHA-256 in hex. Costs no crypto: a request without a certificate pays
 * one property read.
 */
export function presentedCertificate(request: Request): ClientCertificate | undefined {
  const tls = (request.cf as { tlsClientAuth?: TlsClientAuth } | undefined)?.tlsClientAuth;
  if (tls?.certPresented !== "1" || tls.certRevoked === "1") return undefined;
  const fingerprint = tls.certFingerprintSHA256;
  if (typeof fingerprint !== "string" || !SHA256_HEX.test(fingerprint)) return undefined;
  return {
    x5t: toBase64Url(hexBytes(fingerprint)),
    chainVerified: tls.certVerified === "SUCCESS",
    subjectDn: typeof tls.certSubjectDNRFC2253 === "string" ? tls.certSubjectDNRFC2253 : "",
  };
}
