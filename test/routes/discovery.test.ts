import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const ISSUER = "https://auth.example.test";

describe("discovery", () => {
  it("serves RFC 8414 metadata with the configured issuer", async () => {
    const res = await exports.default.fetch(`${ISSUER}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    const doc = await res.json<Record<string, unknown>>();
    expect(doc.issuer).toBe(ISSUER);
  });
});
