import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { OAuthError } from "../../src/errors";
import { registerClient, tokenRequest } from "../support/fixtures";
import {
  basic,
  call,
  DESCRIPTION_CHARSET,
  fetchWith,
  ISSUER,
  json,
  postForm,
} from "../support/http";

afterEach(() => vi.restoreAllMocks());

describe("the error model", () => {
  it("answers an unknown path with a JSON 404", async () => {
    const res = await call("/no/such/endpoint");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await json(res)).toEqual({ error: "not_found", error_description: expect.any(String) });
  });

  it("answers a wrong method with 405, an Allow header and invalid_request", async () => {
    const res = await call("/token", { method: "GET" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(await json(res)).toMatchObject({ error: "invalid_request" });
    const jwks = await call("/jwks", { method: "DELETE" });
    expect(jwks.status).toBe(405);
    expect(jwks.headers.get("allow")).toBe("GET, HEAD");
  });

  it("answers HEAD like GET, without a body", async () => {
    const res = await call("/jwks", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
  });

  it("turns an unexpected exception into a JSON 500 with an error id, no stack and no request value, and logs it", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const secret = "s3cr3t-value-that-must-never-be-echoed-0123456789";
    // A Durable Object namespace that fails the way a bug would, mentioning a request value.
    const broken = {
      getByName: () => {
        throw new Error(`exploded while handling ${secret}`);
      },
    } as unknown as typeof env.USERNAME;
    const res = await fetchWith(
      { USERNAME: broken },
      new Request(`${ISSUER}/admin/users`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${env.ADMIN_TOKEN}` },
        body: JSON.stringify({ username: "someone", password: secret }),
      }),
    );
    expect(res.status).toBe(500);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const text = await res.text();
    const body = JSON.parse(text);
    expect(body).toEqual({
      error: "server_error",
      error_description: expect.stringMatching(/error id [0-9a-f]{16}/),
    });
    expect(text).not.toContain(secret);
    expect(text).not.toMatch(/at \w+ \(/); // no stack frames

    const logged = errors.mock.calls.map((args) => String(args[0]));
    const line = logged.find((l) => l.includes("unhandled_exception"));
    expect(line).toBeDefined();
    const record = JSON.parse(line as string);
    expect(record).toMatchObject({
      level: "error",
      event: "unhandled_exception",
      path: "/admin/users",
    });
    expect(body.error_description).toContain(record.errorId);
    expect(line).not.toContain(secret);
  });

  it("answers 503 temporarily_unavailable, not a verdict, when the client registry cannot be read", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const broken = { get: () => Promise.reject(new Error("KV is down")) } as unknown as KVNamespace;
    const res = await fetchWith(
      { CLIENTS: broken },
      new Request(`${ISSUER}/token`, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Authorization: basic("some-client", "x"),
        },
        body: "grant_type=client_credentials",
      }),
    );
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await json(res)).toMatchObject({ error: "temporarily_unavailable" });
  });

  it("refuses a misconfigured production worker (no ISSUER) with a clear server_error", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await fetchWith(
      { ISSUER: "" },
      new Request(`${ISSUER}/.well-known/openid-configuration`),
    );
    expect(res.status).toBe(500);
    expect(await json(res)).toMatchObject({
      error: "server_error",
      error_description: expect.stringContaining("ISSUER"),
    });
  });

  it("refuses an ISSUER that is not an https URL without query or fragment (RFC 8414 §2)", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    for (const issuer of [
      "http://auth.example.test",
      "auth.example.test",
      "https://a.test/?x=1",
      "https://a.test/#f",
    ]) {
      const res = await fetchWith(
        { ISSUER: issuer },
        new Request(`${ISSUER}/.well-known/openid-configuration`),
      );
      expect(res.status, issuer).toBe(500);
      expect(await json(res)).toMatchObject({
        error: "server_error",
        error_description: expect.stringContaining("ISSUER"),
      });
    }
  });

  it("refuses oversized headers before doing any work", async () => {
    const res = await call("/jwks", { headers: { "X-Padding": "a".repeat(9000) } });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: "invalid_request" });
  });

  it("refuses an oversized form body with 413", async () => {
    const res = await postForm("/token", {
      grant_type: "client_credentials",
      padding: "a".repeat(17 * 1024),
    });
    expect(res.status).toBe(413);
    expect(await json(res)).toMatchObject({ error: "invalid_request" });
  });
});

describe("caching of responses that carry tokens (RFC 6749 §5.1)", () => {
  it("sends Cache-Control: no-store and Pragma: no-cache with tokens and with token errors", async () => {
    const client = await registerClient({
      grant_types: ["client_credentials"],
      redirect_uris: [],
      scope: "api:read",
    });
    const ok = await tokenRequest(client, { grant_type: "client_credentials" });
    expect(ok.status).toBe(200);
    const bad = await tokenRequest(client, { grant_type: "refresh_token", refresh_token: "nope" });
    expect(bad.status).toBe(400);
    const introspection = await postForm("/introspect", { token: "x" });
    for (const res of [ok, bad, introspection]) {
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("pragma")).toBe("no-cache");
    }
  });
});

describe("RFC 6749 §5.2: every error_description stays within %x20-21 / %x23-5B / %x5D-7E", () => {
  it("holds for any text an OAuthError is given (fast-check)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        const { description } = new OAuthError("invalid_request", `x${text}`);
        expect(description).toMatch(DESCRIPTION_CHARSET);
      }),
      { numRuns: 500 },
    );
  });

  it("keeps text already in the set, and spells out what it replaces", () => {
    const plain = "The code_verifier must be 43 to 128 characters of [A-Za-z0-9._~-].";
    expect(new OAuthError("invalid_request", plain).description).toBe(plain);
    expect(
      new OAuthError("invalid_scope", 'Not within the grant (RFC 6749 §6), "a" \\ b…').description,
    ).toBe("Not within the grant (RFC 6749 section 6), 'a' ? b...");
  });

  it("holds at the endpoints: a repeated parameter, a bad verifier, a narrower scope", async () => {
    const client = await registerClient({ consent: "implicit" });
    const auth = { Authorization: basic(client.client_id, client.client_secret as string) };
    const repeated = await call("/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", ...auth },
      body: "grant_type=client_credentials&grant_type=client_credentials",
    });
    const verifier = await postForm(
      "/token",
      {
        grant_type: "authorization_code",
        code: "ac1.x",
        redirect_uri: "https://a.test/cb",
        code_verifier: "short",
      },
      auth,
    );
    for (const res of [repeated, verifier]) {
      expect(res.status).toBe(400);
      expect((await json<{ error_description: string }>(res)).error_description).toMatch(
        DESCRIPTION_CHARSET,
      );
    }
  });
});
