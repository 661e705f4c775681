import { fromBase64Url, randomBytes, timingSafeEqual, toBase64Url, utf8 } from "../lib/bytes";

/**
 * PBKDF2-SHA-256 through WebCrypto with a per-user salt, at 100,000
 * iterations: the most the Workers runtime allows (workerd refuses more in
 * production, cloudflare/workerd#1346). The count is stored with the hash so
 * it can be raised later without invalidating anyone.
 */
export const PBKDF2_ITERATIONS = 100_000;
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

export interface PasswordHash {
  alg: "pbkdf2-sha256";
  iterations: number;
  salt: string;
  hash: string;
}

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    utf8(password.normalize("NFC")),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  return new Uint8Array(
    await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256),
  );
}

export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(16);
  return {
    alg: "pbkdf2-sha256",
    iterations: PBKDF2_ITERATIONS,
    salt: toBase64Url(salt),
    hash: toBase64Url(await derive(password, salt, PBKDF2_ITERATIONS)),
  };
}

/**
 * Whether `password` is the one `stored` was made from. The work is the same
 * whatever the input: one PBKDF2 derivation at the full count, also for a
 * password over the length limit or a stored hash that cannot be read, so
 * timing tells nothing about either.
 */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const salt = fromBase64Url(stored.salt);
  const expected = fromBase64Url(stored.hash);
  // A stored count above today's is refused (and costs today's); a lower one
  // is an older hash, checked at its own count until the password is set again.
  const countOk =
    Number.isInteger(stored.iterations) &&
    stored.iterations >= 1 &&
    stored.iterations <= PBKDF2_ITERATIONS;
  const usable =
    salt !== undefined &&
    expected !== undefined &&
    countOk &&
    password.length <= PASSWORD_MAX_LENGTH;
  const derived = await derive(
    password.slice(0, PASSWORD_MAX_LENGTH),
    salt ?? new Uint8Array(16),
    countOk ? stored.iterations : PBKDF2_ITERATIONS,
  );
  return usable && expected !== undefined && timingSafeEqual(derived, expected);
}

/** Spends the same work as a real check, so an unknown username takes as long as a wrong password. */
export async function burnPasswordCheck(password: string): Promise<void> {
  await derive(password.slice(0, PASSWORD_MAX_LENGTH), new Uint8Array(16), PBKDF2_ITERATIONS);
}

export function passwordProblem(password: unknown): string | undefined {
  if (typeof password !== "string") return "must be a string";
  if (password.length < PASSWORD_MIN_LENGTH)
    return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (password.length > PASSWORD_MAX_LENGTH)
    return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  return undefined;
}
