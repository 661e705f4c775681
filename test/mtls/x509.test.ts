import { describe, expect, it } from "vitest";
import { certificateDer, certificateThumbprint } from "../../src/mtls/x509";
import { CERTIFICATES, x5tOf } from "../support/mtls";

/** RFC 7517 §4.7 x5c entries: base64 (not base64url) DER certificates. */

describe("certificateDer", () => {
  it("takes each test certificate, and hashes it as OpenSSL's fingerprint says", async () => {
    for (const certificate of Object.values(CERTIFICATES)) {
      const der = certificateDer(certificate.der);
      expect(der).toBeDefined();
      const hex = [...new Uint8Array(await crypto.subtle.digest("SHA-256", der as Uint8Array))]
        .map((b) => b.toString(16).padStart(2, "0"))
        .join("");
      expect(hex).toBe(certificate.sha256Hex);
      expect(await certificateThumbprint(der as Uint8Array)).toBe(await x5tOf(certificate));
    }
  });

  it.each([
    ["an empty string", ""],
    ["base64url", CERTIFICATES.app1.der.replace(/\+/g, "-").replace(/\//g, "_")],
    ["base64 without its padding", CERTIFICATES.app1.der.replace(/=+$/, "")],
    ["a PEM", `-----BEGIN CERTIFICATE-----\n${CERTIFICATES.app1.der}\n-----END CERTIFICATE-----`],
    ["a truncated certificate", CERTIFICATES.payments.der.slice(0, 200)],
    ["something that is no SEQUENCE", btoa("not a certificate")],
    ["a certificate with bytes after it", btoa(`${atob(CERTIFICATES.app1.der)}\u0000\u0000`)],
  ])("refuses %s", (_, text) => {
    expect(certificateDer(text)).toBeUndefined();
  });
});
