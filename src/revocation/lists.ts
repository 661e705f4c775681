import type { Env } from "../env";
import type { RevokedFamily } from "../families/state";
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
 * Freshness: a write is visible at once to reads in the same location, and
 * within about 60 seconds everywhere else (KV propagation). See README,
 * "Revocation freshness".
 */

/** KV refuses expirations less than 60 s ahead. */
const MIN_TTL = 60;

const familyKey = (familyId: string) => `family:${familyId}`;
const jtiKey = (jti: string) => `jti:${jti}`;

function expiration(untilSeconds: number): number {
  return Math.max(untilSeconds, nowSeconds() + MIN_TTL);
}

export async function publishFamilyRevocation(env: Env, family: RevokedFamily): Promise<void> {
  const until = Math.ceil(family.accessTokensUntil / 1000);
  if (until <= nowSeconds()) return; // no access token of it is alive
  await env.REVOCATIONS.put(familyKey(family.familyId), JSON.stringify({ reason: family.reason }), {
    expiration: expiration(until),
  });
}

export async function revokeAccessTokenId(env: Env, jti: string, exp: number): Promise<void> {
  if (exp <= nowSeconds()) return;
  await env.REVOCATIONS.put(jtiKey(jti), "revoked", { expiration: expiration(exp) });
}

/**
 * Whether an access token is on either list. A KV failure throws: callers
 * fail closed (introspection answers inactive, userinfo refuses).
 */
export async function isAccessTokenRevoked(
  env: Env,
  token: { jti: string; fid?: string },
): Promise<boolean> {
  if (!token.fid) return (await env.REVOCATIONS.get(jtiKey(token.jti))) !== null;
  // One bulk read for both keys: one KV operation instead of two (the
  // benchmark measured each read as the largest cost of an introspection).
  const found = await env.REVOCATIONS.get([jtiKey(token.jti), familyKey(token.fid)]);
  for (const value of found.values()) if (value !== null) return true;
  return false;
}
