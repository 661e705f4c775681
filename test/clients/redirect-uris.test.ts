import { describe, expect, it } from "vitest";
import { matchRedirectUri, redirectUriProblem } from "../../src/clients/redirect-uris";

/**
 * Redirect URI rules: exact matching (RFC 9700 §2.1, RFC 6749 §3.1.2.3),
 * except that a native app's (a public client's) loopback redirect over http
 * to an IP literal may use any port, which the app picks at run time (RFC
 * 8252 §7.3, §8.3).
 */

/** A native app (public client) gets the loopback port exception; nobody else does. */
const nativeApp = { loopbackAnyPort: true };
const confidential = { loopbackAnyPort: false };

describe("redirectUriProblem (what may be registered)", () => {
  it.each([
    "https://app.example.test/callback",
    "https://app.example.test/callback?tenant=a",
    "com.example.app:/oauth2redirect",
    "com.example.app:/oauth2redirect/example-provider",
    "http://127.0.0.1/callback",
    "http://127.0.0.1:51004/callback",
    "http://[::1]/callback",
    "http://localhost/callback",
  ])("accepts %s", (uri) => {
    expect(redirectUriProblem(uri)).toBeUndefined();
  });

  it.each([
    ["a fragment (RFC 6749 §3.1.2)", "https://app.example.test/callback#section", /fragment/],
    ["a relative reference", "/callback", /absolute/],
    ["plain http to a public host", "http://app.example.test/callback", /loopback/],
    [
      "plain http to a host that only starts like loopback",
      "http://127.0.0.1.example.test/cb",
      /loopback/,
    ],
    ["a scheme that is not a reverse domain name", "myapp:/callback", /private-use/],
    ["javascript:", "javascript:alert(1)", /private-use/],
    ["user information", "https://user:secret@app.example.test/cb", /user information/],
    ["more than 2000 characters", `https://app.example.test/${"a".repeat(2000)}`, /2000/],
  ])("refuses %s", (_, uri, reason) => {
    expect(redirectUriProblem(uri)).toMatch(reason);
  });
});

describe("matchRedirectUri (what a request may use)", () => {
  const registered = [
    "https://app.example.test/callback",
    "http://127.0.0.1/callback",
    "http://[::1]:8080/native?x=1",
    "com.example.app:/oauth2redirect",
  ];

  it("matches a registered URI exactly, and returns it", () => {
    for (const uri of registered) expect(matchRedirectUri(registered, uri, nativeApp)).toBe(uri);
  });

  it("matches a loopback redirect on any port, returning the registered URI (RFC 8252 §7.3)", () => {
    expect(matchRedirectUri(registered, "http://127.0.0.1:51004/callback", nativeApp)).toBe(
      "http://127.0.0.1/callback",
    );
    expect(matchRedirectUri(registered, "http://127.0.0.1:1/callback", nativeApp)).toBe(
      "http://127.0.0.1/callback",
    );
    expect(matchRedirectUri(registered, "http://[::1]/native?x=1", nativeApp)).toBe(
      "http://[::1]:8080/native?x=1",
    );
    expect(matchRedirectUri(registered, "http://[::1]:9999/native?x=1", nativeApp)).toBe(
      "http://[::1]:8080/native?x=1",
    );
  });

  it.each([
    ["another path on loopback", "http://127.0.0.1:51004/other"],
    ["another query on loopback", "http://[::1]:9999/native?x=2"],
    ["another loopback host than registered", "http://localhost:51004/callback"],
    ["https on a loopback host registered for http", "https://127.0.0.1/callback"],
    ["a loopback redirect with a fragment", "http://127.0.0.1:51004/callback#x"],
    ["another port on a non-loopback host", "https://app.example.test:8443/callback"],
    ["a prefix of a registered URI", "https://app.example.test/callback/extra"],
    ["a registered URI with an added query", "https://app.example.test/callback?x=1"],
    ["a differently cased host", "https://APP.example.test/callback"],
    ["a trailing slash", "com.example.app:/oauth2redirect/"],
    ["something that is not a URI", "not a uri"],
  ])("refuses %s", (_, presented) => {
    expect(matchRedirectUri(registered, presented, nativeApp)).toBeUndefined();
  });

  it("gives a confidential client no port exception: exact strings only", () => {
    expect(matchRedirectUri(registered, "http://127.0.0.1/callback", confidential)).toBe(
      "http://127.0.0.1/callback",
    );
    expect(matchRedirectUri(registered, "http://127.0.0.1:51004/callback", confidential)).toBe(
      undefined,
    );
  });

  it("gives localhost no port exception, even to a native app (RFC 8252 §8.3)", () => {
    const withLocalhost = ["http://localhost:3000/cb"];
    expect(matchRedirectUri(withLocalhost, "http://localhost:3000/cb", nativeApp)).toBe(
      "http://localhost:3000/cb",
    );
    expect(matchRedirectUri(withLocalhost, "http://localhost:4000/cb", nativeApp)).toBe(undefined);
  });

  it.each([
    ["user information", "http://u@127.0.0.1:5000/callback"],
    ["a dot segment", "http://127.0.0.1:5000/x/../callback"],
    ["a numeric IPv4 form", "http://2130706433:5000/callback"],
    ["a short IPv4 form", "http://127.1:5000/callback"],
    ["a trailing tab", "http://127.0.0.1:5000/callback\t"],
    ["a trailing newline", "http://127.0.0.1:5000/callback\n"],
    ["an upper-case scheme", "HTTP://127.0.0.1:5000/callback"],
  ])("refuses a loopback redirect that only normalises to a registered one: %s", (_, presented) => {
    expect(matchRedirectUri(registered, presented, nativeApp)).toBeUndefined();
  });
});
