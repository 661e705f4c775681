import { DurableObject } from "cloudflare:workers";
import { inObjectCall } from "../events/recorder";
import type { RevocationReason } from "../families/model";
import { alarmRequestId, currentRequestId, type RequestId } from "../log";
import { DirectoryOutbox } from "./directory-outbox";
import { familyOf, fanOut, type GrantView, grantViews, revokeFamilies } from "./family-fan-out";
import { FamilyIndex } from "./family-index";
import { SessionBook, type SessionRecord, type SessionRef } from "./login-sessions";
import {
  claimsFor,
  type PasswordCheck,
  type ProfileClaims,
  type UserRecord,
  type UserView,
  userView,
} from "./model";
import { checkAccountPassword } from "./password-check";
import type { PasswordHash } from "./passwords";
import {
  deletes,
  owedAfterPass,
  type PendingRevocations,
  readPending,
  reasonFor,
  request,
  type UserRevocation,
} from "./pending-revocation";
import * as own from "./self-service";
import { revokeSessionGrants, sessionGrantsOwed } from "./session-grants";
import { usernameObject } from "./username";

/**
 * One user account (named by its `sub`): credentials, blocked state,
 * remembered consents, and the index of the user's grants (token families).
 * A Durable Object's reads are strongly consistent, so a block is in force
 * everywhere the moment `block()` returns: it revokes every family first.
 * The methods that revoke families take the caller's request id last and
 * pass it on to each family (src/log.ts), so the families' lines carry it;
 * so do the methods that send the account's directory row, which may log.
 */

export type AccountCheck =
  | { ok: true; user: UserRecord }
  | { ok: false; reason: "unknown" | "blocked" | "session_ended" };

export interface UserPatch {
  name?: string | null;
  email?: string | null;
  email_verified?: boolean;
}

const USER = "user";
const consentKey = (clientId: string) => `consent:${clientId}`;
/** What the object still owes its families (see ./pending-revocation.ts). */
const PENDING_REVOCATION = "revocation-pending";
const REVOCATION_RETRY_MS = 5_000;

export class User extends DurableObject<Env> {
  /** This account's row in the user directory, kept in step by every save. */
  private readonly directory = new DirectoryOutbox(
    this.ctx.storage,
    () => this.record(),
    () => this.env,
  );

  private readonly families = new FamilyIndex(this.ctx.storage.kv);
  private readonly sessions = new SessionBook(this.ctx.storage.kv);

  private stored(): UserRecord | undefined {
    return this.ctx.storage.kv.get<UserRecord>(USER);
  }

  private pending(): PendingRevocations | undefined {
    return readPending(this.ctx.storage.kv.get(PENDING_REVOCATION));
  }

  /**
   * The account, unless its deletion has been asked for: from then on it is
   * gone for every purpose (sign-in, sessions, the admin API), even while the
   * alarm is still finishing the deletion; nothing can undo or outlive it.
   */
  private record(): UserRecord | undefined {
    const pending = this.pending();
    return pending && deletes(pending) ? undefined : this.stored();
  }

  private save(user: UserRecord): void {
    this.ctx.storage.kv.put(USER, user);
    this.directory.stage(user);
  }

  create(user: UserRecord, requestId: RequestId): Promise<boolean> {
    return inObjectCall(this.ctx, this.env, requestId, async () => {
      if (this.stored()) return false;
      this.save(user);
      await this.directory.flush();
      return true;
    });
  }

  view(): UserView | undefined {
    const user = this.record();
    return user ? userView(user) : undefined;
  }

  update(patch: UserPatch, requestId: RequestId): Promise<UserView | undefined> {
    return inObjectCall(this.ctx, this.env, requestId, () => this.updated(patch));
  }

  private async updated(patch: UserPatch): Promise<UserView | undefined> {
    const user = this.record();
    if (!user) return undefined;
    const next: UserRecord = { ...user, updated_at: Math.floor(Date.now() / 1000) };
    if (patch.name !== undefined) {
      if (patch.name === null) delete next.name;
      else next.name = patch.name;
    }
    if (patch.email !== undefined) {
      if (patch.email === null) delete next.email;
      else next.email = patch.email;
      next.email_verified = false; // a new address is unverified until said otherwise
    }
    if (patch.email_verified !== undefined) next.email_verified = patch.email_verified;
    this.save(next);
    await this.directory.flush();
    return userView(next);
  }

  /**
   * A new password ends every login session (their version no longer
   * matches) and, unless the provider turned it off, every grant: whoever
   * knew the old password may hold the grants made with it. Answers the new session version.
   */
  setPassword(
    password: PasswordHash,
    revokeGrants: boolean,
    requestId: RequestId,
  ): Promise<number | undefined> {
    return inObjectCall(this.ctx, this.env, requestId, async () => {
      const user = this.record();
      if (!user) return undefined;
      const version = user.session_version + 1;
      this.save({
        ...user,
        password,
        session_version: version,
        updated_at: Math.floor(Date.now() / 1000),
      });
      // Every session ends with the old password, and the grants that belong to them.
      const ended = this.sessions.endAll(Date.now()).map((session) => session.sid);
      if (revokeGrants) await this.revokeEverything("password_changed");
      else await this.revokeSessionGrants(ended);
      return version;
    });
  }

