import type { PasswordCheck, UserRecord } from "./model";
import { burnPasswordCheck, hashPassword, PBKDF2_ITERATIONS, verifyPassword } from "./passwords";

/**
 * A sign-in's password check inside the account's User object (`read` and
 * `save` are its record's): the same work for no account as for a wrong
 * password, the blocked state told only to someone who knows the password,
 * and a hash made at an older, lower count renewed now that the password is
 * known, so that every account costs the same.
 */
export async function checkAccountPassword(
  read: () => UserRecord | undefined,
  save: (user: UserRecord) => void,
  password: string,
): Promise<PasswordCheck> {
  const user = read();
  if (!user) {
    await burnPasswordCheck(password); // the same work as a wrong password
    return { ok: false, reason: "invalid" };
  }
  if (!(await verifyPassword(password, user.password))) return { ok: false, reason: "invalid" };
  // Re-read: the account may have changed while the hash was computed.
  const now = read();
  if (!now) return { ok: false, reason: "invalid" };
  // Only someone who knows the password learns that the account is blocked.
  if (now.blocked) return { ok: false, reason: "blocked" };
  if (now.password.iterations < PBKDF2_ITERATIONS) {
    const renewed = await hashPassword(password);
    const latest = read();
    if (latest && latest.password.hash === now.password.hash)
      save({ ...latest, password: renewed });
  }
  return { ok: true, sub: now.sub, sessionVersion: now.session_version };
}
