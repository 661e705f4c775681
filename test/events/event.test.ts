import { describe, expect, it } from "vitest";
import { MAX_ID_LENGTH, securityEventOf } from "../../src/events/event";
import type { AuditRecord } from "../../src/log";

/** Which audit events the store keeps, and the row each becomes (src/events/event.ts). */

const record = (overrides: Partial<AuditRecord>): AuditRecord => ({
  event: "user.login_failed",
  level: "info",
  time: 1_700_000_000_000,
  requestId: "req",
  fields: {},
  ...overrides,
});

describe("securityEventOf", () => {
  it.each([
    "refresh.reuse_detected",
    "code.reuse_detected",
    "refresh.grace_used",
    "family.revoked",
    "user.login_failed",
    "user.locked_out",
    "client.auth_failed",
    "admin.auth_failed",
    "registration.auth_failed",
    "client.registered",
    "administrator.signed_in",
    "administrator.login_failed",
    "administrator.locked_out",
  ] as const)("keeps %s", (event) => {
    expect(securityEventOf(record({ event }))?.type).toBe(event);
  });

  it.each(["token.issued", "token.refreshed", "family.expired", "signing_key.created"] as const)(
    "leaves routine %s to the log",
    (event) => {
      expect(securityEventOf(record({ event, fields: { sub: "u" } }))).toBeUndefined();
    },
  );

  it("keeps every admin action (an event with an actor), whatever its name", () => {
    const event = securityEventOf(
      record({ event: "resource.deleted", fields: { actor: "alice", resource: "https://api" } }),
    );
    expect(event).toEqual({
      time: 1_700_000_000_000,
      type: "resource.deleted",
      level: "info",
      actor: "alice",
      requestId: "req",
      details: { resource: "https://api" },
    });
  });

  it("moves sub, clientId, familyId and actor into columns; the rest (never undefined) into details", () => {
    const event = securityEventOf(
      record({
        event: "refresh.reuse_detected",
        level: "warn",
        fields: {
          sub: "u",
          clientId: "c",
          familyId: "f",
          reason: "refresh_token_reuse",
          failures: 3,
          scope: ["openid"],
          missing: undefined,
        },
      }),
    );
    expect(event).toMatchObject({ sub: "u", clientId: "c", familyId: "f", level: "warn" });
    expect(event?.details).toEqual({
      reason: "refresh_token_reuse",
      failures: 3,
      scope: ["openid"],
    });
  });

  it(`an id longer than ${MAX_ID_LENGTH} characters is cut; an empty one is no id`, () => {
    const event = securityEventOf(
      record({ fields: { clientId: `https://${"a".repeat(3_000)}`, sub: "" } }),
    );
    expect(event?.clientId).toHaveLength(MAX_ID_LENGTH);
    expect(event).not.toHaveProperty("sub");
  });
});
