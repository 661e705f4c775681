import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { SecurityEvent } from "../../src/events/event";
import { type EventQuery, pageStatement } from "../../src/events/query";
import {
  MAX_AGE_MS,
  MAX_BATCH,
  MAX_ROWS,
  PRUNE_BATCH,
  type SecurityEvents,
} from "../../src/events/store";

/**
 * The security-event store (src/events/store.ts), one fresh instance per
 * test: what it keeps, how it pages (newest first, keyset: no duplicates and
 * no gaps, whatever is stored between two pages), that each filter is one
 * index seek, and its two bounds, rows and age, kept on write and by its
 * alarm, a batch at a time.
 */

const store = () => env.SECURITY_EVENTS.getByName(`test-${crypto.randomUUID()}`);

const event = (overrides: Partial<SecurityEvent> = {}): SecurityEvent => ({
  time: Date.now(),
  type: "user.login_failed",
  level: "info",
  requestId: "req",
  details: {},
  ...overrides,
});

const SUBS = ["sub-a", "sub-b", "sub-c"];
const CLIENTS = ["client-x", "client-y"];
const TYPES = ["refresh.reuse_detected", "user.locked_out", "client.auth_failed"] as const;

/** The i-th event of a mixed stream: every combination of sub, client and type occurs. */
const mixed = (i: number): SecurityEvent =>
  event({
    type: TYPES[i % 3],
    ...(i % 4 !== 0 ? { sub: SUBS[i % 3] } : {}),
    ...(i % 5 !== 0 ? { clientId: CLIENTS[i % 2] } : {}),
    requestId: `req-${i}`,
    details: { i },
  });

async function allPages(
  stub: DurableObjectStub<SecurityEvents>,
  filter: Omit<EventQuery, "limit" | "before">,
  limit: number,
  between: () => Promise<void> = async () => {},
): Promise<number[]> {
  const ids: number[] = [];
  let before: number | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await stub.page({ ...filter, limit, ...(before ? { before } : {}) });
    expect(page.events.length).toBeLessThanOrEqual(limit);
    ids.push(...page.events.map((e) => e.id));
    if (page.next === undefined) return ids;
    expect(page.events.length).toBe(limit);
    before = page.next;
    await between();
  }
  throw new Error("paging did not end");
}

const rowCount = (stub: DurableObjectStub<SecurityEvents>) =>
  runInDurableObject(stub, (_i, state) => {
    const row = state.storage.sql
      .exec<{ n: number; low: number | null; high: number | null }>(
        "SELECT count(*) AS n, min(id) AS low, max(id) AS high FROM events",
      )
      .one();
    return { count: row.n, low: row.low, high: row.high };
  });

/** Test-only path: `n` rows straight into the table in one statement, `age` ms old. */
const insertRaw = (stub: DurableObjectStub<SecurityEvents>, n: number, age = 0) =>
  runInDurableObject(stub, (_i, state) => {
    state.storage.sql.exec(
      `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?)
       INSERT INTO events (time, type, level, sub, client_id, request_id, details)
       SELECT ?, 'user.login_failed', 'info', 'sub-' || (i % 100), 'client-' || (i % 7), 'raw', '{}' FROM k`,
      n,
      Date.now() - age,
    );
  });

