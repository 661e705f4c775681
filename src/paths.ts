/** Paths of every endpoint, relative to the issuer (discovery advertises them under it). */
export const PATHS = {
  authorization: "/authorize",
  token: "/token",
  userinfo: "/userinfo",
  jwks: "/jwks",
  revocation: "/revoke",
  introspection: "/introspect",
  login: "/login",
  consent: "/consent",
} as const;

/** The endpoints at which a client authenticates (RFC 6749 §2.3, RFC 7009 §2.1, RFC 7662 §2.1). */
export type ClientEndpoint = "token" | "revocation" | "introspection";
