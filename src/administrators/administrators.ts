import { DurableObject } from "cloudflare:workers";
import { inObjectCall } from "../events/recorder";
import { randomToken, sha256, toHex } from "../lib/bytes";
import { nowSeconds } from "../lib/time";
import { audit, type RequestId } from "../log";
import type { PasswordHash } from "../users/passwords";
import { lockDuration, nameLockDuration, RESET_AFTER_MS } from "../users/username";
import type {
  Administrator,
  AdministratorRole,
  AdministratorView,
  ConsoleSession,
  SignInResult,
} from "./model";

/**
 * Every administrator account and console session, in one SQLite-backed
 * Durable Object (`administrators(env)`): a handful of people, so one object
 * serializes every change (the last admin can never be removed or demoted by
 * two racing requests) at no cost to any token request, which never reads it.
 *
 * Sign-in: the same PBKDF2 hashing (users/passwords.ts) and the same lock-out
 * as end users (users/username.ts): every attempt is counted before its
 * password is checked; after 5 failures in a row from one address each
 * further failure locks the name for that address (30 s, doubling to 15 min),
 * and 20 from all addresses together lock it for every address that never
 * signed in to it. An unknown name costs a full hash too.
 *
 * Console sessions: the cookie holds a random id; only its SHA-256 is stored.
 * A session ends after IDLE_SECONDS without use or ABSOLUTE_SECONDS in all,
 * at sign-out, and when its administrator's password, role or account changes.
 */

