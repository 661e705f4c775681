import { describe, expect, it } from "vitest";
import { presentedCertificate } from "../../src/mtls/certificate";
import { CERTIFICATES, cfWith, x5tOf } from "../support/mtls";

/**
 * What the Worker takes from Cloudflare's report of the TLS client
 * certificate (`request.cf.tlsClientAuth`), and what it does not take.
 */

const request = (cf?: IncomingRequestCfProperties, headers: Record<string, string> = {}) =>
  new Request("https://auth.example.test/token", { ...(cf ? { cf } : {}), headers });

describe("presentedCertificate", () => {
  it("gives the certificate's x5t#S256 (RFC 8705 §3.1), its subject and whether its chain verified", async () => {
    const { payments, app1 } = CERTIFICATES;
    expect(presentedCertificate(request(cfWith(payments)))).toEqual({
      x5t: await x5tOf(payments),
      chainVerified: true,
      subjectDn: payments.subjectDn,
    });
    // A self-signed certificate: the handshake proved the key, no CA vouches for it.
    expect(presentedCertificate(request(cfWith(app1)))).toEqual({
      x5t: await x5tOf(app1),
      chainVerified: false,
      subjectDn: app1.subjectDn,
    });
  });

  it("reads the fingerprint in either case of hex, as the SHA-256 of the certificate's DER", async () => {
    const { payments } = CERTIFICATES;
    const upper = presentedCertificate(
      request(cfWith(payments, { certFingerprintSHA256: payments.sha256Hex.toUpperCase() })),
    );
    expect(upper?.x5t).toBe(await x5tOf(payments));
  });

  it("sees no certificate without cf, with Cloudflare's placeholder, or when one is revoked", () => {
    expect(presentedCertificate(request())).toBeUndefined();
    expect(presentedCertificate(request(cfWith(undefined)))).toBeUndefined();
    expect(presentedCertificate(request({} as IncomingRequestCfProperties))).toBeUndefined();
    expect(
      presentedCertificate(request(cfWith(CERTIFICATES.payments, { certRevoked: "1" }))),
    ).toBeUndefined();
  });

  it("sees no certificate when the fingerprint is not a SHA-256 in hex", () => {
    const { payments } = CERTIFICATES;
    for (const fingerprint of [
      "",
      payments.sha256Hex.slice(2),
      `${payments.sha256Hex}00`,
      payments.sha256Hex.replace(/^../, "zz"),
      payments.sha256Hex.match(/../g)?.join(":") as string,
    ]) {
      const cf = cfWith(payments, { certFingerprintSHA256: fingerprint });
      expect(presentedCertificate(request(cf)), fingerprint).toBeUndefined();
    }
  });

  it("never reads a certificate from request headers, which any client can send", () => {
    const { payments } = CERTIFICATES;
    const headers = {
      "Client-Cert": `:${payments.der}:`,
      "X-SSL-Client-Fingerprint": payments.sha256Hex,
      "X-Client-Cert-SHA256": payments.sha256Hex,
    };
    expect(presentedCertificate(request(undefined, headers))).toBeUndefined();
    expect(presentedCertificate(request(cfWith(undefined), headers))).toBeUndefined();
  });

  it("says a chain verified only for certVerified SUCCESS", () => {
    const { payments } = CERTIFICATES;
    for (const certVerified of [
      "FAILED:unable to verify the first certificate",
      "FAILED:certificate has expired",
      "FAILED",
      "NONE",
      "success",
    ]) {
      const certificate = presentedCertificate(request(cfWith(payments, { certVerified })));
      expect(certificate?.chainVerified, certVerified).toBe(false);
    }
  });
});
