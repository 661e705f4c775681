import { isolateCacheSettings, LIMITS } from "../config";
import { cachePerBinding } from "../lib/isolate-cache";
import { nowSeconds } from "../lib/time";

/**
 * The KV revocation lists that introspection and userinfo read, so that
 * checking an access token costs no Durable Object call.
 *
 *   family:<family id>  a revoked grant: every access token carrying it (`fid`) is dead
 *   jti:<jti>           one revoked access token
 *
 * Each entry expires when the last access token it could concern expires, so
 * the lists stay bounded. They are a cache of decisions made elsewhere: the
 * family Durable Object stays the authority for refresh tokens.
 *
 * Freshness: KV makes a write visible at once to reads in the same location
 * and within about 60 seconds everywhere else. Each isolate also remembers:
 * - a revocation it made or was told of (POST /revoke, reuse detected on a
 *   refresh or a code): at once, until the tokens concerned expire;
 * - "this token is not revoked", read from KV: for REVOCATION_CACHE_SECONDS
 *   (default 5), so a revocation made elsewhere can take that much longer.
 * See README, "Consistency bounds".
 *
 *   signing-keys:revoked  the kids of revoked signing keys, one entry (see
 *                         src/tokens/keyring.ts for how isolates read it)
 */

/** KV refuses expirations less than 60 s ahead. */
const MIN_TTL = 60;

const familyKey = (familyId: string) => `family:${familyId}`;
const jtiKey = (jti: string) => `jti:${jti}`;

function expiration(untilSeconds: number): number {
  return Math.max(untilSeconds, nowSeconds() + MIN_TTL);
}

/** What this isolate knows: `true` (revoked) or `false` (not, for a few seconds). */
const known = cachePerBinding<boolean>(10_000);

/**
 * This isolate revoked, or was told of the revocation of, a family: its
 * access tokens are inactive here at once. Kept as long as an access token
 * could live; KV carries the revocation to every other isolate.
 */
export function noteFamilyRevoked(env: Env, familyId: string): void {
  known(env.REVOCATIONS).set(
    familyKey(familyId),
    true,
    Date.now() + LIMITS.maxAccessTokenLifetime * 1000,
  );
}

/** A revoked grant as the lists need it (the family's revoked state has these fields). */
export interface FamilyRevocation {
  familyId: string;
  reason: string;
  /** The latest `exp` (ms) of any access token issued from the family. */
  accessTokensUntil: number;
}

export async function publishFamilyRevocation(env: Env, family: FamilyRevocation): Promise<void> {
  const until = Math.ceil(family.accessTokensUntil / 1000);
  if (until <= nowSeconds()) return; // no access token of it is alive
  await env.REVOCATIONS.put(familyKey(family.familyId), JSON.stringify({ reason: family.reason }), {
    expiration: expiration(until),
  });
}

export async function revokeAccessTokenId(env: Env, jti: string, exp: number): Promise<void> {
  if (exp <= nowSeconds()) return;
  await env.REVOCATIONS.put(jtiKey(jti), "revoked", { expiration: expiration(exp) });
  known(env.REVOCATIONS).set(jtiKey(jti), true, exp * 1000);
}

/**
 * Whether an access token is on either list. A KV failure throws: callers
 * fail closed (introspection answers inactive, userinfo refuses), once what
 * this isolate already knew has expired.
 */
export async function isAccessTokenRevoked(
  env: Env,
  token: { jti: string; fid?: string; exp: number },
): Promise<boolean> {
  const cache = known(env.REVOCATIONS);
  if (cache.get(jtiKey(token.jti)) || (token.fid && cache.get(familyKey(token.fid)))) return true;
  // "Not revoked" is about both keys the read looked at.
  const bothKeys = `${jtiKey(token.jti)} ${token.fid ? familyKey(token.fid) : ""}`;
  if (cache.get(bothKeys) === false) return false;
  const revoked = await readRevoked(env, token);
  // A revoked token stays revoked; "not revoked" is kept only briefly.
  const ttl = isolateCacheSettings(env).revocationSeconds * 1000;
  if (revoked) cache.set(jtiKey(token.jti), true, token.exp * 1000);
  else if (ttl > 0) cache.set(bothKeys, false, Math.min(Date.now() + ttl, token.exp * 1000));
  return revoked;
}

async function readRevoked(env: Env, token: { jti: string; fid?: string }): Promise<boolean> {
  if (!token.fid) return (await env.REVOCATIONS.get(jtiKey(token.jti))) !== null;
  // One bulk read for both keys: one KV operation instead of two (the
  // benchmark measured each read as the largest cost of an introspection).
  const found = await env.REVOCATIONS.get([jtiKey(token.jti), familyKey(token.fid)]);
  for (const value of found.values()) if (value !== null) return true;
  return false;
}

const REVOKED_SIGNING_KEYS = "signing-keys:revoked";

/**
 * The signing keys revoked by POST /admin/keys/:kid/revoke, written by the
 * SigningKeys object after each revocation: the whole list in one entry, so
 * that an isolate learns of every revocation with one read.
 */
export async function publishRevokedSigningKeys(env: Env, kids: readonly string[]): Promise<void> {
  await env.REVOCATIONS.put(REVOKED_SIGNING_KEYS, JSON.stringify({ kids }));
}

/** The kids of revoked signing keys (none if none was ever revoked). A KV failure throws. */
export async function readRevokedSigningKeys(env: Env): Promise<string[]> {
  const value = await env.REVOCATIONS.get<{ kids?: unknown }>(REVOKED_SIGNING_KEYS, "json");
  const kids = Array.isArray(value?.kids) ? value.kids : [];
  return kids.filter((kid): kid is string => typeof kid === "string");
}
