import type { FamilyState, Grant, TokenRecord } from "./model";

/** What a family tells about one of its tokens, without changing anything (./state.ts changes it). */

export type Inspection =
  | { active: false }
  | { active: true; grant: Grant; createdAt: number; lastUsedAt: number; issuedAt: number };

/**
 * Introspection of a refresh token (RFC 7662): live only if it is the current
 * one of a live family. Expiry depends on the client's policy, which the
 * Worker applies to `createdAt` and `lastUsedAt`.
 */
export function inspect(state: FamilyState | undefined, presented: TokenRecord): Inspection {
  if (state?.status !== "active" || !state.refresh) return { active: false };
  const { current, previous } = state.refresh;
  if (presented.generation !== current.generation || presented.hash !== current.hash)
    return { active: false };
  return {
    active: true,
    grant: state.grant,
    createdAt: state.createdAt,
    lastUsedAt: state.lastUsedAt,
    issuedAt: previous?.rotatedAt ?? state.createdAt,
  };
}
