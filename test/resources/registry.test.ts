import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Params } from "../../src/params";
import { identifierProblem } from "../../src/resources/identifier";
import { findResource } from "../../src/resources/registry";
import { adminCall } from "../support/http";
import { registerResource, resourcePath } from "../support/resources";

/** The resource registry and the syntax rules of RFC 8707 section 2. */

describe("identifiers (RFC 8707 section 2)", () => {
  it("accepts absolute https URIs, and http only on loopback hosts", () => {
    expect(identifierProblem("https://api.example.com/")).toBeUndefined();
    expect(identifierProblem("https://api.example.com/app?tenant=1")).toBeUndefined();
    expect(identifierProblem("http://[::1]:8080/mcp")).toBeUndefined();
    expect(identifierProblem("http://api.example.com/")).toMatch(/https/);
  });

  it('refuses a fragment ("The URI MUST NOT include a fragment component"), even an empty one', () => {
    expect(identifierProblem("https://api.example.com/#")).toMatch(/fragment/);
    expect(identifierProblem("https://api.example.com/#part")).toMatch(/fragment/);
  });

  it("refuses what is not an absolute URI, and overlong identifiers", () => {
    expect(identifierProblem("api")).toMatch(/absolute/);
    expect(identifierProblem(`https://api.example.com/${"a".repeat(400)}`)).toMatch(/at most/);
  });
});

describe("the resource parameter may repeat (RFC 8707 section 2)", () => {
  it("keeps every resource value in order, while any other parameter still may not repeat", () => {
    const params = Params.parse("resource=https%3A%2F%2Fa%2F&scope=x&resource=https%3A%2F%2Fb%2F");
    expect(params.all("resource")).toEqual(["https://a/", "https://b/"]);
    expect(params.get("resource")).toBe("https://a/");
    expect(() => Params.parse("scope=a&scope=b")).toThrow(/more than once/);
    expect(Params.parse("resource=").all("resource")).toEqual([]);
  });
});

describe("the registry", () => {
  it("finds a registered resource, and forgets a deleted one at once in the isolate that deleted it", async () => {
    const resource = await registerResource();
    expect(await findResource(env, resource.identifier)).toMatchObject({
      identifier: resource.identifier,
    });
    await adminCall("DELETE", resourcePath(resource.identifier));
    expect(await findResource(env, resource.identifier)).toBeUndefined();
  });

  it("sees an update at once in the isolate that made it", async () => {
    const resource = await registerResource();
    await findResource(env, resource.identifier); // now cached here
    await adminCall("PATCH", resourcePath(resource.identifier), { access_token_lifetime: 90 });
    expect((await findResource(env, resource.identifier))?.access_token_lifetime).toBe(90);
  });
});
