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
  /** OIDC RP-Initiated Logout 1.0 §2: end_session_endpoint. */
  endSession: "/logout",
  /** RFC 7591 §3: dynamic client registration (only when REGISTRATION is not off). */
  registration: "/register",
  /** RFC 8628 §3.1: where a device asks for its device code and user code. */
  deviceAuthorization: "/device_authorization",
  /** RFC 8628 §3.2 verification_uri: "should be short and easy to remember". */
  deviceVerification: "/device",
  /** The signed-in user's own page: their apps, sessions and password (src/browser/account.tsx). */
  account: "/account",
} as const;

/** The account page's forms (POST, each back to PATHS.account with a notice). */
export const ACCOUNT_FORMS = {
  removeApp: "/account/apps/remove",
  signOut: "/account/sessions/end",
  password: "/account/password",
} as const;

/** The endpoints at which a client authenticates (RFC 6749 §2.3, RFC 7009 §2.1, RFC 7662 §2.1, RFC 8628 §3.1). */
export type ClientEndpoint = "token" | "revocation" | "introspection" | "deviceAuthorization";

/**
 * RFC 8705 §5 mtls_endpoint_aliases: the endpoints a client doing mutual TLS
 * calls directly, served under MTLS_ENDPOINT_ORIGIN too (by their metadata
 * names). Userinfo is one: a certificate-bound token is used there with its
 * certificate.
 */
export const MTLS_ALIASED = {
  token_endpoint: PATHS.token,
  revocation_endpoint: PATHS.revocation,
  introspection_endpoint: PATHS.introspection,
  userinfo_endpoint: PATHS.userinfo,
} as const;
