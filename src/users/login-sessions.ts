import { randomBytes, toBase64Url } from "../lib/bytes";

/**
 * A user's login sessions, kept in the user's own Durable Object (so ending
 * one, or all, is exact at once, and the account page can list them). A
 * session has an id, `sid` (OpenID Connect Back-Channel Logout 1.0 §2.4 and
 * RP-Initiated Logout: the ID tokens of the session carry it), the time the
 * user signed in (`auth_time`), when it ends, and the clients it has been
 * used for (who is told at logout).
 *
 * The browser holds a signed cookie naming the sid (src/sessions/); it is a
 * session only while this record stands: signing out, or a password change,
 * a block, a deletion, ends it here whatever the cookie says.
 */

export interface SessionRecord {
  sid: string;
  /** Milliseconds. */
  createdAt: number;
  /** When the user entered their password (OIDC auth_time), seconds. */
  authTime: number;
  /** Milliseconds: the session's end, whatever happens to its cookie. */
  expiresAt: number;
  /** The clients this session authorized, in the order first used. */
  clients: string[];
}

/** What a caller shows for the session it acts in: the cookie's sid and the account's session version. */
export interface SessionRef {
  sid: string;
  version: number;
}

const PREFIX = "session:";
const key = (sid: string) => `${PREFIX}${sid}`;
/** More sessions than anyone keeps: the oldest go first beyond it. */
const MAX_SESSIONS = 50;

export class SessionBook {
  constructor(private readonly kv: SyncKvStorage) {}

  /** A new session; `dropped`: the oldest ones beyond MAX_SESSIONS, ended to make room. */
  open(
    authTime: number,
    expiresAt: number,
    now: number,
  ): { record: SessionRecord; dropped: string[] } {
    const record: SessionRecord = {
      // 128 bits: an identifier, not a credential (the cookie is signed).
      sid: toBase64Url(randomBytes(16)),
      createdAt: now,
      authTime,
      expiresAt,
      clients: [],
    };
    this.kv.put(key(record.sid), record);
    const all = this.all(now).sort((a, b) => a.createdAt - b.createdAt);
    const dropped = all.slice(0, Math.max(0, all.length - MAX_SESSIONS)).map((old) => old.sid);
    for (const sid of dropped) this.kv.delete(key(sid));
    return { record, dropped };
  }

  /** The session, if it still stands; an expired one is forgotten here. */
  alive(sid: string, now: number): SessionRecord | undefined {
    const record = this.kv.get<SessionRecord>(key(sid));
    if (!record) return undefined;
    if (record.expiresAt <= now) {
      this.kv.delete(key(sid));
      return undefined;
    }
    return record;
  }

  noteClient(record: SessionRecord, clientId: string): void {
    if (record.clients.includes(clientId)) return;
    this.kv.put(key(record.sid), { ...record, clients: [...record.clients, clientId] });
  }

  /** Ends one session; what it was, if it stood. */
  end(sid: string): SessionRecord | undefined {
    const record = this.kv.get<SessionRecord>(key(sid));
    if (record) this.kv.delete(key(sid));
    return record;
  }

  /** Every standing session, expired ones forgotten. */
  all(now: number): SessionRecord[] {
    const out: SessionRecord[] = [];
    for (const [k, record] of this.kv.list<SessionRecord>({ prefix: PREFIX })) {
      if (record.expiresAt <= now) this.kv.delete(k);
      else out.push(record);
    }
    return out;
  }

  endAll(now: number): SessionRecord[] {
    const ended = this.all(now);
    for (const record of ended) this.kv.delete(key(record.sid));
    return ended;
  }
}
