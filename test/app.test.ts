import { describe, expect, it } from "vitest";
import { clientAuth, clientCredentialsGrant } from "./support/fixtures";
import { call, formBody } from "./support/http";

/** Shared middleware of the app (src/app.ts): CORS for the endpoints browser apps call. */

const APP_ORIGIN = "https://spa.example.test";

describe("CORS (src/app.ts)", () => {
  it("answers a browser's preflight for the token endpoint", async () => {
    const res = await call("/token", {
      method: "OPTIONS",
      headers: {
        Origin: APP_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    // Only what the endpoints use: no PUT, DELETE, PATCH or QUERY.
    expect(res.headers.get("access-control-allow-methods")?.split(",").sort()).toEqual([
      "GET",
      "POST",
    ]);
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain(
      "content-type",
    );
  });

  it("lets a browser read token, revocation and userinfo answers, errors included", async () => {
    const { client, accessToken } = await clientCredentialsGrant();
    const auth = clientAuth(client);
    const form = { "Content-Type": "application/x-www-form-urlencoded", Origin: APP_ORIGIN };
    const answers = [
      await call("/token", {
        method: "POST",
        headers: { ...form, ...auth.headers },
        body: formBody({ grant_type: "client_credentials" }),
      }),
      await call("/token", { method: "POST", headers: form, body: "grant_type=nonsense" }),
      await call("/revoke", {
        method: "POST",
        headers: { ...form, ...auth.headers },
        body: formBody({ token: accessToken }),
      }),
      await call("/userinfo", { headers: { Origin: APP_ORIGIN, Authorization: "Bearer x" } }),
    ];
    for (const res of answers) {
      expect(res.headers.get("access-control-allow-origin"), res.url).toBe("*");
    }
  });

  it("adds nothing to a server's request (no Origin) to a token endpoint, but always to metadata", async () => {
    const { client } = await clientCredentialsGrant();
    const auth = clientAuth(client);
    const token = await call("/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", ...auth.headers },
      body: formBody({ grant_type: "client_credentials" }),
    });
    expect(token.status).toBe(200);
    expect(token.headers.get("access-control-allow-origin")).toBeNull();
    for (const path of ["/.well-known/openid-configuration", "/jwks"]) {
      expect((await call(path)).headers.get("access-control-allow-origin"), path).toBe("*");
    }
  });
});

describe("security headers on every response (hono's secure-headers)", () => {
  it("JSON answers, errors included, carry nosniff and HSTS, and may not be framed", async () => {
    for (const res of [
      await call("/.well-known/openid-configuration"),
      await call("/jwks"),
      await call("/no/such/path"),
      await call("/token", { method: "GET" }),
    ]) {
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("strict-transport-security")).toMatch(/^max-age=\d+/);
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      // Browser apps of other origins read these: no Cross-Origin-Resource-Policy;
      // popup sign-in needs window.opener: no Cross-Origin-Opener-Policy.
      expect(res.headers.get("cross-origin-resource-policy")).toBeNull();
      expect(res.headers.get("cross-origin-opener-policy")).toBeNull();
    }
  });

  it("pages keep their own stricter headers", async () => {
    const res = await call("/authorize?client_id=nobody&redirect_uri=https%3A%2F%2Fa.test%2Fcb");
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });
});
