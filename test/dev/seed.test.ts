import { describe, expect, it } from "vitest";
import { adminCall, basic, fetchWith } from "../support/http";

/** What `npm run dev` runs: ENVIRONMENT=development, no ISSUER (the request origin), no secrets. */
const DEVELOPMENT = { ENVIRONMENT: "development", ISSUER: "", ADMIN_TOKEN: "", SERVER_SECRET: "" };

const devFetch = (path: string, init?: RequestInit): Promise<Response> =>
  fetchWith(DEVELOPMENT, new Request(`http://localhost:8787${path}`, init));

describe("the development seed", () => {
  it("does not exist in a production worker", async () => {
    await adminCall("GET", "/.well-known/openid-configuration");
    expect((await adminCall("GET", "/admin/clients/demo-confidential")).status).toBe(404);
    expect((await adminCall("GET", "/admin/clients/demo-public")).status).toBe(404);
    expect((await adminCall("GET", "/admin/users?username=demo")).status).toBe(404);
    expect((await adminCall("GET", "/dev/callback")).status).toBe(404);
  });

  it("comes into being under wrangler dev with its documented credentials, keys and issuer", async () => {
    const discovery = await devFetch("/.well-known/openid-configuration");
    expect((await discovery.json<{ issuer: string }>()).issuer).toBe("http://localhost:8787");
    const jwks = await devFetch("/jwks");
    expect((await jwks.json<{ keys: unknown[] }>()).keys.length).toBeGreaterThan(0);

    const token = await devFetch("/token", {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Authorization: basic("demo-confidential", "demo-confidential-secret"),
      },
      body: "grant_type=client_credentials",
    });
    expect(token.status).toBe(200);

    const adminDev = await devFetch("/admin/users?username=demo", {
      headers: { Authorization: "Bearer dev-admin-token" },
    });
    expect(adminDev.status).toBe(200);
    expect(await adminDev.json()).toMatchObject({ username: "demo", blocked: false });
    const publicClient = await devFetch("/admin/clients/demo-public", {
      headers: { Authorization: "Bearer dev-admin-token" },
    });
    expect(await publicClient.json()).toMatchObject({
      client_type: "public",
      token_endpoint_auth_method: "none",
    });
  });

  it("answers on a loopback address only: another Host chooses no issuer and reaches no admin API", async () => {
    for (const origin of [
      "http://evil.example.test",
      "http://10.0.0.8:8787",
      "http://localhost.evil.test",
    ]) {
      const discovery = await fetchWith(
        DEVELOPMENT,
        new Request(`${origin}/.well-known/openid-configuration`),
      );
      expect(discovery.status).toBe(421);
      const admin = await fetchWith(
        DEVELOPMENT,
        new Request(`${origin}/admin/clients`, {
          headers: { Authorization: "Bearer dev-admin-token" },
        }),
      );
      expect(admin.status).toBe(421);
    }
    // With an ISSUER configured too: development still answers on loopback only.
    const withIssuer = await fetchWith(
      { ...DEVELOPMENT, ISSUER: "http://localhost:8787" },
      new Request("http://evil.example.test/.well-known/openid-configuration"),
    );
    expect(withIssuer.status).toBe(421);
    for (const origin of ["http://127.0.0.1:8787", "http://[::1]:8787"]) {
      const res = await fetchWith(
        DEVELOPMENT,
        new Request(`${origin}/.well-known/openid-configuration`),
      );
      expect((await res.json<{ issuer: string }>()).issuer).toBe(origin);
    }
  });

  it("greets a newcomer at / with the demo credentials and a sign-in that works (its verifier shown)", async () => {
    const res = await devFetch("/");
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const text of [
      "demo-password",
      "demo-confidential-secret",
      "demo-public",
      "dev-admin-token",
    ])
      expect(html).toContain(text);
    const link = /href="(http:\/\/localhost:8787\/authorize\?[^"]+)"/.exec(html)?.[1] as string;
    const verifier = /<code>([A-Za-z0-9_-]{43})<\/code>/.exec(html)?.[1] as string;
    const challenge = new URL(link.replace(/&amp;/g, "&")).searchParams.get("code_challenge");
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)),
    );
    const expected = btoa(String.fromCharCode(...digest))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    expect(challenge).toBe(expected);
    // The link is a valid authorization request: it shows the login page.
    const login = await devFetch(
      new URL(link.replace(/&amp;/g, "&")).pathname + new URL(link.replace(/&amp;/g, "&")).search,
    );
    expect(await login.text()).toContain('action="/login"');
  });

  it("shows a deployment's visitors what the host is, and no demo data", async () => {
    const res = await adminCall("GET", "/");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("/.well-known/openid-configuration");
    expect(html).not.toContain("demo-password");
  });

  it("keeps the development admin token and secret out of production", async () => {
    const res = await adminCall("GET", "/admin/clients");
    expect(res.status).toBe(200);
    const refused = await fetchWith({ ADMIN_TOKEN: "" }, "/admin/clients", {
      headers: { Authorization: "Bearer dev-admin-token" },
    });
    expect(refused.status).toBe(403);
  });
});
