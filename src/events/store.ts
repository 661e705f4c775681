import { DurableObject } from "cloudflare:workers";
import type { AuditEvent } from "../log";
import {
  type EventDetails,
  MAX_DETAILS_LENGTH,
  type SecurityEvent,
  UNAUTHENTICATED_FAILURES,
} from "./event";
import { type EventQuery, pageStatement } from "./query";

/**
 * The security-event store: one SQLite-backed Durable Object (a single
 * instance, `securityEvents(env)`) with a row per stored event, made for the
 * admin API's questions: the events of a user, of a client, of a type, newest
 * first. The recorder (recorder.ts) writes to it off the request's path: no
 * refresh, sign-in or admin call waits for it or fails with it.
 *
 * Write ceiling: a Durable Object runs one call at a time, and a call here is
 * one short transaction (a request's events arrive together, as one batch),
 * so one instance takes on the order of a thousand batches a second. Stored
 * events are the rare ones (reuse, failures, lock-outs, admin actions), and
 * the failures an attacker can cause are rate-limited per address before
 * they are logged; a flood beyond the ceiling slows or fails the recording,
 * which is logged, never the requests.
 *
 * Bounded: none older than MAX_AGE_MS; no unauthenticated failure (event.ts,
 * UNAUTHENTICATED_FAILURES) beyond the newest MAX_ROWS events, and nothing at
 * all beyond the newest HARD_MAX_ROWS: a flood of failures that anyone can
 * cause pushes out the oldest failures, never an admin action or a reuse
 * detection (those go by age, or past the hard bound). Every write
 * prunes up to PRUNE_BATCH of the oldest rows past either bound, in its own
 * transaction, and an alarm does the same on its own (hourly, or every
 * second while a backlog remains), so no single call does a large delete.
 */

export const MAX_ROWS = 100_000;
/** Rows other than unauthenticated failures may fill up to this many ids back. */
export const HARD_MAX_ROWS = 2 * MAX_ROWS;
export const MAX_AGE_MS = 90 * 86_400_000;
/** The most rows one write or one alarm run deletes. */
export const PRUNE_BATCH = 500;
/** The most events one write takes (a request writes a handful). */
export const MAX_BATCH = 100;
const PRUNE_EVERY_MS = 60 * 60_000;
const BACKLOG_EVERY_MS = 1_000;

/** The name of the one instance. */
const INSTANCE = "security-events";

export const securityEvents = (env: Env) => env.SECURITY_EVENTS.getByName(INSTANCE);

/**
 * `id` only grows (AUTOINCREMENT: never reused, even after the newest rows
 * are pruned), so it orders the rows as they were stored and is the cursor
 * of a page. Each filter has an index ending in `id`, so "this user's events,
 * newest first, below this id" is one seek; the sub and client_id indexes are
 * partial (an event without one costs no entry in it).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time INTEGER NOT NULL,
  type TEXT NOT NULL,
  level TEXT NOT NULL,
  sub TEXT,
  client_id TEXT,
  family_id TEXT,
  actor TEXT,
  request_id TEXT NOT NULL,
  details TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_sub ON events (sub, id) WHERE sub IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_by_client ON events (client_id, id) WHERE client_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_by_type ON events (type, id);
`;

/** One event as the admin API shows it. */
export interface EventView {
  id: number;
  /** When it happened, ISO 8601. */
  time: string;
  type: AuditEvent;
  level: "info" | "warn";
  sub?: string;
  client_id?: string;
  family_id?: string;
  actor?: string;
  request_id: string;
  details: EventDetails;
}

export interface EventPage {
  events: EventView[];
  /** The last event's id, when older events follow. */
  next?: number;
}

interface Row {
  id: number;
  time: number;
  type: string;
  level: string;
  sub: string | null;
  client_id: string | null;
  family_id: string | null;
  actor: string | null;
  request_id: string;
  details: string;
  // SqlStorageCursor rows are records of SQL values.
  [column: string]: SqlStorageValue;
}

