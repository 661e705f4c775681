import type { AuditEvent, AuditRecord, Fields } from "../log";

/**
 * Which audit events the security-event store keeps, and the row each
 * becomes (pure: no storage). The store answers "what happened to this
 * user's tokens, this client's?", so it keeps what an operator looks for
 * after the fact: reuse detections and the revocations they cause, grace
 * answers, failed and locked-out sign-ins (users' and administrators'),
 * administrators' sign-ins, failed client, admin and registration
 * authentications, self-registrations, ended sessions and every attempt to
 * tell a client of one (back-channel logout), and every admin action.
 * Routine traffic (tokens issued and refreshed, grants expiring) stays in the
 * log only: it would fill the store's bound with noise.
 */

const STORED: ReadonlySet<AuditEvent> = new Set<AuditEvent>([
  "refresh.reuse_detected",
  "code.reuse_detected",
  "device_code.reuse_detected",
  "refresh.grace_used",
  "family.revoked",
  "user.login_failed",
  "user.locked_out",
  "client.auth_failed",
  "admin.auth_failed",
  "registration.auth_failed",
  "client.registered",
  "client.registration_updated",
  "client.registration_deleted",
  "client.expired",
  "administrator.signed_in",
  "administrator.login_failed",
  "administrator.locked_out",
  "session.ended",
  "user.password_changed",
  "user.app_removed",
  "logout.delivered",
  "logout.delivery_failed",
  "logout.delivery_abandoned",
]);

/**
 * The events anyone can cause without credentials (a wrong password, an
 * unknown client), each at most the per-address rate limits allow: a flood
 * of them must never push the rest (admin actions, reuse detections) out of
 * the store, so the store's row bound takes them first (store.ts).
 */
export const UNAUTHENTICATED_FAILURES: readonly AuditEvent[] = [
  "user.login_failed",
  "client.auth_failed",
  "admin.auth_failed",
  "registration.auth_failed",
  "administrator.login_failed",
];

/** An event's fields other than its columns. */
export type EventDetails = Record<string, string | number | boolean | readonly string[]>;

/** One stored event, as the recorder sends it to the store. */
export interface SecurityEvent {
  /** Milliseconds since the epoch, when the event happened (not when it was stored). */
  time: number;
  type: AuditEvent;
  level: "info" | "warn";
  sub?: string;
  clientId?: string;
  familyId?: string;
  /** Who did it, for an admin action. */
  actor?: string;
  requestId: string;
  /**
   * The event's other fields (reason, failures, kid, resource, …). Audit
   * fields are ids and outcomes only, never a token, a secret, a password or
   * a name as typed at a sign-in (src/users/username.ts `who()`), and this
   * is a copy of them.
   */
  details: EventDetails;
}

/** Longest id-like value a column keeps (a client_id may be a metadata-document URL). */
export const MAX_ID_LENGTH = 2_048;
/** Longest `details` JSON kept; a longer one is replaced by `{"truncated":true}`. */
export const MAX_DETAILS_LENGTH = 2_048;

const COLUMNS = { sub: "sub", clientId: "clientId", familyId: "familyId", actor: "actor" } as const;

const idOf = (value: Fields[string]): string | undefined =>
  typeof value === "string" && value.length > 0 ? value.slice(0, MAX_ID_LENGTH) : undefined;

/** The row an audit record becomes, or undefined when the store does not keep its kind. */
export function securityEventOf(record: AuditRecord): SecurityEvent | undefined {
  const { fields } = record;
  // Every admin action names its actor (src/log.ts adminAction); nothing else does.
  if (!STORED.has(record.event) && fields.actor === undefined) return undefined;
  const details: EventDetails = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || name in COLUMNS) continue;
    details[name] = value;
  }
  const sub = idOf(fields.sub);
  const clientId = idOf(fields.clientId);
  const familyId = idOf(fields.familyId);
  const actor = idOf(fields.actor);
  return {
    time: record.time,
    type: record.event,
    level: record.level,
    ...(sub ? { sub } : {}),
    ...(clientId ? { clientId } : {}),
    ...(familyId ? { familyId } : {}),
    ...(actor ? { actor } : {}),
    requestId: record.requestId,
    details,
  };
}
