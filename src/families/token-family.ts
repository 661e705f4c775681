import { DurableObject } from "cloudflare:workers";
import { clientDirectory } from "../clients/directory";
import { inObjectCall } from "../events/recorder";
import { alarmRequestId, audit, logError, type RequestId, securityEvent } from "../log";
import { publishFamilyRevocation } from "../revocation/lists";
import {
  type AnswerDeviceInput,
  answerDevice,
  type CreateDeviceInput,
  createDevice,
  type DeviceRequestView,
  deviceRequestOf,
  type PollDeviceInput,
  type PollDeviceResult,
  pollDevice,
} from "./device";
import { type GrantNote, grantNote } from "./grant-note";
import { type Inspection, inspect } from "./inspection";
import type { FamilyState, RevocationReason, RevokedFamily, TokenRecord } from "./model";
import type { ProofClaim } from "./proof-records";
import { cleanupAt, type RevokeWithTokenInput, revokeFamily, revokeWithToken } from "./revocation";
import {
  type CreatePendingInput,
  createPending,
  type RedeemInput,
  type RedeemResult,
  type RefreshInput,
  type RefreshResult,
  redeem,
  refresh,
  type Step,
  spendProof,
} from "./state";

const KEY = "family";
/** Set once a revocation is in the KV list, so the alarm does not write it again. */
const PUBLISHED = "revocation-published";
/** A change of the family's live-grant status the client directory has not acknowledged (grant-note.ts). */
const GRANT_NOTE = "grant-note";
/** Failed KV publications so far, for the back-off. */
const PUBLISH_ATTEMPTS = "revocation-publish-attempts";
/** A failed KV publication is retried this soon by the alarm, then ever later, up to the cap. */
const PUBLISH_RETRY_MS = 5_000;
const PUBLISH_RETRY_CAP_MS = 5 * 60_000;

/** The wait before retry `attempt` (1, 2, …): 5 s, 10 s, 20 s, … at most 5 minutes. */
const publishBackoff = (attempt: number): number =>
  Math.min(PUBLISH_RETRY_CAP_MS, PUBLISH_RETRY_MS * 2 ** Math.min(attempt - 1, 16));

export interface FamilySummary {
  familyId: string;
  status: FamilyState["status"];
  clientId: string;
  scope: readonly string[];
  createdAt: number;
  lastUsedAt?: number;
  expiresAt?: number;
  refreshToken: boolean;
}

/**
 * One grant: its authorization code, its chain of refresh tokens, its
 * revocation. The only place where a grant's state changes.
 *
 * Every operation reads and writes state inside one `transactionSync` with no
 * `await` in between, so the Durable Object's one-event-at-a-time execution
 * is the whole concurrency story: two racing refreshes are simply two
 * transitions in some order. If anything throws halfway, the transaction
 * rolls back and the state is as it was.
 */
