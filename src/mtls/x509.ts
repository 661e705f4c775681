import { sha256, toBase64Url } from "../lib/bytes";

/**
 * Certificates as a client registers them: the strings of a JWK's `x5c`
 * (RFC 7517 §4.7: "base64-encoded (Section 4 of [RFC4648] -- not
 * base64url-encoded) DER [ITU.X690.2008] PKIX certificate value").
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The DER length at `offset` (X.690 §8.1.3, definite form), and where the contents start. */
function derLength(der: Uint8Array, offset: number): { length: number; start: number } | undefined {
  const first = der[offset];
  if (first === undefined) return undefined;
  if (first < 0x80) return { length: first, start: offset + 1 };
  const count = first - 0x80;
  // 0x80 is the indefinite form, which DER forbids; four bytes are more than any certificate needs.
  if (count < 1 || count > 4 || der[offset + 1] === 0) return undefined;
  let length = 0;
  for (let i = 1; i <= count; i++) {
    const byte = der[offset + i];
    if (byte === undefined) return undefined;
    length = length * 256 + byte;
  }
  return length < 0x80 ? undefined : { length, start: offset + 1 + count };
}

/**
 * The DER bytes of one `x5c` entry, or undefined when it is not standard
 * base64 of something shaped like a certificate: one SEQUENCE filling the
 * whole value, opening with another SEQUENCE (tbsCertificate, RFC 5280
 * §4.1). Whether it really is a certificate of the key is the caller's check.
 */
export function certificateDer(text: string): Uint8Array | undefined {
  if (text.length === 0 || !BASE64.test(text)) return undefined;
  const binary = atob(text);
  const der = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  if (der[0] !== 0x30) return undefined;
  const outer = derLength(der, 1);
  if (!outer || outer.start + outer.length !== der.length) return undefined;
  if (der[outer.start] !== 0x30) return undefined;
  const tbs = derLength(der, outer.start + 1);
  return tbs && tbs.start + tbs.length <= der.length ? der : undefined;
}

/** RFC 8705 §3.1: `x5t#S256`, the base64url SHA-256 of the certificate's DER. */
export const certificateThumbprint = async (der: Uint8Array): Promise<string> =>
  toBase64Url(await sha256(der));