  block(requestId: RequestId): Promise<UserView | undefined> {
    return inObjectCall(this.ctx, this.env, requestId, async () => {
      const user = this.record();
      if (!user) return undefined;
      const blocked = { ...user, blocked: true, session_version: user.session_version + 1 };
      this.save(blocked);
      this.sessions.endAll(Date.now()); // their grants go with every other, below
      // The flag is written first: from here on no new family can be registered,
      // so revoking the ones in the index leaves none alive.
      await this.revokeEverything("user_blocked");
      await this.directory.flush();
      return userView(blocked);
    });
  }

  unblock(requestId: RequestId): Promise<UserView | undefined> {
    return inObjectCall(this.ctx, this.env, requestId, async () => {
      const user = this.record();
      if (!user) return undefined;
      const next = { ...user, blocked: false };
      this.save(next);
      await this.directory.flush();
      return userView(next);
    });
  }

  /**
   * Deletes the account once every family is revoked, and frees its name. A
   * deletion that failed halfway is finished by the alarm, or at once by
   * asking again (the account is gone to everything else meanwhile).
   */
  remove(requestId: RequestId): Promise<UserRecord | undefined> {
    return inObjectCall(this.ctx, this.env, requestId, async () => {
      const user = this.stored();
      if (!user) return undefined;
      this.save({ ...user, blocked: true, session_version: user.session_version + 1 });
      await this.revokeEverything("user_deleted");
      return user;
    });
  }

  /** A sign-in's password check (./password-check.ts), the hash renewed if made at an older count. */
  checkPassword(password: string): Promise<PasswordCheck> {
    return checkAccountPassword(
      () => this.record(),
      (user) => this.save(user),
      password,
    );
  }

  /**
   * Whether a login session stands, with the account: the account usable,
   * the session's version current (a password change, block or deletion
   * bumps it) and the session itself not ended (logout) or expired.
   */
  private account(session: SessionRef): AccountCheck {
    const user = this.record();
    if (!user) return { ok: false, reason: "unknown" };
    if (user.blocked) return { ok: false, reason: "blocked" };
    if (user.session_version !== session.version || !this.sessions.alive(session.sid, Date.now()))
      return { ok: false, reason: "session_ended" };
    return { ok: true, user };
  }

  /** A new login session after a sign-in checked against `version`; undefined if that no longer stands. */
  openSession(version: number, authTime: number, expiresAt: number, requestId: RequestId) {
    return inObjectCall(this.ctx, this.env, requestId, async () => {
      const user = this.record();
      if (!user || user.blocked || user.session_version !== version) return undefined;
      const { record, dropped } = this.sessions.open(authTime, expiresAt, Date.now());
      await this.revokeSessionGrants(dropped); // the oldest, ended to make room: their grants too
      return record.sid;
    });
  }

  /** The standing login sessions, newest first (the account page). */
  loginSessions(): SessionRecord[] {
    return this.sessions.all(Date.now()).sort((a, b) => b.createdAt - a.createdAt);
  }

  /**
   * Ends a login session (logout, or the user signing one out): the grants
   * that belong to it are revoked (README, "Sessions and logout"); what it
   * was is returned (its clients are told at logout), undefined if it had
   * already ended.
   */
  endSession(sid: string, requestId: RequestId): Promise<SessionRecord | undefined> {
    return inObjectCall(this.ctx, this.env, requestId, async () => {
      const ended = this.sessions.end(sid);
      if (ended) await this.revokeSessionGrants([sid]);
      return ended;
    });
  }

  // ── the account page (./self-service.ts): only while `session` stands, only this account's own.
  async accountOverview(session: SessionRef): Promise<own.AccountOverview | undefined> {
    const account = this.account(session);
    if (!account.ok) return undefined;
    const { username } = account.user;
    return { username, sessions: this.loginSessions(), grants: await this.grants() };
  }

  /** "Remove access": the app's grants, and the consent remembered for it (it must ask again). */
  removeApp(session: SessionRef, clientId: string, requestId: RequestId) {
    return inObjectCall(this.ctx, this.env, requestId, async () => {
      if (!this.account(session).ok) return undefined;
      this.ctx.storage.kv.delete(consentKey(clientId));
      return own.revokeOwnApp(this.env, this.families, clientId, requestId);
    });
  }

  endSessions(session: SessionRef, which: own.SessionChoice, requestId: RequestId) {
    return inObjectCall(this.ctx, this.env, requestId, async () => {
      if (!this.account(session).ok) return undefined;
      const ended = own.endOwnSessions(this.sessions, session.sid, which);
      if (ended.length > 0) await this.revokeSessionGrants(ended.map((s) => s.sid));
      return ended;
    });
  }

