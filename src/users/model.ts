import type { PasswordHash } from "./passwords";

/** A user account, as its User Durable Object stores it. */
export interface UserRecord {
  /** OIDC `sub`: random, never reused, never changed. */
  sub: string;
  /** Unique and immutable; the login name. */
  username: string;
  name?: string;
  email?: string;
  email_verified: boolean;
  password: PasswordHash;
  blocked: boolean;
  /** Bumped by a password change, block or delete: login sessions of older versions end. */
  session_version: number;
  created_at: number;
  updated_at: number;
}

/** A password checked by the account's object (a sign-in). */
export type PasswordCheck =
  | { ok: true; sub: string; sessionVersion: number }
  | { ok: false; reason: "invalid" | "blocked" };

/** What the admin API shows (never the password hash). */
export interface UserView {
  id: string;
  username: string;
  name: string | null;
  email: string | null;
  email_verified: boolean;
  blocked: boolean;
  created_at: number;
  updated_at: number;
}

export function userView(user: UserRecord): UserView {
  return {
    id: user.sub,
    username: user.username,
    name: user.name ?? null,
    email: user.email ?? null,
    email_verified: user.email_verified,
    blocked: user.blocked,
    created_at: user.created_at,
    updated_at: user.updated_at,
  };
}

/** Usernames compare case-insensitively, after Unicode normalisation. */
export const normalizeUsername = (username: string): string =>
  username.normalize("NFKC").toLowerCase().trim();

export const USERNAME = /^[\p{L}\p{N}._@+-]{1,64}$/u;

export interface ProfileClaims {
  sub: string;
  name?: string;
  preferred_username?: string;
  updated_at?: number;
  email?: string;
  email_verified?: boolean;
}

/** OIDC Core §5.4: the claims each scope releases. */
export function claimsFor(user: UserRecord, scopes: readonly string[]): ProfileClaims {
  const claims: ProfileClaims = { sub: user.sub };
  if (scopes.includes("profile")) {
    if (user.name) claims.name = user.name;
    claims.preferred_username = user.username;
    claims.updated_at = user.updated_at;
  }
  if (scopes.includes("email") && user.email) {
    claims.email = user.email;
    claims.email_verified = user.email_verified;
  }
  return claims;
}