const viewOf = (row: Row): EventView => ({
  id: row.id,
  time: new Date(row.time).toISOString(),
  type: row.type as AuditEvent,
  level: row.level === "warn" ? "warn" : "info",
  ...(row.sub !== null ? { sub: row.sub } : {}),
  ...(row.client_id !== null ? { client_id: row.client_id } : {}),
  ...(row.family_id !== null ? { family_id: row.family_id } : {}),
  ...(row.actor !== null ? { actor: row.actor } : {}),
  request_id: row.request_id,
  details: JSON.parse(row.details) as EventDetails,
});

function detailsJson(details: EventDetails): string {
  const json = JSON.stringify(details);
  return json.length <= MAX_DETAILS_LENGTH ? json : '{"truncated":true}';
}

export class SecurityEvents extends DurableObject<Env> {
  /** Whether this instance has made sure a pruning alarm is set (once per wake-up). */
  private alarmChecked = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(SCHEMA);
  }

  /** Stores a batch of events (one request's), then prunes a little. */
  async record(events: readonly SecurityEvent[]): Promise<void> {
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      for (const event of events.slice(0, MAX_BATCH)) {
        sql.exec(
          `INSERT INTO events (time, type, level, sub, client_id, family_id, actor, request_id, details)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          event.time,
          event.type,
          event.level,
          event.sub ?? null,
          event.clientId ?? null,
          event.familyId ?? null,
          event.actor ?? null,
          event.requestId,
          detailsJson(event.details),
        );
      }
    });
    this.prune(Date.now());
    await this.ensureAlarm();
  }

  page(query: EventQuery): EventPage {
    const { sql, bindings } = pageStatement(query);
    const rows = this.ctx.storage.sql.exec<Row>(sql, ...bindings).toArray();
    const events = rows.slice(0, query.limit).map(viewOf);
    const last = events.at(-1);
    return rows.length > query.limit && last ? { events, next: last.id } : { events };
  }

  /**
   * Deletes up to PRUNE_BATCH of the oldest rows past a bound; returns how
   * many. Rows: ids only grow and only the oldest go, so the rows above
   * max(id) - MAX_ROWS are at most MAX_ROWS. Age: among the oldest rows (by
   * id, which follows time closely), those older than MAX_AGE_MS. Both are
   * walks along the primary key from its low end: no index on time to keep.
   */
  private prune(now: number): number {
    const sql = this.ctx.storage.sql;
    return this.ctx.storage.transactionSync(() => {
      let deleted = 0;
      // RETURNING counts the rows (rowsWritten would count index entries too).
      const drop = (statement: string, ...bindings: (string | number)[]) => {
        const room = PRUNE_BATCH - deleted;
        if (room > 0) deleted += sql.exec(statement, ...bindings, room).toArray().length;
      };
      // Unauthenticated failures past the newest MAX_ROWS ids go first, one
      // type at a time along its (type, id) index.
      for (const type of UNAUTHENTICATED_FAILURES)
        drop(
          `DELETE FROM events WHERE id IN (
             SELECT id FROM events WHERE type = ? AND id <= (SELECT max(id) FROM events) - ? ORDER BY id LIMIT ?)
           RETURNING id`,
          type,
          MAX_ROWS,
        );
      // Any row past the newest 2 × MAX_ROWS ids: the hard bound.
      drop(
        `DELETE FROM events WHERE id IN (
           SELECT id FROM events WHERE id <= (SELECT max(id) FROM events) - ? ORDER BY id LIMIT ?)
         RETURNING id`,
        HARD_MAX_ROWS,
      );
      drop(
        `DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT ?2) AND time < ?1
         RETURNING id`,
        now - MAX_AGE_MS,
      );
      return deleted;
    });
  }

  private async ensureAlarm(): Promise<void> {
    if (this.alarmChecked) return;
    this.alarmChecked = true;
    if ((await this.ctx.storage.getAlarm()) === null)
      await this.ctx.storage.setAlarm(Date.now() + PRUNE_EVERY_MS);
  }

  override async alarm(): Promise<void> {
    const pruned = this.prune(Date.now());
    // A full batch may have left more: come back soon, in another short call.
    await this.ctx.storage.setAlarm(
      Date.now() + (pruned >= PRUNE_BATCH ? BACKLOG_EVERY_MS : PRUNE_EVERY_MS),
    );
  }
}