  /** A login session's account, with what the user already allowed this client; the client is noted. */
  beginAuthorization(
    session: SessionRef,
    clientId: string,
  ): { ok: true; username: string; consented: string[] } | { ok: false; reason: string } {
    const account = this.account(session);
    if (!account.ok) return account;
    const record = this.sessions.alive(session.sid, Date.now());
    if (record) this.sessions.noteClient(record, clientId);
    return { ok: true, username: account.user.username, consented: this.consentedScopes(clientId) };
  }

  consentedScopes(clientId: string): string[] {
    return this.ctx.storage.kv.get<string[]>(consentKey(clientId)) ?? [];
  }

  /** Consent is remembered per client as the union of what the user allowed. */
  grantConsent(session: SessionRef, clientId: string, scopes: readonly string[]): boolean {
    if (!this.account(session).ok) return false;
    const merged = [...new Set([...this.consentedScopes(clientId), ...scopes])];
    this.ctx.storage.kv.put(consentKey(clientId), merged);
    return true;
  }

  /**
   * Adds a new grant to the index; refused once the account is blocked or the
   * session ended. The family is already created (pending) when it comes
   * here, so a revocation of every grant either refuses this entry (it runs
   * first) or finds the family and revokes it (see issueAuthorizationCode).
   * `endsWithSession`: the grant belongs to the session and dies with it.
   */
  registerFamily(
    session: SessionRef,
    familyId: string,
    clientId: string,
    endsWithSession: boolean,
  ): boolean {
    if (!this.account(session).ok) return false;
    this.families.add(familyId, {
      clientId,
      createdAt: Date.now(),
      ...(endsWithSession ? { sid: session.sid } : {}),
    });
    return true;
  }

  forgetFamily(familyId: string): void {
    this.families.forget(familyId);
  }

  /** The claims the given scopes release (OIDC Core §5.4), for a usable account. */
  profile(scopes: readonly string[]): ProfileClaims | undefined {
    const user = this.record();
    if (!user || user.blocked) return undefined;
    return claimsFor(user, scopes);
  }

  /** The grants that can still be used: live families, newest first. */
  grants(): Promise<GrantView[]> {
    return grantViews(this.env, this.families, (id) => this.forgetFamily(id));
  }

  async revokeGrant(familyId: string, requestId: RequestId): Promise<boolean> {
    if (!this.families.get(familyId)) return false;
    return familyOf(this.env, familyId).revoke("admin", requestId);
  }

  /** Revokes every family in the index; returns how many were live. */
  async revokeAll(reason: RevocationReason, requestId: RequestId): Promise<number> {
    return (await revokeFamilies(this.env, this.families.ids(), reason, requestId)).length;
  }

  /** Revokes the grants of ended sessions, and any such revocation still owed (./session-grants.ts). */
  private revokeSessionGrants(sids: readonly string[]): Promise<void> {
    return revokeSessionGrants(this.ctx.storage, this.env, this.families, sids);
  }

  /**
   * A password change, block or delete must reach every family even if this
   * call dies halfway (a family unreachable, the object restarted): what it
   * owes is stored first, merged with anything still owed (never written over
   * it), with an alarm that finishes the job, retrying until it is done.
   */
  private async revokeEverything(reason: UserRevocation): Promise<void> {
    const pending = request(this.pending(), reason, Date.now());
    this.ctx.storage.kv.put(PENDING_REVOCATION, pending);
    await this.ctx.storage.setAlarm(Date.now() + REVOCATION_RETRY_MS);
    await this.pass(pending);
  }

  /** Revokes every family `pending` covers, each for the strongest reason owed to it; then finishes. */
  private async pass(pending: PendingRevocations): Promise<void> {
    const owed = this.families.ids().flatMap((id) => {
      const entry = this.families.get(id);
      const reason = reasonFor(pending, entry?.createdAt ?? 0);
      return reason ? [{ id, reason }] : [];
    });
    // Runs inside the caller's (or the alarm's) request scope: the families log under its id.
    const requestId = currentRequestId();
    await fanOut(owed, ({ id, reason }) => familyOf(this.env, id).revoke(reason, requestId));
    // Only what this pass ran is done: a request merged in meanwhile is finished by its own pass or the alarm.
    if (owedAfterPass(this.pending(), pending)) return;
    if (deletes(pending)) {
      const user = this.stored();
      if (user) await (await usernameObject(this.env, user.username)).release(user.sub);
      await this.directory.erase(); // deleteAll, but an unsent directory removal stays to be retried
    } else {
      this.ctx.storage.kv.delete(PENDING_REVOCATION);
      if (this.directory.settled() && !sessionGrantsOwed(this.ctx.storage))
        await this.ctx.storage.deleteAlarm();
    }
  }

  override async alarm(): Promise<void> {
    // No request caused an alarm: its lines carry its own id.
    await inObjectCall(this.ctx, this.env, alarmRequestId("User", this.ctx.id), async () => {
      await this.directory.flush(); // the directory's row, if a send failed
      const pending = this.pending();
      if (pending) await this.pass(pending); // if this throws, the runtime retries the alarm
      await this.revokeSessionGrants([]); // what an ended session still owes
    });
  }
}