describe("the security-event store", () => {
  it("keeps an event's columns and details, newest first", async () => {
    const stub = store();
    await stub.record([
      event({
        type: "refresh.reuse_detected",
        level: "warn",
        sub: "u",
        clientId: "c",
        familyId: "f",
        details: { reason: "refresh_token_reuse" },
      }),
      event({ type: "user.blocked", sub: "u", actor: "alice", requestId: "req-2" }),
    ]);
    const page = await stub.page({ sub: "u", limit: 10 });
    expect(page.next).toBeUndefined();
    expect(page.events.map((e) => e.type)).toEqual(["user.blocked", "refresh.reuse_detected"]);
    expect(page.events[0]).toMatchObject({ actor: "alice", request_id: "req-2", sub: "u" });
    expect(page.events[1]).toMatchObject({
      level: "warn",
      client_id: "c",
      family_id: "f",
      details: { reason: "refresh_token_reuse" },
    });
    expect(page.events[1]?.time).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(page.events[1]).not.toHaveProperty("actor");
  });

  it("filters by sub, client_id and type, alone and together, and pages through each with no duplicate and no gap, while events keep arriving", async () => {
    const stub = store();
    const stream: SecurityEvent[] = Array.from({ length: 120 }, (_, i) => mixed(i));
    for (let i = 0; i < stream.length; i += 40) await stub.record(stream.slice(i, i + 40));
    // New events between pages are newer than the cursor: they neither
    // repeat in nor push anything out of the pages still to come.
    const arrive = () => {
      const next = mixed(stream.length);
      stream.push(next);
      return stub.record([next]);
    };
    const filters: Omit<EventQuery, "limit">[] = [
      {},
      { sub: "sub-b" },
      { clientId: "client-y" },
      { type: "user.locked_out" },
      { sub: "sub-a", clientId: "client-x" },
      { sub: "sub-c", type: "client.auth_failed" },
      { clientId: "client-x", type: "refresh.reuse_detected" },
      { sub: "nobody" },
    ];
    for (const filter of filters) {
      for (const limit of [1, 7, 100]) {
        // Ids start at 1 in a new store and follow the order of writing.
        const expected = stream
          .map((e, i) => ({ ...e, id: i + 1 }))
          .filter(
            (e) =>
              (!filter.sub || e.sub === filter.sub) &&
              (!filter.clientId || e.clientId === filter.clientId) &&
              (!filter.type || e.type === filter.type),
          )
          .map((e) => e.id)
          .reverse();
        const ids = await allPages(stub, filter, limit, arrive);
        expect(ids, JSON.stringify({ filter, limit })).toEqual(expected);
        expect(new Set(ids).size).toBe(ids.length);
      }
    }
  });

  it("a page is one index seek (EXPLAIN QUERY PLAN: SEARCH ... USING INDEX, no sort), for each filter, with and without a cursor", async () => {
    const stub = store();
    await insertRaw(stub, 2_000);
    const queries: [EventQuery, RegExp][] = [
      [{ sub: "sub-1", limit: 20 }, /^SEARCH events USING INDEX events_by_sub \(sub=\?\)$/],
      [
        { sub: "sub-1", before: 900, limit: 20 },
        /^SEARCH events USING INDEX events_by_sub \(sub=\? AND (?:row)?id<\?\)$/,
      ],
      [
        { clientId: "client-3", limit: 20 },
        /^SEARCH events USING INDEX events_by_client \(client_id=\?\)$/,
      ],
      [
        { clientId: "client-3", before: 900, limit: 20 },
        /^SEARCH events USING INDEX events_by_client \(client_id=\? AND (?:row)?id<\?\)$/,
      ],
      [
        { type: "user.login_failed", limit: 20 },
        /^SEARCH events USING INDEX events_by_type \(type=\?\)$/,
      ],
      [
        { type: "user.login_failed", before: 900, limit: 20 },
        /^SEARCH events USING INDEX events_by_type \(type=\? AND (?:row)?id<\?\)$/,
      ],
      [{ limit: 20 }, /^SCAN events$/],
      [{ before: 900, limit: 20 }, /^SEARCH events USING INTEGER PRIMARY KEY \((?:row)?id<\?\)$/],
      [
        { sub: "sub-1", clientId: "client-3", type: "user.login_failed", limit: 20 },
        /^SEARCH events USING INDEX events_by_sub \(sub=\?\)$/,
      ],
    ];
    const plans = await runInDurableObject(stub, (_i, state) =>
      queries.map(([q]) => {
        const { sql, bindings } = pageStatement(q);
        return state.storage.sql
          .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, ...bindings)
          .toArray()
          .map((row) => row.detail);
      }),
    );
    queries.forEach(([q, plan], i) => {
      expect(plans[i], JSON.stringify(q)).toEqual([expect.stringMatching(plan)]);
    });
  });

  it(`keeps at most ${MAX_ROWS.toLocaleString("en")} rows: the oldest go, ${PRUNE_BATCH} per write and per alarm run`, async () => {
    const stub = store();
    await stub.record([event()]); // sets the pruning alarm
    const backlog = PRUNE_BATCH + 200;
    await insertRaw(stub, MAX_ROWS + backlog - 1);
    expect((await rowCount(stub)).count).toBe(MAX_ROWS + backlog);

    await stub.record([event({ sub: "newest" })]);
    let rows = await rowCount(stub);
    expect(rows.count).toBe(MAX_ROWS + backlog + 1 - PRUNE_BATCH);

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    rows = await rowCount(stub);
    expect(rows.count).toBe(MAX_ROWS);
    // The newest MAX_ROWS, with no gap: only the oldest were deleted.
    expect(rows.high).toBe(MAX_ROWS + backlog + 1);
    expect(rows.low).toBe(backlog + 2);
    expect((await stub.page({ sub: "newest", limit: 5 })).events).toHaveLength(1);
  });

  it("lets no flood of unauthenticated failures push an admin action or a reuse detection out", async () => {
    const stub = store();
    await stub.record([
      event({ type: "client.deleted", actor: "alice", sub: "kept" }),
      event({ type: "refresh.reuse_detected", level: "warn", sub: "kept" }),
    ]);
    // A flood of failures, more than the row bound, after them.
    await insertRaw(stub, MAX_ROWS + PRUNE_BATCH);
    await stub.record([event({ sub: "newest" })]);
    while (await runDurableObjectAlarm(stub)) {
      if ((await rowCount(stub)).count <= MAX_ROWS + 2) break;
    }
    const rows = await rowCount(stub);
    expect(rows.count).toBe(MAX_ROWS + 2); // the newest MAX_ROWS ids, and the two kept ones
    expect((await stub.page({ sub: "kept", limit: 5 })).events.map((e) => e.type).sort()).toEqual([
      "client.deleted",
      "refresh.reuse_detected",
    ]);
  });

  it(`keeps no event older than ${MAX_AGE_MS / 86_400_000} days: pruned on write and by the alarm`, async () => {
    const stub = store();
    const old = Date.now() - MAX_AGE_MS - 60_000;
    const young = Date.now() - MAX_AGE_MS + 3_600_000;
    await stub.record([
      event({ time: old, sub: "old" }),
      event({ time: old, sub: "old" }),
      event({ time: young, sub: "young" }),
    ]);
    // The write that stored them pruned the two past the bound.
    expect((await stub.page({ sub: "old", limit: 10 })).events).toEqual([]);
    expect((await stub.page({ sub: "young", limit: 10 })).events).toHaveLength(1);

    // Rows that grew old since: the alarm removes them with no write.
    await insertRaw(stub, 30, MAX_AGE_MS + 1_000);
    expect((await rowCount(stub)).count).toBe(31);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await rowCount(stub)).count).toBe(1);
    expect((await stub.page({ limit: 10 })).events.map((e) => e.sub)).toEqual(["young"]);
  });

  it(`takes at most ${MAX_BATCH} events in one write, and caps details it cannot keep`, async () => {
    const stub = store();
    await stub.record(Array.from({ length: MAX_BATCH + 20 }, (_, i) => mixed(i)));
    expect((await rowCount(stub)).count).toBe(MAX_BATCH);
    await stub.record([event({ sub: "big", details: { note: "x".repeat(5_000) } })]);
    const [big] = (await stub.page({ sub: "big", limit: 1 })).events;
    expect(big?.details).toEqual({ truncated: true });
  });
});
