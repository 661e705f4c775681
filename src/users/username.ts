import { DurableObject } from "cloudflare:workers";
import { inObjectCall } from "../events/recorder";
import { toHex, utf8 } from "../lib/bytes";
import { audit, type RequestId, securityEvent } from "../log";
import { serverKeys } from "../server-keys";
import type { PasswordCheck } from "./model";

/**
 * One username (named by its normalised form): which account holds it, and
 * the failed-login counter for it. Counting here rather than in the account
 * treats names with and without an account alike, so the lock-out reveals
 * nothing about which names exist.
 *
 * Lock-out: after 5 failures in a row from one address, each further failure
 * locks the name for that address for 30 s, doubling up to 15 min; a success,
 * or an hour without failures, resets the count. Counting per address means a
 * stranger's guesses cannot keep the owner out (they lock only themselves
 * out), while the per-address sign-in rate limit bounds how many guesses any
 * one address makes. Every attempt is counted before its password is checked,
 * so parallel guesses cannot slip through while a hash is being computed.
 */

export const FREE_ATTEMPTS = 5;
const BASE_LOCK_MS = 30_000;
const MAX_LOCK_MS = 15 * 60_000;
export const RESET_AFTER_MS = 60 * 60_000;
/** One failure counter per (name, address key): `attempts:<address key>`. */
const ATTEMPTS = "attempts:";
/** The name's failures from every address together. */
const NAME_ATTEMPTS = "name-attempts";
/** Failures from all addresses together before the name is locked for unknown addresses. */
export const NAME_FREE_ATTEMPTS = 20;
/** Addresses that signed in to the name (`known:<address key>`), kept 90 days, at most 10. */
const KNOWN = "known:";
const KNOWN_FOR_MS = 90 * 86_400_000;
const KNOWN_MAX = 10;

interface Attempts {
  failures: number;
  lastFailureAt: number;
  lockedUntil: number;
}

export type LoginResult = PasswordCheck | { ok: false; reason: "locked"; retryAfter: number };

/** The name-wide lock: like an address's, but after NAME_FREE_ATTEMPTS failures. */
export function nameLockDuration(failures: number): number {
  return lockDuration(failures - (NAME_FREE_ATTEMPTS - FREE_ATTEMPTS));
}

export function lockDuration(failures: number): number {
  if (failures < FREE_ATTEMPTS) return 0;
  return Math.min(BASE_LOCK_MS * 2 ** (failures - FREE_ATTEMPTS), MAX_LOCK_MS);
}

/**
 * The object of a (normalised) username, named by an HMAC of it under a
 * server key: a name typed into the login form (sometimes a password) never
 * becomes an object's name, and objects cannot be matched to names without
 * the key. What is stored for a name with no account is only the lock-out's
 * counter, and it is deleted an hour after the last failure.
 */
export async function usernameObject(env: Env, username: string) {
  const key = (await serverKeys(env)).usernameIndex;
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8(username)));
  return env.USERNAME.getByName(toHex(mac));
}

/**
 * Where a sign-in comes from, as the lock-out counts it: an HMAC of the client
 * address (no address is stored), so failures from one address lock that
 * address out of the name, and the owner elsewhere can still sign in.
 */
export async function addressKey(env: Env, address: string): Promise<string> {
  const key = (await serverKeys(env)).usernameIndex;
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8(`address:${address}`)));
  return toHex(mac.slice(0, 16));
}

export class Username extends DurableObject<Env> {
  owner(): string | undefined {
    return this.ctx.storage.kv.get<string>("sub");
  }

  claim(sub: string): boolean {
    if (this.owner()) return false;
    this.ctx.storage.kv.put("sub", sub);
    return true;
  }

  release(sub: string): void {
    if (this.owner() === sub) this.ctx.storage.kv.delete("sub");
  }

  /**
   * Whom a failed sign-in concerns, for the log: the account's id, never the
   * name as typed (people type passwords into that field).
   */
  private who(): { sub: string } | { account: "none" } {
    const sub = this.owner();
    return sub ? { sub } : { account: "none" };
  }

  /** A sign-in attempt; its lines carry the caller's request id (src/log.ts). */
  login(password: string, from: string, requestId: RequestId): Promise<LoginResult> {
    return inObjectCall(this.ctx, this.env, requestId, () => this.attempt(password, from));
  }