export const IDLE_SECONDS = 30 * 60;
export const ABSOLUTE_SECONDS = 12 * 3600;
/** A session's last use is written at most this often. */
const TOUCH_SECONDS = 60;
/** Addresses that signed in to a name stay known this long. */
const KNOWN_SECONDS = 90 * 86_400;
const NAME_WIDE = "*";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS administrators (
  username TEXT PRIMARY KEY, role TEXT NOT NULL, password TEXT NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attempts (
  username TEXT NOT NULL, address TEXT NOT NULL, failures INTEGER NOT NULL,
  last_failure_at INTEGER NOT NULL, locked_until INTEGER NOT NULL,
  PRIMARY KEY (username, address)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS known (
  username TEXT NOT NULL, address TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (username, address)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions (
  id_hash TEXT PRIMARY KEY, username TEXT NOT NULL, csrf TEXT NOT NULL,
  created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_by_username ON sessions (username);
`;

interface Row {
  username: string;
  role: AdministratorRole;
  password: string;
  created_at: number;
  updated_at: number;
}

export type AdministratorChange = AdministratorView | "not_found" | "last_admin";

/**
 * A sign-in's first half: locked out, or counted with the stored hash to
 * check (null: no such administrator), how many failures in a row this
 * address now has, and whether this one, if wrong, locks the name.
 */
export type SignInStart =
  | { ok: false; reason: "locked"; retryAfter: number }
  | { ok: true; hash: string | null; failures: number; locks: boolean };

const view = (row: Row): AdministratorView => ({
  username: row.username,
  role: row.role,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

export const administrators = (env: Env) => env.ADMINISTRATORS.getByName("administrators");

export class Administrators extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(SCHEMA);
  }

  private sql<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]) {
    return this.ctx.storage.sql.exec<T>(query, ...bindings).toArray();
  }

  private row(username: string): Row | undefined {
    return this.sql<Row & Record<string, SqlStorageValue>>(
      "SELECT * FROM administrators WHERE username = ?",
      username,
    )[0];
  }

  count(): number {
    return Number(this.sql<{ n: number }>("SELECT count(*) AS n FROM administrators")[0]?.n ?? 0);
  }

  list(): AdministratorView[] {
    return this.sql<Row & Record<string, SqlStorageValue>>(
      "SELECT * FROM administrators ORDER BY username",
    ).map(view);
  }

  /** The first account, and only while there is none (README, "Administrators"). */
  bootstrap(
    username: string,
    password: PasswordHash,
    requestId: RequestId,
  ): AdministratorView | "exists" {
    return inObjectCall(this.ctx, this.env, requestId, () => {
      if (this.count() > 0) return "exists";
      return this.insert(username, "admin", password);
    });
  }

  create(
    username: string,
    role: AdministratorRole,
    password: PasswordHash,
    requestId: RequestId,
  ): AdministratorView | "taken" {
    return inObjectCall(this.ctx, this.env, requestId, () =>
      this.row(username) ? "taken" : this.insert(username, role, password),
    );
  }

  private insert(username: string, role: AdministratorRole, password: PasswordHash) {
    const now = nowSeconds();
    this.sql(
      "INSERT INTO administrators VALUES (?, ?, ?, ?, ?)",
      username,
      role,
      JSON.stringify(password),
      now,
      now,
    );
    return view(this.row(username) as Row);
  }

  /** Whether taking `username`'s admin role away would leave no one who can change anything. */
  private lastAdmin(username: string): boolean {
    const admins = this.sql<{ username: string }>(
      "SELECT username FROM administrators WHERE role = 'admin'",
    );
    return admins.length === 1 && admins[0]?.username === username;
  }

  setRole(username: string, role: AdministratorRole, requestId: RequestId): AdministratorChange {
    return inObjectCall(this.ctx, this.env, requestId, () => {
      const row = this.row(username);
      if (!row) return "not_found";
      if (role !== "admin" && this.lastAdmin(username)) return "last_admin";
      if (row.role !== role) {
        this.sql(
          "UPDATE administrators SET role = ?, updated_at = ? WHERE username = ?",
          role,
          nowSeconds(),
          username,
        );
        this.endSessionsOf(username);
      }
      return view(this.row(username) as Row);
    });
  }

  setPassword(username: string, password: PasswordHash, requestId: RequestId): boolean {
    return inObjectCall(this.ctx, this.env, requestId, () => {
      if (!this.row(username)) return false;
      this.sql(
        "UPDATE administrators SET password = ?, updated_at = ? WHERE username = ?",
        JSON.stringify(password),
        nowSeconds(),
        username,
      );
      this.endSessionsOf(username);
      return true;
    });
  }

  remove(username: string, requestId: RequestId): "removed" | "not_found" | "last_admin" {
    return inObjectCall(this.ctx, this.env, requestId, () => {
      if (!this.row(username)) return "not_found";
      if (this.lastAdmin(username)) return "last_admin";
      this.sql("DELETE FROM administrators WHERE username = ?", username);
      this.sql("DELETE FROM attempts WHERE username = ?", username);
      this.sql("DELETE FROM known WHERE username = ?", username);
      this.endSessionsOf(username);
      return "removed";
    });
  }

  /**
   * The first half of a sign-in from `address` (an HMAC of the client
   * address, never the address): refused while the name is locked for it;
   * else the attempt is counted as a failure before any password is checked
   * (so parallel guesses cannot slip past the count), and the stored hash is
   * handed out for the Worker to check (null: no such administrator, and the
   * Worker spends a full hash all the same). The hashing runs in the Worker,
   * not here: this one object serves every console request, and a flood of
   * sign-ins must not hold it up for seconds of PBKDF2.
   */
  beginSignIn(username: string, address: string): SignInStart {
    const now = Date.now();
    const current = (from: string) =>
      this.sql<{ failures: number; last_failure_at: number; locked_until: number }>(
        "SELECT failures, last_failure_at, locked_until FROM attempts WHERE username = ? AND address = ?",
        username,
        from,
      ).find((a) => now - a.last_failure_at <= RESET_AFTER_MS);
    const mine = current(address);
    const all = current(NAME_WIDE);
    const known =
      this.sql("SELECT 1 FROM known WHERE username = ? AND address = ?", username, address).length >
      0;
    const lockedUntil = Math.max(mine?.locked_until ?? 0, known ? 0 : (all?.locked_until ?? 0));
    if (lockedUntil > now)
      return { ok: false, reason: "locked", retryAfter: Math.ceil((lockedUntil - now) / 1000) };
    const failures = (mine?.failures ?? 0) + 1;
    const nameFailures = (all?.failures ?? 0) + 1;
    this.countFailure(username, address, failures, now, lockDuration(failures));
    this.countFailure(username, NAME_WIDE, nameFailures, now, nameLockDuration(nameFailures));
    void this.ctx.storage.setAlarm(now + RESET_AFTER_MS + 1000);
    return {
      ok: true,
      failures,
      locks: lockDuration(failures) > 0,
      hash: this.row(username)?.password ?? null,
    };
  }

  /**
   * The second half, once the Worker found the password right for `hash`:
   * it counts only if the account still has that very hash (a password
   * changed while the check ran makes the old one useless at once). Then the
   * attempt's failure is taken back, the address is known, and with
   * `openSession` a console session opens: its id is returned once and
   * stored only hashed.
   */
  async completeSignIn(
    username: string,
    address: string,
    hash: string,
    openSession: boolean,
    requestId: RequestId,
  ): Promise<SignInResult & { session?: { id: string; csrf: string } }> {
    return inObjectCall(this.ctx, this.env, requestId, async () => {
      const row = this.row(username);
      if (!row || row.password !== hash) return { ok: false as const, reason: "invalid" as const };
      this.sql("DELETE FROM attempts WHERE username = ? AND address = ?", username, address);
      this.forgetOneNameFailure(username);
      this.sql("INSERT OR REPLACE INTO known VALUES (?, ?, ?)", username, address, Date.now());
      const administrator: Administrator = { username: row.username, role: row.role };
      audit("administrator.signed_in", { administrator: row.username, console: openSession });
      return {
        ok: true as const,
        administrator,
        ...(openSession ? { session: await this.open(username) } : {}),
      };
    });
  }

  /** A success gives back the name-wide failure its attempt reserved; its time stays, so it ages out. */
  private forgetOneNameFailure(username: string): void {
    const all = this.sql<{ failures: number; last_failure_at: number }>(
      "SELECT failures, last_failure_at FROM attempts WHERE username = ? AND address = ?",
      username,
      NAME_WIDE,
    )[0];
    if (!all) return;
    const failures = all.failures - 1;
    if (failures <= 0) {
      this.sql("DELETE FROM attempts WHERE username = ? AND address = ?", username, NAME_WIDE);
      return;
    }
    this.countFailure(
      username,
      NAME_WIDE,
      failures,
      all.last_failure_at,
      nameLockDuration(failures),
    );
  }

  private countFailure(
    username: string,
    address: string,
    failures: number,
    now: number,
    lock: number,
  ) {
    this.sql(
      "INSERT OR REPLACE INTO attempts VALUES (?, ?, ?, ?, ?)",
      username,
      address,
      failures,
      now,
      now + lock,
    );
  }

  private async open(username: string): Promise<{ id: string; csrf: string }> {
    const id = randomToken();
    const csrf = randomToken();
    const now = nowSeconds();
    this.sql(
      "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
      await hashId(id),
      username,
      csrf,
      now,
      now,
    );
    return { id, csrf };
  }

  /** The session of a cookie's id, if it is still alive; its use is noted (idle expiry). */
  async session(id: string): Promise<ConsoleSession | undefined> {
    const idHash = await hashId(id);
    const found = this.sql<{
      username: string;
      csrf: string;
      created_at: number;
      last_seen_at: number;
    }>(
      "SELECT username, csrf, created_at, last_seen_at FROM sessions WHERE id_hash = ?",
      idHash,
    )[0];
    const now = nowSeconds();
    const row = found && this.row(found.username);
    if (
      !found ||
      !row ||
      now - found.last_seen_at > IDLE_SECONDS ||
      now - found.created_at > ABSOLUTE_SECONDS
    ) {
      if (found) this.sql("DELETE FROM sessions WHERE id_hash = ?", idHash);
      return undefined;
    }
    if (now - found.last_seen_at >= TOUCH_SECONDS)
      this.sql("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", now, idHash);
    return { administrator: { username: row.username, role: row.role }, csrf: found.csrf };
  }

  async endSession(id: string): Promise<void> {
    this.sql("DELETE FROM sessions WHERE id_hash = ?", await hashId(id));
  }

  private endSessionsOf(username: string): void {
    this.sql("DELETE FROM sessions WHERE username = ?", username);
  }

  /** Forgets old failures, known addresses and sessions; runs while any is left. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.sql("DELETE FROM attempts WHERE last_failure_at < ?", now - RESET_AFTER_MS);
    this.sql("DELETE FROM known WHERE at < ?", now - KNOWN_SECONDS * 1000);
    const seconds = Math.floor(now / 1000);
    this.sql(
      "DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?",
      seconds - IDLE_SECONDS,
      seconds - ABSOLUTE_SECONDS,
    );
    const left = this.sql<{ n: number }>(
      "SELECT (SELECT count(*) FROM attempts) + (SELECT count(*) FROM sessions) AS n",
    )[0]?.n;
    if (left) await this.ctx.storage.setAlarm(now + RESET_AFTER_MS);
  }
}

const hashId = async (id: string): Promise<string> => toHex(await sha256(id));
