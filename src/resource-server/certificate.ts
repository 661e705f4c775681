import { base64url } from "jose";

/**
 * RFC 8705 §3: a certificate-bound token (`cnf["x5t#S256"]`) is accepted
 * only over a TLS connection authenticated by that certificate. On Workers
 * the handshake is Cloudflare's; the Worker sees its result in
 * `request.cf.tlsClientAuth`, whose `certFingerprintSHA256` is the SHA-256 of
 * the certificate's DER in hex (empty when no certificate was presented).
 */
export function presentedThumbprint(request: Request): string | undefined {
  const cf = (request as { cf?: { tlsClientAuth?: Record<string, unknown> } }).cf;
  const hex = cf?.tlsClientAuth?.certFingerprintSHA256;
  if (typeof hex !== "string" || !/^(?:[0-9a-fA-F]{2}){32}$/.test(hex)) return undefined;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return base64url.encode(bytes);
}
