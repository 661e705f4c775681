import { describe, expect, it } from "vitest";
import { presentedToken } from "../../src/resource-server/credentials";

const withAuthorization = (value?: string) =>
  new Request(
    "https://api.example.test/",
    value === undefined ? {} : { headers: { Authorization: value } },
  );

describe("the access token a request presents (RFC 6750 §2.1, RFC 9449 §7.1)", () => {
  it("reads Bearer and DPoP tokens from the Authorization header, scheme in any case", () => {
    expect(presentedToken(withAuthorization("Bearer abc.def-_~+/="))).toStrictEqual({
      scheme: "Bearer",
      token: "abc.def-_~+/=",
    });
    expect(presentedToken(withAuthorization("dpop abc"))).toStrictEqual({
      scheme: "DPoP",
      token: "abc",
    });
  });

  it("no header, or another scheme (Basic), is no credential at all", () => {
    expect(presentedToken(withAuthorization())).toBeUndefined();
    expect(presentedToken(withAuthorization("Basic dXNlcjpwYXNz"))).toBeUndefined();
  });

  it("a malformed Bearer or DPoP header is invalid_request (400)", () => {
    for (const value of ["Bearer", "Bearer a b", 'Bearer a"b', "DPoP ", "Bearer =abc"]) {
      expect(presentedToken(withAuthorization(value)), value).toMatchObject({
        status: 400,
        error: "invalid_request",
      });
    }
  });

  it("never reads a token from the query string (RFC 6750 §2.3 is not accepted)", () => {
    expect(
      presentedToken(new Request("https://api.example.test/?access_token=abc")),
    ).toBeUndefined();
  });
});
