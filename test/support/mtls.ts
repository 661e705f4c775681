import { exportJWK, importX509, type JWK } from "jose";
import { expect } from "vitest";
import { Browser, pkce, signInAndAuthorize, type TokenSet } from "./browser";
import { REDIRECT_URI, type RegisteredClient, registerClient, type TestUser } from "./fixtures";
import { call, formBody, ISSUER, json } from "./http";

/**
 * Mutual TLS as the Worker meets it (RFC 8705): not a handshake, but what
 * Cloudflare's edge reports of one in `request.cf.tlsClientAuth`. The tests
 * give the Worker exactly those properties, for real certificates.
 *
 * The certificates below are real X.509 certificates (EC P-256, valid for a
 * century), made once with OpenSSL 3.0 and kept as test data; their private
 * keys were thrown away, since the Worker never sees one. Each comes with
 * what OpenSSL says of it (`openssl x509 -noout -subject -issuer -nameopt
 * RFC2253 -fingerprint -sha256`), which is what Cloudflare reports:
 *
 *   openssl ecparam -name prime256v1 -genkey -noout -out ca.key
 *   openssl req -x509 -new -key ca.key -sha256 -days 36500 \
 *     -subj "/C=DE/O=Example Corp/CN=Example Client CA" -out ca.pem \
 *     -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
 *   # payments, payments2 (a renewal: same subject, new key), billing:
 *   openssl req -new -key payments.key -subj "/C=DE/O=Example Corp, Inc./OU=Payments/CN=payments.example.com" \
 *     | openssl x509 -req -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days 36500 -extfile client.ext
 *   # app1, app2: self-signed, one per instance of a native app
 *   openssl req -x509 -new -key app1.key -sha256 -days 36500 -subj "/CN=native-app-instance-1" \
 *     -addext "basicConstraints=critical,CA:FALSE" -addext "extendedKeyUsage=clientAuth"
 */

export interface TestCertificate {
  /** base64 DER, as a JWK's x5c holds it. */
  der: string;
  subjectDn: string;
  issuerDn: string;
  /** SHA-256 of the DER in hex, as OpenSSL and Cloudflare print it. */
  sha256Hex: string;
  serial: string;
  /** Cloudflare's certVerified for it: SUCCESS when it chains to the zone's CA. */
  verified: string;
}

const CA_DN = "CN=Example Client CA,O=Example Corp,C=DE";