export class TokenFamily extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // A note a crash or a failure left unsent goes out on the next wake.
    if (ctx.storage.kv.get(GRANT_NOTE)) ctx.waitUntil(this.sendGrantNote());
  }

  private apply<R>(transition: (state: FamilyState | undefined, now: number) => Step<R>): Step<R> {
    const now = Date.now();
    const storage = this.ctx.storage;
    let before: FamilyState | undefined;
    let note: GrantNote | undefined;
    const step = storage.transactionSync(() => {
      before = storage.kv.get<FamilyState>(KEY);
      const step = transition(before, now);
      if (step.state !== before) {
        if (step.state) storage.kv.put(KEY, step.state);
        else storage.kv.delete(KEY);
        note = grantNote(before, step.state);
        if (note) storage.kv.put(GRANT_NOTE, note);
      }
      return step;
    });
    if (step.state && step.state.status !== before?.status) {
      void storage.setAlarm(step.revoked ? now + PUBLISH_RETRY_MS : cleanupAt(step.state));
    }
    // Off the answer's path: the token response does not wait for the directory.
    if (note) this.ctx.waitUntil(this.sendGrantNote().then((sent) => this.retryGrantNote(sent)));
    return step;
  }

  createPending(input: Omit<CreatePendingInput, "familyId">): boolean {
    const familyId = this.ctx.id.toString();
    return this.apply((s, now) => createPending(s, { ...input, familyId }, now)).result.ok;
  }

  // The methods that may log take the caller's request id last (src/log.ts):
  // it travels in the one call, and every line they write carries it.

  redeem(input: RedeemInput, requestId: RequestId): Promise<RedeemResult> {
    return inObjectCall(this.ctx, this.env, requestId, async () => {
      const step = this.apply((s, now) => redeem(s, input, now));
      if (step.revoked) await this.revoked(step.revoked);
      return step.result;
    });
  }

  refresh(input: RefreshInput, requestId: RequestId): Promise<RefreshResult> {
    return inObjectCall(this.ctx, this.env, requestId, async () => {
      const step = this.apply((s, now) => refresh(s, input, now));
      if (step.revoked) await this.revoked(step.revoked);
      const { result } = step;
      if (result.ok && result.outcome === "grace") {
        // The previous token came back after its successor was issued: a lost
        // response retried, or a copy in someone else's hands. Either way it is
        // worth an alert, with how long after the rotation it came.
        securityEvent("refresh.grace_used", {
          familyId: this.ctx.id.toString(),
          clientId: result.grant.clientId,
          sub: result.grant.sub,
          sinceRotationMs: result.sinceRotationMs,
        });
      }
      return result;
    });
  }

  /** RFC 9449 §11.1: the DPoP proof of a refused refresh, recorded all the same (./state.ts). */
  spendProof(proof: ProofClaim, jkt: string): boolean {
    return this.apply((s, now) => spendProof(s, proof, jkt, now)).result.ok;
  }

  // ── RFC 8628: the device authorization grant (./device.ts) ──

  createDevice(input: Omit<CreateDeviceInput, "familyId">): boolean {
    const familyId = this.ctx.id.toString();
    return this.apply((s, now) => createDevice(s, { ...input, familyId }, now)).result.ok;
  }

  deviceRequest(): DeviceRequestView | undefined {
    return deviceRequestOf(this.ctx.storage.kv.get<FamilyState>(KEY), Date.now());
  }

  answerDevice(input: AnswerDeviceInput): boolean {
    return this.apply((s, now) => answerDevice(s, input, now)).result.ok;
  }

  pollDevice(input: PollDeviceInput, requestId: RequestId): Promise<PollDeviceResult> {
    return inObjectCall(this.ctx, this.env, requestId, async () => {
      const step = this.apply((s, now) => pollDevice(s, input, now));
      if (step.revoked) await this.revoked(step.revoked);
      return step.result;
    });
  }

  revokeWithToken(input: RevokeWithTokenInput, requestId: RequestId): Promise<boolean> {
    return inObjectCall(this.ctx, this.env, requestId, async () => {
      const step = this.apply((s, now) => revokeWithToken(s, input, now));
      if (step.revoked) await this.revoked(step.revoked);
      return step.result.revoked;
    });
  }

  revoke(reason: RevocationReason, requestId: RequestId): Promise<boolean> {
    return inObjectCall(this.ctx, this.env, requestId, async () => {
      const familyId = this.ctx.id.toString();
      const step = this.apply((s, now) => revokeFamily(s, { familyId, reason }, now));
      if (step.revoked) await this.revoked(step.revoked);
      return step.result.revoked;
    });
  }

  inspect(presented: TokenRecord): Inspection {
    return inspect(this.ctx.storage.kv.get<FamilyState>(KEY), presented);
  }

  summary(): FamilySummary | undefined {
    const state = this.ctx.storage.kv.get<FamilyState>(KEY);
    if (!state || state.status === "tombstone") return undefined; // never a grant
    // A device authorization not redeemed yet is listed too (not as a live
    // grant), so the user's index keeps it until it is redeemed or gone.
    const about = state.status === "device" ? state.device : state.grant;
    return {
      familyId: state.familyId,
      status: state.status,
      clientId: about.clientId,
      scope: about.scope,
      createdAt: state.createdAt,
      ...(state.status === "active"
        ? { lastUsedAt: state.lastUsedAt, expiresAt: state.expiresAt }
        : {}),
      refreshToken: state.status === "active" && state.refresh !== undefined,
    };
  }

  /** Publishes a revocation to the KV list that introspection reads, and logs it. */
  private async revoked(family: RevokedFamily): Promise<void> {
    const fields = {
      familyId: family.familyId,
      clientId: family.grant.clientId,
      sub: family.grant.sub,
      reason: family.reason,
    };
    if (family.reason === "refresh_token_reuse") securityEvent("refresh.reuse_detected", fields);
    if (family.reason === "authorization_code_reuse") securityEvent("code.reuse_detected", fields);
    if (family.reason === "device_code_reuse") securityEvent("device_code.reuse_detected", fields);
    audit("family.revoked", fields);
    await this.publish(family);
  }

  private async publish(family: RevokedFamily): Promise<void> {
    try {
      await publishFamilyRevocation(this.env, family);
      this.ctx.storage.kv.put(PUBLISHED, true);
      // Published: nothing is left to do until the last access token expires.
      // A grant revoked before its code was redeemed never had one (0): clean
      // up now, as setAlarm refuses a time <= 0.
      await this.ctx.storage.setAlarm(Math.max(cleanupAt(family), Date.now()));
    } catch (error) {
      // The alarm set with the revocation retries; the refresh side is already exact.
      logError("revocation_publish_failed", error, { familyId: family.familyId });
    }
  }

  override alarm(): Promise<void> {
    return inObjectCall(
      this.ctx,
      this.env,
      alarmRequestId("TokenFamily", this.ctx.id),
      async () => {
        await this.sendGrantNote();
        await this.onAlarm();
        await this.retryGrantNote();
      },
    );
  }

  /**
   * Sends the stored grant note to the client directory; true once there is
   * none left. Never throws: a failure counts towards the back-off, and the
   * caller sees to the retry.
   */
  private async sendGrantNote(): Promise<boolean> {
    const kv = this.ctx.storage.kv;
    const note = kv.get<GrantNote>(GRANT_NOTE);
    if (!note) return true;
    const same = (now: GrantNote | undefined) => now !== undefined && now.live === note.live;
    try {
      await clientDirectory(this.env).noteGrant(note.familyId, note.clientId, note.live);
      if (same(kv.get<GrantNote>(GRANT_NOTE))) kv.delete(GRANT_NOTE);
      return true;
    } catch (error) {
      const now = kv.get<GrantNote>(GRANT_NOTE);
      if (now && same(now)) kv.put(GRANT_NOTE, { ...now, failures: now.failures + 1 });
      logError("grant_note_failed", error, { familyId: note.familyId });
      return false;
    }
  }

  /** A note still unsent: the alarm runs again within the back-off (an earlier alarm is kept). */
  private async retryGrantNote(sent = false): Promise<void> {
    if (sent) return;
    const note = this.ctx.storage.kv.get<GrantNote>(GRANT_NOTE);
    if (!note) return;
    const at = Date.now() + publishBackoff(Math.max(1, note.failures));
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  private async onAlarm(): Promise<void> {
    const state = this.ctx.storage.kv.get<FamilyState>(KEY);
    if (!state) return;
    const now = Date.now();
    const due = cleanupAt(state);
    if (state.status === "revoked" && due > now && !this.ctx.storage.kv.get(PUBLISHED)) {
      // The retry of a publication that failed when the family was revoked.
      // It must not give up while an access token of the family can live (the
      // runtime's own alarm retries run out): on failure it schedules the next
      // attempt itself, backing off, never later than the tokens' end.
      try {
        await publishFamilyRevocation(this.env, state);
        this.ctx.storage.kv.put(PUBLISHED, true);
        this.ctx.storage.kv.delete(PUBLISH_ATTEMPTS);
      } catch (error) {
        const attempts = (this.ctx.storage.kv.get<number>(PUBLISH_ATTEMPTS) ?? 0) + 1;
        this.ctx.storage.kv.put(PUBLISH_ATTEMPTS, attempts);
        logError("revocation_publish_failed", error, { familyId: state.familyId, attempts });
        await this.ctx.storage.setAlarm(Math.min(due, now + publishBackoff(attempts)));
        return;
      }
    }
    if (due > now) {
      await this.ctx.storage.setAlarm(due);
      return;
    }
    if (state.status === "active") {
      audit("family.expired", {
        familyId: state.familyId,
        clientId: state.grant.clientId,
        sub: state.grant.sub,
      });
    }
    // An expired live grant says so; the note is all its storage keeps until sent.
    const ended = grantNote(state, undefined);
    await this.ctx.storage.deleteAll();
    if (ended) {
      this.ctx.storage.kv.put(GRANT_NOTE, ended);
      await this.sendGrantNote();
    }
    // A user's index drops a tombstone when it next lists it; a device
    // authorization is in one only once approved.
    const grant =
      state.status === "device"
        ? state.decision.kind === "approved"
          ? state.decision.grant
          : undefined
        : state.status !== "tombstone"
          ? state.grant
          : undefined;
    if (!grant) return;
    try {
      await this.env.USER.getByName(grant.sub).forgetFamily(state.familyId);
    } catch (error) {
      // The user's index drops unknown families when it next lists them.
      logError("family_forget_failed", error, { familyId: state.familyId });
    }
  }
}
