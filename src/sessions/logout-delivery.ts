import { DurableObject } from "cloudflare:workers";
import { providerConfig } from "../config";
import { inObjectCall } from "../events/recorder";
import { randomBytes, toBase64Url } from "../lib/bytes";
import { nowSeconds } from "../lib/time";
import { alarmRequestId, audit, logError, type RequestId, withRequestId } from "../log";
import { issueLogoutToken } from "../tokens/logout-token";
import {
  type AttemptOutcome,
  afterAttempt,
  type Delivery,
  due,
  nextAlarm,
  RETRY,
} from "./logout-deliveries";
import { postLogoutToken } from "./logout-post";

/**
 * The back-channel deliveries of one ended login session (OIDC Back-Channel
 * Logout 1.0): one object per session, named by its user and sid, so that
 * announcing the same logout twice schedules it once. `schedule` only
 * stores the deliveries and sets the alarm: whoever ended the session (the
 * /logout request) has its answer without waiting for any client. The
 * alarm makes the attempts, records each in the security events, and
 * retries the failed ones with back-off (./logout-deliveries.ts) until each
 * is delivered or given up; then the object forgets everything.
 *
 * A logout token is signed for each attempt, never stored: a retry an hour
 * later still sends one that is fresh (§4 advises short-lived tokens), and
 * the jti stays the one of its delivery.
 */

/** What ended, and who is to be told. */
export interface LogoutNotice {
  /** The issuer the session's ID tokens named (the alarm has no request to take it from). */
  issuer: string;
  sub: string;
  sid: string;
  /** Why the session ended: logout, password_changed, user_blocked, user_deleted. */
  reason: string;
  deliveries: { clientId: string; uri: string; alg: Delivery["alg"] }[];
}

type StoredNotice = Omit<LogoutNotice, "deliveries">;

const NOTICE = "notice";
const DELIVERIES = "deliveries";

/** The object of a session's logout. */
export const logoutDeliveryObject = (env: Env, sub: string, sid: string) =>
  env.LOGOUT_DELIVERY.getByName(`${sub} ${sid}`);

export class LogoutDelivery extends DurableObject<Env> {
  /** Stores the deliveries and wakes the alarm at once; false if this logout was scheduled before. */
  schedule(notice: LogoutNotice, requestId: RequestId): Promise<boolean> {
    return withRequestId(requestId, async () => {
      const kv = this.ctx.storage.kv;
      if (kv.get(NOTICE) !== undefined || notice.deliveries.length === 0) return false;
      const now = Date.now();
      const { deliveries, ...rest } = notice;
      kv.put(NOTICE, rest satisfies StoredNotice);
      kv.put(
        DELIVERIES,
        deliveries.map(
          (d): Delivery => ({ ...d, jti: toBase64Url(randomBytes(16)), attempts: 0, dueAt: now }),
        ),
      );
      await this.ctx.storage.setAlarm(now);
      return true;
    });
  }

  /** The deliveries still to be made (what an operator or a test asks). */
  pending(): Delivery[] {
    return this.ctx.storage.kv.get<Delivery[]>(DELIVERIES) ?? [];
  }

  override async alarm(): Promise<void> {
    await inObjectCall(
      this.ctx,
      this.env,
      alarmRequestId("LogoutDelivery", this.ctx.id),
      async () => {
        const notice = this.ctx.storage.kv.get<StoredNotice>(NOTICE);
        if (!notice) return;
        const now = Date.now();
        const [ready, later] = due(this.pending(), now);
        const results = await Promise.all(ready.map((d) => this.attempt(notice, d)));
        const after = Date.now();
        const next: Delivery[] = [...later];
        ready.forEach((delivery, i) => {
          const outcome = results[i];
          if (!outcome) {
            // No token could be signed (the key ring unreachable): not an attempt; soon again.
            next.push({ ...delivery, dueAt: after + RETRY.firstDelayMs });
            return;
          }
          const { next: again, record } = afterAttempt(delivery, outcome, after);
          audit(
            record.event,
            { sub: notice.sub, sid: notice.sid, reason: notice.reason, ...record.fields },
            record.level,
          );
          if (again) next.push(again);
        });
        const wake = nextAlarm(next);
        if (wake === undefined) {
          await this.ctx.storage.deleteAlarm();
          await this.ctx.storage.deleteAll();
          return;
        }
        this.ctx.storage.kv.put(DELIVERIES, next);
        await this.ctx.storage.setAlarm(wake);
      },
    );
  }

  /** One POST of a freshly signed token; undefined when no token could be signed. */
  private async attempt(
    notice: StoredNotice,
    delivery: Delivery,
  ): Promise<AttemptOutcome | undefined> {
    let token: string;
    try {
      token = await issueLogoutToken(this.env, providerConfig(this.env, notice.issuer), {
        clientId: delivery.clientId,
        sub: notice.sub,
        sid: notice.sid,
        jti: delivery.jti,
        iat: nowSeconds(),
        alg: delivery.alg,
      });
    } catch (error) {
      logError("logout_token_not_signed", error, { clientId: delivery.clientId });
      return undefined;
    }
    return postLogoutToken(this.env, delivery.uri, token);
  }
}