export const CERTIFICATES = {
  payments: {
    der: "MIICEjCCAbigAwIBAgIUX6LZ0oPTUPwYbwYg0E/s/OwsyTYwCgYIKoZIzj0EAwIwQDELMAkGA1UEBhMCREUxFTATBgNVBAoMDEV4YW1wbGUgQ29ycDEaMBgGA1UEAwwRRXhhbXBsZSBDbGllbnQgQ0EwIBcNMjYxMjA2MTc1MTE2WhgPMjEyNjExMTIxNzUxMTZaMFwxCzAJBgNVBAYTAkRFMRswGQYDVQQKDBJFeGFtcGxlIENvcnAsIEluYy4xETAPBgNVBAsMCFBheW1lbnRzMR0wGwYDVQQDDBRwYXltZW50cy5leGFtcGxlLmNvbTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNaYXi4Ol3L0R+NWRHqwFhm2uiaNrn8ojXQ2VQXSTYPbV80WJ11zRSUlKa030NpQBSovNSTjxLTDWg3bo180wwajcjBwMAkGA1UdEwQCMAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsGAQUFBwMCMB0GA1UdDgQWBBSl0p2xR2wa6QaiBhzYfk4M+Y0hdTAfBgNVHSMEGDAWgBRVtcQx198nQGHpgx/NICqLTYo1vjAKBggqhkjOPQQDAgNIADBFAiBprC6jVaYHIQBXuhZc8Bj5eSd/ENZzxj6TPNXsXYND4wIhAIfVe5yFA2jq2BqvBkNpYsOsuDE+bTnwK9ro4vgVGPZs",
    subjectDn: "CN=payments.example.com,OU=Payments,O=Example Corp\\, Inc.,C=DE",
    issuerDn: CA_DN,
    sha256Hex: "77db4de28bf1cfaafa71150840ac33b5dd666ef1f3af86a1cb3d5b86072aa23b",
    serial: "5FA2D9D283D350FC186F0620D04FECFCEC2CC936",
    verified: "SUCCESS",
  },
  payments2: {
    der: "MIICEzCCAbigAwIBAgIUX6LZ0oPTUPwYbwYg0E/s/OwsyTcwCgYIKoZIzj0EAwIwQDELMAkGA1UEBhMCREUxFTATBgNVBAoMDEV4YW1wbGUgQ29ycDEaMBgGA1UEAwwRRXhhbXBsZSBDbGllbnQgQ0EwIBcNMjYxMjA2MTc1MTE2WhgPMjEyNjExMTIxNzUxMTZaMFwxCzAJBgNVBAYTAkRFMRswGQYDVQQKDBJFeGFtcGxlIENvcnAsIEluYy4xETAPBgNVBAsMCFBheW1lbnRzMR0wGwYDVQQDDBRwYXltZW50cy5leGFtcGxlLmNvbTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABGUNOHhEk09lxRKso3AMM6ETAuLL3EpcpmylINik3O8rT/sgQLeWm0XHUgymxLrnDaBdQjCZVyHIXcRWcCJb1pGjcjBwMAkGA1UdEwQCMAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsGAQUFBwMCMB0GA1UdDgQWBBTG8nUQQJSEs0jPRbxf3cHqSjpUVTAfBgNVHSMEGDAWgBRVtcQx198nQGHpgx/NICqLTYo1vjAKBggqhkjOPQQDAgNJADBGAiEAroHAGOukRPZbhPbCo2o60bbo3LHmH7z+Fg585IZuFPwCIQCHcaD8NglG0gECT51qOWBaZmACjnOxWxwg9PgywWxk2g==",
    subjectDn: "CN=payments.example.com,OU=Payments,O=Example Corp\\, Inc.,C=DE",
    issuerDn: CA_DN,
    sha256Hex: "ecb786e490abfe433f9dec6de8d7d484aaeb24e60a2350272665981430ec9d97",
    serial: "5FA2D9D283D350FC186F0620D04FECFCEC2CC937",
    verified: "SUCCESS",
  },
  billing: {
    der: "MIICEDCCAbagAwIBAgIUX6LZ0oPTUPwYbwYg0E/s/OwsyTgwCgYIKoZIzj0EAwIwQDELMAkGA1UEBhMCREUxFTATBgNVBAoMDEV4YW1wbGUgQ29ycDEaMBgGA1UEAwwRRXhhbXBsZSBDbGllbnQgQ0EwIBcNMjYxMjA2MTc1MTE2WhgPMjEyNjExMTIxNzUxMTZaMFoxCzAJBgNVBAYTAkRFMRswGQYDVQQKDBJFeGFtcGxlIENvcnAsIEluYy4xEDAOBgNVBAsMB0JpbGxpbmcxHDAaBgNVBAMME2JpbGxpbmcuZXhhbXBsZS5jb20wWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATLyIRSHeWev02fG66PmDwbByyhkyJca94Mw1PNf0x3h5ymmXGNtZ4lYfyMFJsVa+0XamRpPPRxqf3gI2cr0FEDo3IwcDAJBgNVHRMEAjAAMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDAjAdBgNVHQ4EFgQUeiUX0fyigi2QMgN7bJLiRTTYsZ4wHwYDVR0jBBgwFoAUVbXEMdffJ0Bh6YMfzSAqi02KNb4wCgYIKoZIzj0EAwIDSAAwRQIhAIsR2oxSqCX3Kt7dI9HwQ/x2F9rsZPueACbMDVUfoShRAiBla3CLf7oEFAJVTXG+vBlNiZD1leIO+O9sxBSnqri5YQ==",
    subjectDn: "CN=billing.example.com,OU=Billing,O=Example Corp\\, Inc.,C=DE",
    issuerDn: CA_DN,
    sha256Hex: "363202284fb1d73347786b6722d5af302a204d7d384e8f29f17a4901499fbf10",
    serial: "5FA2D9D283D350FC186F0620D04FECFCEC2CC938",
    verified: "SUCCESS",
  },
  app1: {
    der: "MIIBqjCCAU+gAwIBAgIUFcJCSGJ2SH9uklgHX2TVTOt57gwwCgYIKoZIzj0EAwIwIDEeMBwGA1UEAwwVbmF0aXZlLWFwcC1pbnN0YW5jZS0xMCAXDTI2MTIwNjE3NTExNloYDzIxMjYxMTEyMTc1MTE2WjAgMR4wHAYDVQQDDBVuYXRpdmUtYXBwLWluc3RhbmNlLTEwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQEvPjS7D53YiKYv73PyA4y8kZizS9oKxgissrd2vw1EtJtC3/rAlUR5RxWzzAw4Q2SGwE+5TuicWvZ9aX3QouRo2UwYzAdBgNVHQ4EFgQU/iMrxKNA/PRfj2L644zyNJY2U5kwHwYDVR0jBBgwFoAU/iMrxKNA/PRfj2L644zyNJY2U5kwDAYDVR0TAQH/BAIwADATBgNVHSUEDDAKBggrBgEFBQcDAjAKBggqhkjOPQQDAgNJADBGAiEA9v0R2a1ZJP3ui2EXvQSruO4zmjldBrBig/TmlRdubNsCIQCqSeBPV2o+ldYW5MaQC8cpptPHJgUjK4ZYGyv260QimA==",
    subjectDn: "CN=native-app-instance-1",
    issuerDn: "CN=native-app-instance-1",
    sha256Hex: "ae09fe997fa3bcec397daf844687c50f9942da378f974026f2ff19258130188b",
    serial: "15C242486276487F6E9258075F64D54CEB79EE0C",
    verified: "FAILED:self signed certificate",
  },
  app2: {
    der: "MIIBqTCCAU+gAwIBAgIUS1iCQMQyaBsFs1fuYfnup3wIGhIwCgYIKoZIzj0EAwIwIDEeMBwGA1UEAwwVbmF0aXZlLWFwcC1pbnN0YW5jZS0yMCAXDTI2MTIwNjE3NTExNloYDzIxMjYxMTEyMTc1MTE2WjAgMR4wHAYDVQQDDBVuYXRpdmUtYXBwLWluc3RhbmNlLTIwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASZRILxx6cOchJi3rtjhkKXFRgUzOs5c4+AYE0MhZHF40cRs5y7FLj2ZhS0KwEQrBhtnU54wJWp1DYuHUSBRt3so2UwYzAdBgNVHQ4EFgQU217un5+bbiFJ/ufKKWqe8UvE0jswHwYDVR0jBBgwFoAU217un5+bbiFJ/ufKKWqe8UvE0jswDAYDVR0TAQH/BAIwADATBgNVHSUEDDAKBggrBgEFBQcDAjAKBggqhkjOPQQDAgNIADBFAiEA/XvtZ66W9846wt3nMbtgl/bENzEceXcQUlGuhPVfHe0CICUYn2x5RLnZ6ZBYM2uGkOI8g/YGf6GcES/y6jlWmPOi",
    subjectDn: "CN=native-app-instance-2",
    issuerDn: "CN=native-app-instance-2",
    sha256Hex: "033cb02b7a38f1789cf6241d4fcf0288f793806922fa6979739ac6b69865fb52",
    serial: "4B588240C432681B05B357EE61F9EEA77C081A12",
    verified: "FAILED:self signed certificate",
  },
} as const satisfies Record<string, TestCertificate>;

