import { logError } from "../log";
import { userDirectory } from "./directory";
import { type UserRecord, type UserView, userView } from "./model";

/**
 * How a User object keeps its row in the user directory in step with itself.
 *
 * Two objects cannot be written in one transaction, so either write can
 * fail after the other succeeded. The User object is the truth, and the
 * directory must converge to it. The choice here: the User object writes its
 * own row, through an outbox in its own storage.
 *
 *   1. Every save of the account stages the row it implies (`stage`), in the
 *      same storage transaction as the account itself, with a version number
 *      one higher than the last. A save that changes nothing the directory
 *      shows (a password, a session) stages nothing.
 *   2. The row is then sent (`flush`); create, update, block, unblock and
 *      delete wait for it, so the list shows their change as soon as the
 *      call returns (other saves, such as a new password's updated_at, do
 *      not wait).
 *   3. Until the directory has acknowledged the staged version, an alarm is
 *      set: if the send failed, or the object was restarted halfway, the
 *      alarm sends it again, backing off (5 s, doubling, at most 5 minutes
 *      apart), and never gives up (the runtime's own alarm retries would).
 *   4. The directory keeps a row only if its version is newer than the one it
 *      has, so sends that overtake each other cannot put an older state back;
 *      and a deletion leaves a tombstone, so a late send cannot revive it.
 *   5. A deleted account's storage is erased (`erase`) except for the outbox
 *      holding its removal, until the directory has that; then the rest goes
 *      too. So no row outlives its account, and the account is gone at once.
 *
 * The other ways were weaker: the Worker writing both objects leaves a
 * stale row whenever it dies between them, with nothing left to retry; and
 * the directory cannot pull, as it has no way to find the User objects.
 */

/** The outbox's one storage key in the User object. */
const OUTBOX = "directory";
const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 5 * 60_000;

interface Outbox {
  sub: string;
  /** Raised by one with every staged change; the directory keeps the highest it was sent. */
  version: number;
  /** The row to hold, or null: the account is being deleted. */
  entry: UserView | null;
  /** The directory has acknowledged this version. */
  sent: boolean;
  /** Failed sends of this version, for the back-off. */
  failures: number;
}

const retryDelay = (failures: number): number =>
  Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1), MAX_RETRY_MS);

function sameEntry(a: UserView | null, b: UserView | null): boolean {
  if (a === null || b === null) return a === b;
  return (Object.keys(a) as (keyof UserView)[]).every((field) => a[field] === b[field]);
}

export class DirectoryOutbox {
  private inFlight: { version: number; done: Promise<boolean> } | undefined;

  /**
   * `account` reads the User object's record; `env` its current bindings
   * (read on every send, so that a test can swap the directory for one
   * that fails).
   */
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly account: () => UserRecord | undefined,
    private readonly env: () => Env,
  ) {
    // An account stored before the directory existed has no outbox yet: the
    // first time its object wakes (a sign-in, an admin read) it lists itself.
    // A staged row whose send a restart interrupted is sent again now.
    const user = account();
    const outbox = this.read();
    if (user && !outbox) this.stage(user);
    else if (outbox && !outbox.sent) void this.flush();
  }

  private read(): Outbox | undefined {
    return this.storage.kv.get<Outbox>(OUTBOX);
  }

  /** After every save of the account: stages its row if that changed, and starts sending it. */
  stage(user: UserRecord): void {
    this.write(user.sub, userView(user));
  }

  /**
   * The account is deleted: erases the object's storage. Its row's removal
   * is sent first; if the directory does not take it, the outbox (with its
   * alarm) is all that is kept, and it erases itself once the removal is in.
   */
  async erase(): Promise<void> {
    const sub = this.account()?.sub ?? this.read()?.sub;
    if (sub) this.write(sub, null);
    if (await this.flush()) {
      await this.storage.deleteAll();
      return;
    }
    const outbox = this.read();
    await this.storage.deleteAll();
    if (outbox && !outbox.sent) {
      this.storage.kv.put<Outbox>(OUTBOX, outbox);
      await this.retryIn(retryDelay(outbox.failures + 1));
    }
  }

  /** Whether the directory has the latest staged row (nothing left to retry). */
  settled(): boolean {
    return this.read()?.sent ?? true;
  }

  private write(sub: string, entry: UserView | null): void {
    const last = this.read();
    if (last && sameEntry(last.entry, entry)) return;
    const version = (last?.version ?? 0) + 1;
    this.storage.kv.put<Outbox>(OUTBOX, { sub, version, entry, sent: false, failures: 0 });
    void this.flush();
  }

  /**
   * Sends the staged row, if the directory does not have it yet; true once it
   * does. A send of the same version already under way is shared, not
   * repeated. Never throws: a failure leaves the alarm to retry.
   */
  flush(): Promise<boolean> {
    const outbox = this.read();
    if (!outbox || outbox.sent) return Promise.resolve(true);
    if (this.inFlight?.version === outbox.version) return this.inFlight.done;
    const done = this.send(outbox);
    this.inFlight = { version: outbox.version, done };
    return done;
  }

  private async send(outbox: Outbox): Promise<boolean> {
    const current = () => this.read()?.version === outbox.version;
    try {
      // First the alarm, stored with the staged row: should this send fail,
      // or this object die during it, the alarm sends the row again.
      await this.retryIn(retryDelay(outbox.failures + 1));
      const directory = userDirectory(this.env());
      if (outbox.entry) await directory.put(outbox.entry, outbox.version);
      else await directory.remove(outbox.sub);
      const now = this.read();
      if (now && current()) {
        // A removal was the last thing left of a deleted account (see erase).
        if (now.entry === null && !this.account()) await this.storage.deleteAll();
        else this.storage.kv.put<Outbox>(OUTBOX, { ...now, sent: true });
      }
      return true;
    } catch (error) {
      // The alarm set above retries; it will back off further from this count.
      const now = this.read();
      if (now && current()) {
        const failures = now.failures + 1;
        this.storage.kv.put<Outbox>(OUTBOX, { ...now, failures });
        logError("directory_sync_failed", error, { sub: outbox.sub, failures });
      }
      return false;
    } finally {
      if (this.inFlight?.version === outbox.version) this.inFlight = undefined;
    }
  }

  /**
   * Makes sure the alarm runs within `delay`. The alarm is shared with the
   * User object's revocation retries: an earlier one is kept (its run sends
   * the row too), a due or past one (the one running now) is replaced.
   */
  private async retryIn(delay: number): Promise<void> {
    const now = Date.now();
    const at = await this.storage.getAlarm();
    if (at === null || at <= now || at > now + delay) await this.storage.setAlarm(now + delay);
  }
}
