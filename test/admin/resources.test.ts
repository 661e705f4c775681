import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerClient } from "../support/fixtures";
import { adminCall, call, DESCRIPTION_CHARSET, ISSUER, json } from "../support/http";
import {
  newIdentifier,
  type RegisteredResource,
  registerResource,
  resourcePath,
} from "../support/resources";

/**
 * The admin API for resources (RFC 8707): create, read, list, update
 * (PATCH), delete, behind the admin bearer token. A resource is addressed by
 * its identifier, percent-encoded as one path segment. Bad input is a 400
 * that names the field.
 */

async function refused(body: unknown, field: string, method = "POST", path = "/admin/resources") {
  const res = await adminCall(method, path, body);
  const error = await json<{ error: string; error_description: string }>(res);
  expect(res.status, JSON.stringify(error)).toBe(400);
  expect(error.error).toBe("invalid_request");
  expect(error.error_description.startsWith(`${field}:`), error.error_description).toBe(true);
  expect(error.error_description).toMatch(DESCRIPTION_CHARSET);
  return error.error_description;
}

afterEach(() => vi.restoreAllMocks());

describe("create, read, list, update, delete", () => {
  it("creates a resource with its fields and defaults, and reads it back by its identifier", async () => {
    const identifier = newIdentifier();
    const created = await registerResource({ identifier, name: "Contacts", scope: "a b" });
    expect(created).toMatchObject({
      identifier,
      name: "Contacts",
      scope: "a b",
      access_token_lifetime: null,
      require_sender_constrained: false,
    });
    const res = await adminCall("GET", resourcePath(identifier));
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual(created);
    // Stored beside the clients, keyed by the identifier.
    expect(JSON.parse((await env.CLIENTS.get(`resource:${identifier}`)) as string)).toMatchObject({
      identifier,
      scopes: ["a", "b"],
    });
  });

  it("lists resources with their names, and never mixes in clients", async () => {
    const resource = await registerResource({ name: "Listed API" });
    await registerClient();
    const res = await adminCall("GET", "/admin/resources");
    expect(res.status).toBe(200);
    const page = await json<{ resources: { identifier: string; name: string }[] }>(res);
    expect(page.resources).toContainEqual({ identifier: resource.identifier, name: "Listed API" });
    expect(page.resources.every((r) => r.identifier.startsWith("http"))).toBe(true);
  });

  it("updates the fields a PATCH names and keeps the rest", async () => {
    const resource = await registerResource({ scope: "x" });
    const res = await adminCall("PATCH", resourcePath(resource.identifier), {
      access_token_lifetime: 120,
      require_sender_constrained: true,
    });
    expect(res.status).toBe(200);
    const updated = await json<RegisteredResource>(res);
    expect(updated).toMatchObject({
      identifier: resource.identifier,
      name: resource.name,
      scope: "x",
      access_token_lifetime: 120,
      require_sender_constrained: true,
      created_at: resource.created_at,
    });
  });

  it("deletes a resource: 204, then 404 for read, update and delete", async () => {
    const resource = await registerResource();
    const path = resourcePath(resource.identifier);
    expect((await adminCall("DELETE", path)).status).toBe(204);
    expect((await adminCall("GET", path)).status).toBe(404);
    expect((await adminCall("PATCH", path, { name: "x" })).status).toBe(404);
    expect((await adminCall("DELETE", path)).status).toBe(404);
  });

  it("refuses to register the same identifier twice (409)", async () => {
    const resource = await registerResource();
    const res = await adminCall("POST", "/admin/resources", {
      identifier: resource.identifier,
      name: "Again",
    });
    expect(res.status).toBe(409);
    expect((await json(res)).error_description).toMatch(/^identifier:/);
  });

  it("answers 401 without the admin token", async () => {
    const res = await call("/admin/resources", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ identifier: newIdentifier(), name: "x" }),
    });
    expect(res.status).toBe(401);
  });

  it("audits every change as an admin action", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    const resource = await registerResource();
    await adminCall("PATCH", resourcePath(resource.identifier), { name: "Renamed" });
    await adminCall("DELETE", resourcePath(resource.identifier));
    const events = lines
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      })
      .filter((e) => e.resource === resource.identifier);
    expect(events.map((e) => [e.event, e.actor])).toEqual([
      ["resource.created", "admin-token"],
      ["resource.updated", "admin-token"],
      ["resource.deleted", "admin-token"],
    ]);
  });
});

