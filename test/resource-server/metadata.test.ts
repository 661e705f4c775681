import { describe, expect, it } from "vitest";
import { createResourceServer } from "../../src/resource-server";
import { protectedResourceMetadataUrl } from "../../src/resource-server/metadata";

/**
 * RFC 9728 as the resource-server module publishes it: the well-known URL
 * derived from a resource identifier (§3.1), and the document completed from
 * the module's own options (§2). Served end to end by the protected API in
 * protected-api.test.ts.
 */

const ISSUER = "https://auth.example.test";

describe("the well-known URL of a resource identifier (RFC 9728 §3.1)", () => {
  it.each([
    [
      "no path",
      "https://api.example.com",
      "https://api.example.com/.well-known/oauth-protected-resource",
    ],
    [
      "a lone slash",
      "https://api.example.com/",
      "https://api.example.com/.well-known/oauth-protected-resource",
    ],
    [
      "a path",
      "https://api.example.com/v1",
      "https://api.example.com/.well-known/oauth-protected-resource/v1",
    ],
    [
      "a path ending in a slash",
      "https://api.example.com/v1/calendar/",
      "https://api.example.com/.well-known/oauth-protected-resource/v1/calendar",
    ],
    [
      "a port and a query",
      "https://api.example.com:8443/a?tenant=1",
      "https://api.example.com:8443/.well-known/oauth-protected-resource/a?tenant=1",
    ],
  ])("with %s", (_, identifier, expected) => {
    expect(protectedResourceMetadataUrl(identifier)).toBe(expected);
  });
});

describe("createResourceServer's metadata option", () => {
  const get = (url: string, method = "GET") => new Request(url, { method });

  it("completes the document from the options; given fields win", async () => {
    const rs = createResourceServer({
      issuer: ISSUER,
      audience: "https://api.example.com/v1",
      dpop: false,
      metadata: { resource_name: "V1", bearer_methods_supported: ["header"], extra: 1 },
    });
    expect(rs.metadata).toStrictEqual({
      url: "https://api.example.com/.well-known/oauth-protected-resource/v1",
      document: {
        resource: "https://api.example.com/v1",
        authorization_servers: [ISSUER],
        bearer_methods_supported: ["header"],
        tls_client_certificate_bound_access_tokens: true,
        resource_name: "V1",
        extra: 1,
      },
    });
    // Served at its path only, for GET and HEAD; the challenge names it.
    const url = rs.metadata?.url as string;
    expect(await rs.metadataResponse(get(url))?.json()).toStrictEqual(rs.metadata?.document);
    expect(rs.metadataResponse(get(url, "HEAD"))?.status).toBe(200);
    expect(rs.metadataResponse(get(url, "DELETE"))).toBeUndefined();
    expect(
      rs.metadataResponse(get("https://api.example.com/.well-known/oauth-protected-resource")),
    ).toBeUndefined();
    const refused = await rs.authenticate(get("https://api.example.com/v1/x"));
    expect((refused as Response).headers.get("WWW-Authenticate")).toBe(
      `Bearer resource_metadata="${url}"`,
    );
  });

  it("keeps an explicit resourceMetadata, and publishes nothing without the option", () => {
    const explicit = createResourceServer({
      issuer: ISSUER,
      audience: "https://api.example.com",
      resourceMetadata: "https://docs.example.com/rs.json",
      metadata: {},
    });
    expect(explicit.metadata?.url).toBe(
      "https://api.example.com/.well-known/oauth-protected-resource",
    );
    const none = createResourceServer({ issuer: ISSUER, audience: "https://api.example.com" });
    expect(none.metadata).toBeUndefined();
    expect(
      none.metadataResponse(get("https://api.example.com/.well-known/oauth-protected-resource")),
    ).toBeUndefined();
  });

  it("needs metadata.resource when the audience is not one identifier (§3.3: the document names one)", () => {
    expect(() =>
      createResourceServer({
        issuer: ISSUER,
        audience: ["https://a.example", "https://b.example"],
        metadata: {},
      }),
    ).toThrow(/metadata\.resource/);
  });
});
