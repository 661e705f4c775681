import { describe, expect, it } from "vitest";
import {
  afterAttempt,
  type Delivery,
  due,
  nextAlarm,
  RETRY,
  retryDelayMs,
} from "../../src/sessions/logout-deliveries";

/**
 * The transitions of a back-channel logout delivery (src/sessions/logout-deliveries.ts):
 * 200 and 204 deliver (OIDC Back-Channel Logout 1.0 §2.8); anything else is
 * retried with exponential back-off, then given up; every attempt is one event.
 */

const delivery = (overrides: Partial<Delivery> = {}): Delivery => ({
  clientId: "app",
  uri: "https://rp.example/logout",
  alg: "RS256",
  jti: "j",
  attempts: 0,
  dueAt: 0,
  ...overrides,
});

describe("a logout delivery", () => {
  it("is done when answered 200 or 204 (§2.8), and recorded as delivered", () => {
    for (const status of [200, 204]) {
      const { next, record } = afterAttempt(delivery(), { status }, 1_000);
      expect(next).toBeUndefined();
      expect(record).toEqual({
        event: "logout.delivered",
        level: "info",
        fields: { clientId: "app", attempt: 1, status },
      });
    }
  });

  it("is retried after any other answer, or none, 5 s later and doubling, at most 15 minutes apart", () => {
    for (const outcome of [
      { status: 400 },
      { status: 302 },
      { status: 503 },
      { error: "timeout" as const },
      { error: "unreachable" as const },
    ]) {
      const { next, record } = afterAttempt(delivery(), outcome, 1_000);
      expect(next).toMatchObject({ attempts: 1, dueAt: 1_000 + 5_000, jti: "j" });
      expect(record.event).toBe("logout.delivery_failed");
      expect(record.fields).toMatchObject({ attempt: 1, retryInSeconds: 5, ...outcome });
    }
    expect([1, 2, 3, 4, 9, 11].map(retryDelayMs)).toEqual([
      5_000, 10_000, 20_000, 40_000, 900_000, 900_000,
    ]);
  });

  it(`is given up after ${RETRY.maxAttempts} attempts, about an hour after the first`, () => {
    let current: Delivery | undefined = delivery();
    let now = 0;
    let last: ReturnType<typeof afterAttempt> | undefined;
    let attempts = 0;
    while (current) {
      now = current.dueAt;
      last = afterAttempt(current, { status: 500 }, now);
      attempts++;
      current = last.next;
    }
    expect(attempts).toBe(RETRY.maxAttempts);
    expect(last?.record).toMatchObject({
      event: "logout.delivery_abandoned",
      level: "warn",
      fields: { attempt: RETRY.maxAttempts, status: 500 },
    });
    expect(now / 60_000).toBeGreaterThan(55);
    expect(now / 60_000).toBeLessThan(75);
  });

  it("is attempted by the alarm when due, and the alarm is set for the earliest left", () => {
    const a = delivery({ clientId: "a", dueAt: 100 });
    const b = delivery({ clientId: "b", dueAt: 200 });
    expect(due([a, b], 150)).toEqual([[a], [b]]);
    expect(due([a, b], 250)).toEqual([[a, b], []]);
    // Run early (a test's runDurableObjectAlarm): the earliest is what it was set for.
    expect(due([b], 0)).toEqual([[b], []]);
    expect(nextAlarm([a, b])).toBe(100);
    expect(nextAlarm([])).toBeUndefined();
  });
});