describe("validation (RFC 8707 section 2: an absolute URI without a fragment)", () => {
  it.each([
    ["a fragment", "https://api.example.test/#x", /fragment/],
    ["a relative reference", "/api", /absolute URI/],
    ["no scheme", "api.example.test", /absolute URI/],
    ["another scheme", "ftp://api.example.test/", /https/],
    ["plain http off loopback", "http://api.example.test/", /https/],
    ["user information", "https://user:pw@api.example.test/", /user information/],
    ["spaces", "https://api.example.test/a b", /printable ASCII/],
  ])("refuses an identifier with %s", async (_what, identifier, why) => {
    expect(await refused({ identifier, name: "x" }, "identifier")).toMatch(why);
  });

  it("accepts https with a path and a query, and plain http on a loopback host", async () => {
    for (const identifier of [
      `${newIdentifier()}v1?tenant=7`,
      `http://localhost:8787/${crypto.randomUUID()}`,
      `http://127.0.0.1/${crypto.randomUUID()}`,
    ]) {
      const res = await adminCall("POST", "/admin/resources", { identifier, name: "x" });
      expect(res.status, identifier).toBe(201);
      expect((await adminCall("GET", resourcePath(identifier))).status).toBe(200);
    }
  });

  it("names the field of every other mistake", async () => {
    await refused({ name: "x" }, "identifier");
    await refused({ identifier: newIdentifier() }, "name");
    await refused({ identifier: newIdentifier(), name: "x", scope: 7 }, "scope");
    await refused({ identifier: newIdentifier(), name: "x", scope: 'a"b' }, "scope");
    // The provider's own scopes go into every token, so no resource may claim them.
    await refused({ identifier: newIdentifier(), name: "x", scope: "api:read openid" }, "scope");
    await refused(
      { identifier: newIdentifier(), name: "x", access_token_lifetime: 10 },
      "access_token_lifetime",
    );
    await refused(
      { identifier: newIdentifier(), name: "x", require_sender_constrained: "yes" },
      "require_sender_constrained",
    );
    await refused({ identifier: newIdentifier(), name: "x", audience: "y" }, "audience");
  });

  it("never changes an identifier (tokens and grants name it)", async () => {
    const resource = await registerResource();
    await refused(
      { identifier: newIdentifier() },
      "identifier",
      "PATCH",
      resourcePath(resource.identifier),
    );
  });
});

describe("a client's resources (for client_credentials)", () => {
  it("stores the identifiers, shows them, and defaults to none", async () => {
    const identifier = newIdentifier();
    const client = await registerClient({ resources: [identifier, identifier] });
    expect(client.resources).toEqual([identifier]);
    expect((await registerClient()).resources).toEqual([]);
  });

  it("refuses an identifier that could not be a resource, naming its index", async () => {
    const res = await adminCall("POST", "/admin/clients", {
      client_name: "x",
      redirect_uris: ["https://app.example.test/callback"],
      resources: [newIdentifier(), "https://api.example.test/#frag"],
    });
    expect(res.status).toBe(400);
    expect((await json(res)).error_description).toMatch(/^resources\[1\]: .*fragment/);
  });
});

/**
 * GET /admin/resources/:identifier/metadata: the RFC 9728 §2 document the API
 * should publish at its /.well-known/oauth-protected-resource, for APIs not
 * built on our resource-server module.
 */
describe("the protected-resource metadata of a resource (RFC 9728)", () => {
  const metadataPath = (identifier: string) => `${resourcePath(identifier)}/metadata`;

  it("names the resource, us as its authorization server, its scopes, name and token methods", async () => {
    const resource = await registerResource({
      name: "Contacts",
      scope: "contacts:read contacts:write",
    });
    const res = await adminCall("GET", metadataPath(resource.identifier));
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(await json(res)).toStrictEqual({
      resource: resource.identifier,
      authorization_servers: [ISSUER],
      scopes_supported: ["contacts:read", "contacts:write"],
      bearer_methods_supported: ["header"],
      resource_name: "Contacts",
      dpop_signing_alg_values_supported: ["ES256", "ES384", "PS256", "RS256", "Ed25519", "EdDSA"],
      dpop_bound_access_tokens_required: false,
      tls_client_certificate_bound_access_tokens: true,
    });
  });

  it("follows changes; no scopes_supported without scopes; sender-constrained is not DPoP-only", async () => {
    const resource = await registerResource({ identifier: `${newIdentifier()}v1/calendar` });
    await adminCall("PATCH", resourcePath(resource.identifier), {
      name: "Renamed",
      scope: "",
      require_sender_constrained: true,
    });
    const document = await json(await adminCall("GET", metadataPath(resource.identifier)));
    expect(document.resource).toBe(resource.identifier);
    expect(document.resource_name).toBe("Renamed");
    expect(document).not.toHaveProperty("scopes_supported");
    expect(document).not.toHaveProperty("jwks_uri");
    // A certificate-bound token satisfies require_sender_constrained too (RFC 8705).
    expect(document.dpop_bound_access_tokens_required).toBe(false);
    expect(document.tls_client_certificate_bound_access_tokens).toBe(true);
  });

  it("answers 404 for an unknown or deleted resource", async () => {
    const unknown = await adminCall("GET", metadataPath(newIdentifier()));
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error_description).toMatch(DESCRIPTION_CHARSET);
    const resource = await registerResource();
    await adminCall("DELETE", resourcePath(resource.identifier));
    expect((await adminCall("GET", metadataPath(resource.identifier))).status).toBe(404);
  });

  it("needs the admin token", async () => {
    const resource = await registerResource();
    expect((await call(metadataPath(resource.identifier))).status).toBe(401);
    const wrong = await call(metadataPath(resource.identifier), {
      headers: { Authorization: "Bearer not-the-admin-token" },
    });
    expect(wrong.status).toBe(401);
  });
});
