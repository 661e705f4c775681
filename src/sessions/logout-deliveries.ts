import type { IdTokenAlg } from "../clients/model";
import type { AuditEvent } from "../log";

/**
 * The state of one logout's back-channel deliveries, and its transitions
 * (pure: no storage, no clock of its own). The LogoutDelivery object
 * (./logout-delivery.ts) keeps the list and runs the attempts from its alarm.
 *
 * OIDC Back-Channel Logout 1.0 §2.8: "If the logout succeeded, the RP MUST
 * respond with HTTP 200 OK. However, note that some Web frameworks will
 * substitute a HTTP 204 No Content response ... Consequently, OPs should be
 * prepared to also process an HTTP 204 No Content response as a successful
 * response." Anything else (another status, no answer in time, a redirect,
 * which is never followed) is a failure, retried with exponential back-off:
 * 5 s, doubling, at most 15 minutes apart, RETRY.maxAttempts attempts in all
 * (the last a little over an hour after the first), then given up.
 */

/** One client to be told of one ended session. */
export interface Delivery {
  clientId: string;
  /** The client's backchannel_logout_uri when the session ended. */
  uri: string;
  /** The client's id_token_signed_response_alg. */
  alg: IdTokenAlg;
  /** The logout token's jti: one per delivery, the same on every attempt. */
  jti: string;
  /** Attempts made so far. */
  attempts: number;
  /** Milliseconds: when the next attempt is due. */
  dueAt: number;
}

export const RETRY = {
  maxAttempts: 12,
  firstDelayMs: 5_000,
  maxDelayMs: 15 * 60_000,
} as const;

/** What one POST came to: the HTTP status it was answered with, or why there was none. */
export type AttemptOutcome = { status: number } | { error: "timeout" | "unreachable" };

export const delivered = (outcome: AttemptOutcome): boolean =>
  "status" in outcome && (outcome.status === 200 || outcome.status === 204);

/** The wait after the `attempts`-th failed attempt (1-based): 5 s, 10 s, 20 s, ... at most 15 min. */
export const retryDelayMs = (attempts: number): number =>
  Math.min(RETRY.maxDelayMs, RETRY.firstDelayMs * 2 ** Math.max(0, attempts - 1));

/** The audit event an attempt is recorded as (ids and outcomes only, never the token). */
export interface AttemptRecord {
  event: Extract<
    AuditEvent,
    "logout.delivered" | "logout.delivery_failed" | "logout.delivery_abandoned"
  >;
  level: "info" | "warn";
  fields: Record<string, string | number>;
}

/**
 * The delivery after an attempt (undefined: done, delivered or given up),
 * and the event that records the attempt.
 */
export function afterAttempt(
  delivery: Delivery,
  outcome: AttemptOutcome,
  now: number,
): { next?: Delivery; record: AttemptRecord } {
  const attempt = delivery.attempts + 1;
  const base: Record<string, string | number> = { clientId: delivery.clientId, attempt };
  if ("status" in outcome) base.status = outcome.status;
  else base.error = outcome.error;
  if (delivered(outcome))
    return { record: { event: "logout.delivered", level: "info", fields: base } };
  if (attempt >= RETRY.maxAttempts) {
    return { record: { event: "logout.delivery_abandoned", level: "warn", fields: base } };
  }
  const wait = retryDelayMs(attempt);
  return {
    next: { ...delivery, attempts: attempt, dueAt: now + wait },
    record: {
      event: "logout.delivery_failed",
      level: "warn",
      fields: { ...base, retryInSeconds: Math.round(wait / 1000) },
    },
  };
}

/**
 * The deliveries an alarm at `now` attempts, and the rest: those due, and at
 * least the earliest. The alarm is only ever set for the earliest due time,
 * so when it runs that one is due (an alarm run early, as a test does with
 * runDurableObjectAlarm, is time passing to it).
 */
export function due(deliveries: readonly Delivery[], now: number): [Delivery[], Delivery[]] {
  const at = Math.max(now, nextAlarm(deliveries) ?? now);
  return [deliveries.filter((d) => d.dueAt <= at), deliveries.filter((d) => d.dueAt > at)];
}

/** When the alarm should next run: the earliest due time, or undefined when nothing is left. */
export const nextAlarm = (deliveries: readonly Delivery[]): number | undefined =>
  deliveries.length === 0 ? undefined : Math.min(...deliveries.map((d) => d.dueAt));
