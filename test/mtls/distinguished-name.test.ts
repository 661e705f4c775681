import { describe, expect, it } from "vitest";
import {
  canonicalDistinguishedName,
  sameDistinguishedName,
} from "../../src/mtls/distinguished-name";

/**
 * RFC 8705 §2.1: the certificate's subject DN is compared to the registered
 * one with "a predictable treatment of DN values, such as the
 * distinguishedNameMatch rule from [RFC4517]".
 */

const REGISTERED = "CN=payments.example.com,OU=Payments,O=Example Corp\\, Inc.,C=DE";

describe("sameDistinguishedName", () => {
  it.each([
    ["the same string", REGISTERED],
    [
      "spaces around separators (RFC 2253 §4)",
      "CN = payments.example.com , OU=Payments, O=Example Corp\\, Inc., C=DE",
    ],
    [
      "other case in types and values",
      "cn=PAYMENTS.example.com,ou=payments,o=example corp\\, inc.,c=de",
    ],
    [
      "numeric OIDs for the types",
      "2.5.4.3=payments.example.com,2.5.4.11=Payments,OID.2.5.4.10=Example Corp\\, Inc.,2.5.4.6=DE",
    ],
    [
      "the comma escaped as hex",
      "CN=payments.example.com,OU=Payments,O=Example Corp\\2C Inc.,C=DE",
    ],
    [
      "a quoted value (RFC 2253)",
      'CN=payments.example.com,OU=Payments,O="Example Corp, Inc.",C=DE',
    ],
    [
      "semicolons as separators (RFC 2253 §4)",
      "CN=payments.example.com;OU=Payments;O=Example Corp\\, Inc.;C=DE",
    ],
    ["runs of inner spaces", "CN=payments.example.com,OU=Payments,O=Example  Corp\\,   Inc.,C=DE"],
    [
      "a value as the hex of its BER (a UTF8String)",
      "CN=#0C147061796D656E74732E6578616D706C652E636F6D,OU=Payments,O=Example Corp\\, Inc.,C=DE",
    ],
  ])("matches %s", (_, presented) => {
    expect(sameDistinguishedName(REGISTERED, presented)).toBe(true);
  });

  it.each([
    ["another common name", "CN=billing.example.com,OU=Payments,O=Example Corp\\, Inc.,C=DE"],
    [
      "the RDNs in the other order",
      "C=DE,O=Example Corp\\, Inc.,OU=Payments,CN=payments.example.com",
    ],
    ["an RDN more", "CN=payments.example.com,OU=Payments,O=Example Corp\\, Inc.,L=Berlin,C=DE"],
    ["an RDN less", "CN=payments.example.com,O=Example Corp\\, Inc.,C=DE"],
    [
      "the comma unescaped: two RDNs",
      "CN=payments.example.com,OU=Payments,O=Example Corp, Inc.,C=DE",
    ],
    ["a prefix of the value", "CN=payments.example,OU=Payments,O=Example Corp\\, Inc.,C=DE"],
    [
      "another type for the value",
      "UID=payments.example.com,OU=Payments,O=Example Corp\\, Inc.,C=DE",
    ],
    ["an empty subject", ""],
    ["text that is no DN", "payments.example.com"],
  ])("does not match %s", (_, presented) => {
    expect(sameDistinguishedName(REGISTERED, presented)).toBe(false);
  });

  it("treats the values of a multi-valued RDN as a set", () => {
    expect(sameDistinguishedName("CN=a+UID=7,O=x", "UID=7+CN=a,O=x")).toBe(true);
    expect(sameDistinguishedName("CN=a+UID=7,O=x", "CN=a,UID=7,O=x")).toBe(false);
  });

  it("unescapes UTF-8 written as hex pairs (RFC 4514 §2.4), and folds compatible forms (NFKC)", () => {
    expect(sameDistinguishedName("CN=Jos\\C3\\A9,O=x", "CN=José,O=x")).toBe(true);
    expect(sameDistinguishedName("CN=ＡＢＣ,O=x", "CN=abc,O=x")).toBe(true);
  });
});

describe("canonicalDistinguishedName", () => {
  it.each([
    ["no attribute type", "=x"],
    ["no equals sign", "CN"],
    ["a bad escape", "CN=a\\q"],
    ["a lone trailing backslash", "CN=a\\"],
    ["an unescaped quote", 'CN=a"b'],
    ["an unescaped angle bracket", "CN=a<b"],
    ["an odd number of hex digits", "CN=#0c0"],
    ["invalid UTF-8 in hex pairs", "CN=\\C3\\28"],
    ["an unterminated quote", 'CN="abc'],
    ["a trailing separator", "CN=a,"],
    ["a type that is neither a name nor an OID", "C N=a"],
    ["over 1024 characters", `CN=${"a".repeat(1024)}`],
  ])("refuses %s", (_, text) => {
    expect(canonicalDistinguishedName(text)).toBeUndefined();
  });

  it("ignores spaces at either end of a value, escaped or not (RFC 4518 section 2.6.1)", () => {
    const plain = canonicalDistinguishedName("CN=a b");
    for (const text of ["CN=a b ", "CN=a b\\ ", "CN=\\ a b", "CN=  a   b"])
      expect(canonicalDistinguishedName(text), text).toEqual(plain);
    expect(canonicalDistinguishedName("CN=ab")).not.toEqual(plain);
  });
});

describe("text and BER values never meet", () => {
  it("an escaped literal '#...' text is not the hex BER of a non-string value", () => {
    expect(sameDistinguishedName("CN=#040161", "CN=\\#040161")).toBe(false);
  });
});
