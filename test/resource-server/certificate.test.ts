import { describe, expect, it } from "vitest";
import { presentedThumbprint } from "../../src/resource-server/certificate";
import { CERTIFICATES, cfWith, x5tOf } from "../support/mtls";

const requestWith = (cf?: IncomingRequestCfProperties) =>
  new Request("https://api.example.test/", cf ? { cf } : {});

describe("the certificate a request was made with (RFC 8705 §3)", () => {
  it("is Cloudflare's hex SHA-256 fingerprint, as the base64url x5t#S256 of the certificate's DER", async () => {
    for (const certificate of [CERTIFICATES.payments, CERTIFICATES.app1]) {
      expect(presentedThumbprint(requestWith(cfWith(certificate)))).toBe(await x5tOf(certificate));
      const upper = cfWith(certificate, {
        certFingerprintSHA256: certificate.sha256Hex.toUpperCase(),
      });
      expect(presentedThumbprint(requestWith(upper))).toBe(await x5tOf(certificate));
    }
  });

  it("is none without a certificate, without cf, or with a malformed fingerprint", () => {
    expect(presentedThumbprint(requestWith(cfWith(undefined)))).toBeUndefined();
    expect(presentedThumbprint(requestWith())).toBeUndefined();
    const short = cfWith(CERTIFICATES.payments, { certFingerprintSHA256: "abcd" });
    expect(presentedThumbprint(requestWith(short))).toBeUndefined();
  });
});
