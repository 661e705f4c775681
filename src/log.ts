import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Structured logging. Every line is one JSON object; audit events carry ids
 * only. `redact` is the last line of defence for free text (exception
 * messages) that might contain a request value: anything long and token-like
 * is masked before it is written.
 *
 * Every line also carries `requestId`, the id of the request it was written
 * for (src/http/request-id.ts: Cloudflare's `cf-ray`, or a fresh id), so all
 * the lines of one request, the Durable Objects' included, can be found from
 * the `X-Request-Id` a user quotes.
 */

/**
 * The id of the request being handled, kept in an AsyncLocalStorage rather
 * than passed along: lines are written deep in layers that never see the
 * Hono context (grants, the family gateway, the client registry, the key
 * ring), and threading an id through all of them would change most
 * signatures for a field of the log. Our compatibility date (2026-11-01) has
 * `nodejs_compat` on by default, so workerd provides node:async_hooks itself:
 * no flag to add and nothing bundled. A Durable Object cannot see its
 * caller's request: each of its methods that may log, or call an object that
 * does, takes the caller's id as its last argument (in the same RPC) and logs
 * inside `withRequestId` or passes it on. An alarm, which no request caused,
 * uses `alarmRequestId`.
 */
const requestScope = new AsyncLocalStorage<Scope>();

/**
 * What the scope of a request carries besides its id, for the same reason:
 * an `AuditSink`, which keeps the security events of the request in the
 * queryable store (src/events/recorder.ts installs it: this file, below every
 * layer, cannot know the store), and the `actor` of an admin request.
 */
interface Scope {
  readonly id: RequestId;
  readonly sink?: AuditSink;
  readonly actor?: string;
}

/** A request's id: the `cf-ray` of the request, a fresh id, or an alarm's. */
export type RequestId = string;

/** What a line written outside any request or alarm carries: a bug the request-id tests catch. */
export const NO_REQUEST_ID = "none";

/** Runs `work` (and everything it awaits or starts) as part of request `id`. */
export function withRequestId<T>(id: RequestId, work: () => T): T {
  return requestScope.run({ id }, work);
}

/** The id of the request being handled here, to pass on to a Durable Object. */
export function currentRequestId(): RequestId {
  return requestScope.getStore()?.id ?? NO_REQUEST_ID;
}

/** Runs `work` with every audit event it writes also handed to `sink` (same request id). */
export function withAuditSink<T>(sink: AuditSink, work: () => T): T {
  return requestScope.run({ ...currentScope(), sink }, work);
}

/**
 * Runs `work` on behalf of `actor` (an administrator's name or id): the
 * admin actions it logs name them (`adminAction`).
 */
export function withActor<T>(actor: string, work: () => T): T {
  return requestScope.run({ ...currentScope(), actor }, work);
}

/** Who the current request acts for, if an admin request said so (`withActor`). */
export function currentActor(): string | undefined {
  return requestScope.getStore()?.actor;
}

const currentScope = (): Scope => requestScope.getStore() ?? { id: NO_REQUEST_ID };

/** The id of the lines an alarm writes (no request caused them): `alarm:<class>:<object id>`. */
export function alarmRequestId(className: string, id: DurableObjectId): RequestId {
  return `alarm:${className}:${id.toString()}`;
}

const TOKEN_LIKE = /[A-Za-z0-9_\-.~+/=]{20,}/g;

export function redact(text: string): string {
  return text.replace(TOKEN_LIKE, "[redacted]");
}

/** "at fn (file:line:col)" or "at file:line:col": the code location of a stack frame. */
const FRAME =
  /^(at .*?)(\(?)((?:[A-Za-z][\w+.-]*:\/\/?|\/)?[\w./@-]+\.(?:ts|tsx|js|mjs|cjs):\d+:\d+)(\)?)$/;

/**
 * A stack frame with its code location kept: a file name and line are not a
 * token, and an error log without them cannot be acted on. The rest of the
 * frame (function names, which are ours) is redacted like any text.
 */
function redactFrame(line: string): string {
  const match = FRAME.exec(line);
  if (!match) return redact(line);
  const [, head = "", open = "", location = "", close = ""] = match;
  return `${redact(head)}${open}${location}${close}`;
}

/** Every audit event's name (the `type` of a stored security event, too). */
export const AUDIT_EVENTS = [
  "token.issued",
  "token.refreshed",
  "refresh.reuse_detected",
  "refresh.grace_used",
  "code.reuse_detected",
  "device_code.reuse_detected",
  "device.authorization_started",
  "family.revoked",
  "family.expired",
  "access_token.revoked",
  "user.created",
  "user.updated",
  "user.deleted",
  "user.password_set",
  "user.blocked",
  "user.unblocked",
  "grant.revoked",
  "grants.revoked",
  "signing_key.rotated",
  "signing_key.revoked",
  "admin.auth_failed",
  "user.login_failed",
  "user.locked_out",
  "client.created",
  "client.registered",
  /** RFC 7592: a self-registered client changed or deleted its own registration. */
  "client.registration_updated",
  "client.registration_deleted",
  /** A self-registered client that never obtained a token, deleted by the client directory's alarm. */
  "client.expired",
  "registration.auth_failed",
  "client.auth_failed",
  "client.updated",
  "client.deleted",
  "client.secret_rotated",
  "resource.created",
  "resource.updated",
  "resource.deleted",
  "signing_key.created",
  "session.ended",
  /** The user changed their own password on the account page (an administrator's is user.password_set). */
  "user.password_changed",
  /** The user removed an app's access on the account page. */
  "user.app_removed",
  /** OIDC Back-Channel Logout 1.0: one attempt to deliver a logout token (src/sessions/logout-delivery.ts). */
  "logout.delivered",
  "logout.delivery_failed",
  "logout.delivery_abandoned",
  "administrator.created",
  "administrator.updated",
  "administrator.password_set",
  "administrator.deleted",
  "administrator.signed_in",
  "administrator.login_failed",
  "administrator.locked_out",
] as const;

export type AuditEvent = (typeof AUDIT_EVENTS)[number];

export type Fields = Record<string, string | number | boolean | undefined | readonly string[]>;

/** An audit event as an `AuditSink` receives it: what its log line says. */
export interface AuditRecord {
  event: AuditEvent;
  level: "info" | "warn";
  /** Milliseconds since the epoch. */
  time: number;
  requestId: RequestId;
  fields: Fields;
}

/**
 * Where the audit events of a scope also go. It must return at once and
 * never throw (the recorder queues the record and writes it off the
 * request's path); `audit` guards against a sink that throws all the same.
 */
export type AuditSink = (record: AuditRecord) => void;

function write(level: "info" | "warn" | "error", record: Record<string, unknown>): void {
  const line = JSON.stringify({
    level,
    time: new Date().toISOString(),
    requestId: currentRequestId(),
    ...record,
  });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** An audit event: what happened to which grant, client or user; never a token. */
export function audit(event: AuditEvent, fields: Fields, level: "info" | "warn" = "info"): void {
  write(level, { type: "audit", event, ...fields });
  const scope = requestScope.getStore();
  if (!scope?.sink) return;
  try {
    scope.sink({ event, level, time: Date.now(), requestId: scope.id, fields });
  } catch (error) {
    // Recording is a copy for queries: the line above is written, the caller goes on.
    logError("audit_sink_failed", error, { audit: event });
  }
}

/** The actor of an admin action when the request named none (the one ADMIN_TOKEN credential). */
export const DEFAULT_ACTOR = "admin";

/**
 * What an operator did through the admin API, with who did it: the actor the
 * request runs as (`withActor`), else "admin" (the ADMIN_TOKEN credential);
 * the event and ids say what was done to which object.
 */
export function adminAction(event: AuditEvent, fields: Fields): void {
  audit(event, { actor: currentActor() ?? DEFAULT_ACTOR, ...fields });
}

/** A security event is an audit event worth an alert (reuse, lock-out). */
export function securityEvent(event: AuditEvent, fields: Fields): void {
  audit(event, fields, "warn");
}

export function logError(event: string, error: unknown, fields: Fields = {}): void {
  const err = error instanceof Error ? error : new Error(String(error));
  const frames = (err.stack ?? "")
    .split("\n")
    .slice(1, 8)
    .map((line) => redactFrame(line.trim()));
  write("error", {
    type: "error",
    event,
    name: err.name,
    message: redact(err.message),
    frames,
    ...fields,
  });
}
