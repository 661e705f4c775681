import { DurableObject } from "cloudflare:workers";

/**
 * The `jti`s of one client's assertions (RFC 7523 §3, item 7), or of the DPoP
 * proofs of one key (RFC 9449 §11.1), each kept until it would be refused
 * anyway, so a captured assertion or proof cannot be replayed within its
 * lifetime. One instance per client, named by client_id, and one per DPoP
 * key, named `dpop:` and its thumbprint (a client_id has no colon); a check-and-record
 * is one synchronous SQL transaction, so two racing uses of one jti cannot
 * both pass.
 */
export class ReplayGuard extends DurableObject<Env> {
  /** The alarm as last set or read here (undefined: not read yet); spares a storage read per use. */
  private alarmAt: number | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS seen (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)",
    );
  }

  /** Records the jti; false when it was already used and has not expired. */
  consume(jti: string, expiresAt: number): boolean {
    const now = Date.now();
    // Too late to be remembered is too late to be accepted: a record would be
    // treated as gone at once, so a replay arriving now would pass too.
    if (expiresAt <= now) return false;
    const sql = this.ctx.storage.sql;
    const fresh = this.ctx.storage.transactionSync(() => {
      const seen = sql
        .exec<{ expires_at: number }>("SELECT expires_at FROM seen WHERE jti = ?", jti)
        .toArray()[0];
      if (seen && seen.expires_at > now) return false;
      sql.exec("INSERT OR REPLACE INTO seen (jti, expires_at) VALUES (?, ?)", jti, expiresAt);
      return true;
    });
    if (fresh) void this.scheduleCleanup(expiresAt);
    return fresh;
  }

  private async scheduleCleanup(at: number): Promise<void> {
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const now = Date.now();
    this.ctx.storage.sql.exec("DELETE FROM seen WHERE expires_at <= ?", now);
    const next = this.ctx.storage.sql
      .exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM seen")
      .toArray()[0]?.next;
    if (next) {
      this.alarmAt = next;
      await this.ctx.storage.setAlarm(next);
    }
  }
}