  private async attempt(password: string, from: string): Promise<LoginResult> {
    const kv = this.ctx.storage.kv;
    const key = `${ATTEMPTS}${from}`;
    const now = Date.now();
    const current = (k: string) => {
      const a = kv.get<Attempts>(k);
      return a && now - a.lastFailureAt <= RESET_AFTER_MS ? a : undefined;
    };
    const attempts = current(key);
    const name = current(NAME_ATTEMPTS);
    const known = kv.get<number>(`${KNOWN}${from}`) !== undefined;
    // This address locked out of the name; or the name under attack from many
    // addresses, and this one never signed in to it (the owner's usually have).
    const lockedUntil = Math.max(attempts?.lockedUntil ?? 0, known ? 0 : (name?.lockedUntil ?? 0));
    if (lockedUntil > now) {
      audit("user.login_failed", { reason: "locked", ...this.who() });
      return { ok: false, reason: "locked", retryAfter: Math.ceil((lockedUntil - now) / 1000) };
    }
    const failures = (attempts?.failures ?? 0) + 1;
    const reserved: Attempts = {
      failures,
      lastFailureAt: now,
      lockedUntil: now + lockDuration(failures),
    };
    kv.put(key, reserved);
    const nameFailures = (name?.failures ?? 0) + 1;
    kv.put(NAME_ATTEMPTS, {
      failures: nameFailures,
      lastFailureAt: now,
      lockedUntil: now + nameLockDuration(nameFailures),
    });
    void this.ctx.storage.setAlarm(now + RESET_AFTER_MS + 1000);

    // A name with no account takes the same path as one with: an RPC to a User
    // object (one of 256 decoys that hold nothing) and a full hash there, so
    // that timing tells nothing about which names exist.
    const sub = this.owner();
    const account = sub ?? `decoy-${this.ctx.id.toString().slice(0, 2)}`;
    const checked = await this.env.USER.getByName(account).checkPassword(password);
    const result: PasswordCheck = sub ? checked : { ok: false, reason: "invalid" };
    if (result.ok) {
      kv.delete(key);
      this.forgetOneNameFailure();
      this.remember(from);
    } else {
      audit("user.login_failed", { reason: result.reason, failures, ...this.who() });
      if (reserved.lockedUntil > now) securityEvent("user.locked_out", { failures, ...this.who() });
    }
    return result;
  }

  /** A success gives back the name-wide failure its attempt reserved. */
  private forgetOneNameFailure(): void {
    const name = this.ctx.storage.kv.get<Attempts>(NAME_ATTEMPTS);
    if (!name) return;
    const failures = Math.max(0, name.failures - 1);
    this.ctx.storage.kv.put(NAME_ATTEMPTS, {
      ...name,
      failures,
      lockedUntil: name.lastFailureAt + nameLockDuration(failures),
    });
  }

  /** The address signed in to this name: it is let through a name-wide lock. At most KNOWN_MAX kept. */
  private remember(from: string): void {
    const kv = this.ctx.storage.kv;
    kv.put(`${KNOWN}${from}`, Date.now());
    const known = [...kv.list<number>({ prefix: KNOWN })].sort((a, b) => a[1] - b[1]);
    for (const [key] of known.slice(0, Math.max(0, known.length - KNOWN_MAX))) kv.delete(key);
  }

  override async alarm(): Promise<void> {
    const kv = this.ctx.storage.kv;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const prefix of [ATTEMPTS, NAME_ATTEMPTS]) {
      for (const [key, attempts] of kv.list<Attempts>({ prefix })) {
        if (now - attempts.lastFailureAt > RESET_AFTER_MS) kv.delete(key);
        else next = Math.min(next, attempts.lastFailureAt + RESET_AFTER_MS + 1000);
      }
    }
    for (const [key, at] of kv.list<number>({ prefix: KNOWN })) {
      if (now - at > KNOWN_FOR_MS) kv.delete(key);
      else next = Math.min(next, at + KNOWN_FOR_MS + 1000);
    }
    if (next !== Number.POSITIVE_INFINITY) {
      await this.ctx.storage.setAlarm(next);
      return;
    }
    if (!this.owner()) await this.ctx.storage.deleteAll();
  }
}
