import { describe, expect, it } from "vitest";
import type { ResourceRecord } from "../../src/resources/model";
import { scopeForAudience } from "../../src/resources/scopes";

/** RFC 8707 section 2.2: downscoping a token to what its resource defines. */

const resource = (identifier: string, scopes: string[]): ResourceRecord => ({
  identifier,
  name: identifier,
  scopes,
  require_sender_constrained: false,
  created_at: 0,
  updated_at: 0,
});
const calendar = resource("https://calendar.example.test/", ["calendar:read", "shared"]);
const mail = resource("https://mail.example.test/", ["mail:read", "shared"]);
const grant = ["openid", "calendar:read", "mail:read", "shared"];

describe("scopeForAudience", () => {
  it("keeps the token's own resource's scopes and those no other resource defines", () => {
    expect(scopeForAudience(grant, calendar, [calendar, mail])).toEqual([
      "openid",
      "calendar:read",
      "shared",
    ]);
    expect(scopeForAudience(grant, mail, [calendar, mail])).toEqual([
      "openid",
      "mail:read",
      "shared",
    ]);
  });

  it("keeps every resource's scopes out of a token for the default audience", () => {
    expect(scopeForAudience(grant, undefined, [calendar, mail])).toEqual(["openid"]);
  });

  it("changes nothing without other resources, or when they are gone from the registry", () => {
    expect(scopeForAudience(grant, undefined, [])).toEqual(grant);
    expect(scopeForAudience(grant, calendar, [undefined])).toEqual(grant);
  });
});