export type CertificateName = keyof typeof CERTIFICATES;

/** `x5t#S256` (RFC 8705 §3.1) of a test certificate, computed here from its DER. */
export async function x5tOf(certificate: TestCertificate): Promise<string> {
  const der = Uint8Array.from(atob(certificate.der), (c) => c.charCodeAt(0));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der));
  return btoa(String.fromCharCode(...digest))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/**
 * `request.cf.tlsClientAuth` as Cloudflare sets it for a request made with
 * `certificate` (field names and value forms: Cloudflare, "Client certificate
 * variables"), or its placeholder when the request had none.
 */
export function tlsClientAuth(
  certificate: TestCertificate | undefined,
  overrides: Record<string, string> = {},
): Record<string, string | boolean> {
  if (!certificate) {
    return {
      certPresented: "0",
      certVerified: "NONE",
      certRevoked: "0",
      certSubjectDN: "",
      certIssuerDN: "",
      certSubjectDNRFC2253: "",
      certIssuerDNRFC2253: "",
      certFingerprintSHA256: "",
      certFingerprintSHA1: "",
      certSerial: "",
      ...overrides,
    };
  }
  const legacy = (dn: string) =>
    dn
      .split(/(?<!\\),/)
      .reverse()
      .join(", ");
  return {
    certPresented: "1",
    certVerified: certificate.verified,
    certRevoked: "0",
    certSubjectDN: legacy(certificate.subjectDn),
    certIssuerDN: legacy(certificate.issuerDn),
    certSubjectDNRFC2253: certificate.subjectDn,
    certIssuerDNRFC2253: certificate.issuerDn,
    certFingerprintSHA256: certificate.sha256Hex,
    certSerial: certificate.serial,
    certNotBefore: "Dec  6 17:51:16 2026 GMT",
    certNotAfter: "Nov 12 17:51:16 2126 GMT",
    ...overrides,
  };
}

