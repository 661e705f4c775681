import type { Env } from "../env";

/** A new family's id: a fresh Durable Object id, never used before. */
export const newFamilyId = (env: Env): string => env.TOKEN_FAMILY.newUniqueId().toString();

/** The family's Durable Object, or undefined for an id this namespace never issued. */
export function familyStub(env: Env, familyId: string) {
  try {
    return env.TOKEN_FAMILY.get(env.TOKEN_FAMILY.idFromString(familyId));
  } catch {
    return undefined;
  }
}
