import { type AuditSink, logError, type RequestId, withAuditSink, withRequestId } from "../log";
import { type SecurityEvent, securityEventOf } from "./event";
import { securityEvents } from "./store";

/**
 * How security events reach the store without any call site knowing: the
 * scope of a request (src/log.ts) carries a sink, and `audit()` hands it each
 * event; the sink keeps the ones the store wants (event.ts). Off the hot
 * path: the events of one request (or one Durable Object call) are sent in
 * one RPC when its work is done, through `waitUntil`, never awaited by it; an
 * event written after that goes on its own. A failure to record is logged
 * and goes no further: the request has its answer already, or gets it.
 */

/** Sends one batch to the store. */
export type SendEvents = (events: SecurityEvent[]) => Promise<void>;
/** Keeps the caller alive until a promise settles, without waiting for it. */
export type WaitUntil = (promise: Promise<unknown>) => void;

/** The store, as the recorder writes to it. */
export const storeSender =
  (env: Env): SendEvents =>
  (events) =>
    securityEvents(env).record(events);

/**
 * Runs `work` with its security events recorded by `send`, in the
 * background (`waitUntil`). `work` returns what it returns, and throws what
 * it throws, whatever the recording does.
 */
export function recordSecurityEvents<T>(send: SendEvents, waitUntil: WaitUntil, work: () => T): T {
  const pending: SecurityEvent[] = [];
  let done = false;
  const ship = (events: SecurityEvent[]) => {
    try {
      let sent: Promise<void>;
      try {
        sent = send(events);
      } catch (error) {
        sent = Promise.reject(error);
      }
      waitUntil(
        sent.catch((error: unknown) =>
          logError("security_events_not_recorded", error, { count: events.length }),
        ),
      );
    } catch (error) {
      logError("security_events_not_recorded", error, { count: events.length });
    }
  };
  const sink: AuditSink = (record) => {
    const event = securityEventOf(record);
    if (!event) return;
    if (done) ship([event]);
    else pending.push(event);
  };
  const flush = () => {
    done = true;
    if (pending.length > 0) ship(pending.splice(0));
  };
  let result: T;
  try {
    result = withAuditSink(sink, work);
  } catch (error) {
    flush();
    throw error;
  }
  if (result instanceof Promise) return result.finally(flush) as T;
  flush();
  return result;
}

/**
 * The scope of one Durable Object call (or alarm): its lines carry the
 * caller's request id, and its security events go to the store in one batch
 * when it is done. `ctx.waitUntil` says "not awaited" (an object stays alive
 * for its pending work anyway).
 */
export function inObjectCall<T>(
  ctx: DurableObjectState,
  env: Env,
  requestId: RequestId,
  work: () => T,
): T {
  return withRequestId(requestId, () =>
    recordSecurityEvents(storeSender(env), (promise) => ctx.waitUntil(promise), work),
  );
}