/** The `cf` of a request made with `certificate` (none: the placeholder). */
export const cfWith = (
  certificate: TestCertificate | undefined,
  overrides: Record<string, string> = {},
): IncomingRequestCfProperties =>
  ({
    tlsClientAuth: tlsClientAuth(certificate, overrides),
  }) as unknown as IncomingRequestCfProperties;

/** A form POST made over mutual TLS with `certificate` (or with none), to the issuer or another origin. */
export function mtlsPost(
  path: string,
  params: Record<string, string | undefined>,
  certificate: TestCertificate | undefined,
  options: { headers?: Record<string, string>; origin?: string; cf?: Record<string, string> } = {},
): Promise<Response> {
  return call(new URL(path, options.origin ?? ISSUER).toString(), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...options.headers },
    body: formBody(params),
    cf: cfWith(certificate, options.cf),
  });
}

/** GET /userinfo with a bearer token, over mutual TLS with `certificate` (or with none). */
export function mtlsUserinfo(
  accessToken: string,
  certificate: TestCertificate | undefined,
  options: { scheme?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  return call("/userinfo", {
    headers: { Authorization: `${options.scheme ?? "Bearer"} ${accessToken}`, ...options.headers },
    cf: cfWith(certificate),
  });
}

/** A JWKS holding these self-signed certificates: each key's public members, read from its certificate, and its x5c. */
export async function certificateJwks(
  ...certificates: TestCertificate[]
): Promise<{ keys: JWK[] }> {
  const keys: JWK[] = [];
  for (const certificate of certificates) {
    const pem = `-----BEGIN CERTIFICATE-----\n${certificate.der}\n-----END CERTIFICATE-----`;
    const key = await exportJWK(await importX509(pem, "ES256", { extractable: true }));
    keys.push({ ...key, x5c: [certificate.der] });
  }
  return { keys };
}

/** The code flow, redeemed over mutual TLS with `certificate`; `auth` is the client's own authentication. */
export async function mtlsCodeFlow(
  client: RegisteredClient,
  user: TestUser,
  certificate: TestCertificate | undefined,
  auth: { headers?: Record<string, string>; params?: Record<string, string> } = {},
): Promise<TokenSet> {
  const { verifier, challenge } = await pkce();
  const redirect = await signInAndAuthorize(new Browser(), client, user, {
    challenge,
    scope: "openid profile offline_access",
  });
  const code = redirect.searchParams.get("code") as string;
  expect(code, redirect.toString()).toBeTruthy();
  const res = await mtlsPost(
    "/token",
    {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      client_id: client.client_id,
      ...auth.params,
    },
    certificate,
    { headers: auth.headers ?? {} },
  );
  expect(res.status, await res.clone().text()).toBe(200);
  return json<TokenSet>(res);
}

/** The payments service: tls_client_auth with the subject of its CA-issued certificate, client_credentials. */
export const registerTlsClient = (overrides: Record<string, unknown> = {}) =>
  registerClient({
    token_endpoint_auth_method: "tls_client_auth",
    tls_client_auth_subject_dn: CERTIFICATES.payments.subjectDn,
    grant_types: ["client_credentials"],
    redirect_uris: [],
    scope: "api:read",
    ...overrides,
  });

/** A client of self_signed_tls_client_auth with these certificates, client_credentials. */
export const registerSelfSignedClient = async (
  certificates: TestCertificate[],
  overrides: Record<string, unknown> = {},
) =>
  registerClient({
    token_endpoint_auth_method: "self_signed_tls_client_auth",
    jwks: await certificateJwks(...certificates),
    grant_types: ["client_credentials"],
    redirect_uris: [],
    scope: "api:read",
    ...overrides,
  });

/** The `cnf` of an access token (read without verifying: the tests that need it verified introspect). */
export function cnfOf(accessToken: string): Record<string, string> | undefined {
  const payload = JSON.parse(
    atob((accessToken.split(".")[1] as string).replace(/-/g, "+").replace(/_/g, "/")),
  ) as { cnf?: Record<string, string> };
  return payload.cnf;
}
