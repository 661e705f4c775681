import type { JWK } from "jose";
import type { Rotation } from "../config";

/**
 * A registered client, as the registry stores it. The credential is a
 * discriminated union on the authentication method, so a public client with
 * a secret, or a private_key_jwt client without keys, cannot be written down.
 */

export const AUTH_METHODS = [
  "client_secret_basic",
  "client_secret_post",
  "client_secret_jwt",
  "private_key_jwt",
  // RFC 8705 §2.1.1 and §2.2.1: mutual TLS, with a CA-issued or a self-signed certificate.
  "tls_client_auth",
  "self_signed_tls_client_auth",
  "none",
] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** RFC 8628 §3.4: the grant_type of a device's token request. */
export const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

export const GRANT_TYPES = [
  "authorization_code",
  "refresh_token",
  "client_credentials",
  DEVICE_CODE_GRANT,
] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export type ClientCredential =
  | { method: "none" }
  | { method: "client_secret_basic" | "client_secret_post"; secretHash: string }
  /** The secret itself is needed to check the HMAC, so it is sealed, not hashed. */
  | { method: "client_secret_jwt"; sealedSecret: string }
  | { method: "private_key_jwt"; jwks: { keys: JWK[] } }
  /** RFC 8705 §2.1: a certificate that chains to a CA the zone trusts, with this subject (RFC 4514). */
  | { method: "tls_client_auth"; subjectDn: string }
  /**
   * RFC 8705 §2.2: one of the certificates in `jwks` (each key's `x5c`),
   * chain unchecked. `thumbprints` are their `x5t#S256`, computed once at
   * registration: the Worker learns a presented certificate only by its
   * SHA-256, so that is what it compares.
   */
  | { method: "self_signed_tls_client_auth"; jwks: { keys: JWK[] }; thumbprints: string[] };

/** The client's own refresh settings; what it leaves out comes from the provider defaults. */
export interface RefreshSettings {
  issue?: boolean;
  rotation?: Rotation;
  /** ForgeRock's "issue refresh tokens on refreshing": false returns no token on refresh. */
  issue_on_refresh?: boolean;
  grace_seconds?: number;
  absolute_lifetime?: number;
  idle_lifetime?: number;
  require_offline_access?: boolean;
}

/** How a client's ID tokens are signed (OIDC Core §15.1: RS256 must be supported). */
export const ID_TOKEN_ALGS = ["RS256", "ES256"] as const;
export type IdTokenAlg = (typeof ID_TOKEN_ALGS)[number];

/**
 * What a client that registered itself (RFC 7591 §2) said about itself
 * beyond what the admin API knows, and which policy let it in. These are
 * shown back (RFC 7591 §3.2.1), never trusted: a page may show them only as
 * the client's own claims.
 */
export interface SelfRegistration {
  /**
   * The REGISTRATION mode it registered under, or "metadata_document": a
   * client whose client_id is the URL of a document describing it
   * (src/clients/metadata-document.ts), never stored in the registry.
   */
  via: "open" | "token" | "metadata_document";
  client_uri?: string;
  logo_uri?: string;
  tos_uri?: string;
  policy_uri?: string;
  contacts?: string[];
  software_id?: string;
  software_version?: string;
  /**
   * RFC 7592 §3: the SHA-256 (base64url) of the client's registration access
   * token, which authenticates it at its client configuration endpoint
   * (/register/<client_id>). Never the token: it is shown once, in the
   * registration response. Only a client that came through /register has
   * one (absent in records made before RFC 7592 was served): an
   * administrator's client, or a metadata-document client, cannot manage
   * itself.
   */
  accessTokenHash?: string;
}

/** What a self-registered client said about itself and how it came in: all of it but the token's hash. */
export type RegistrationClaims = Omit<SelfRegistration, "accessTokenHash">;

/** The registration as it may be shown (admin API, RFC 7591/7592 responses): never the token's hash. */
export function registrationClaims(registration: SelfRegistration): RegistrationClaims {
  const { accessTokenHash: _hash, ...claims } = registration;
  return claims;
}

/**
 * Which grants end with the login session they were made in: those made
 * without offline_access (the default, OIDC Core §11), every one, or none.
 */
export const GRANTS_END_WITH_SESSION = ["unless_offline", "always", "never"] as const;
export type GrantsEndWithSession = (typeof GRANTS_END_WITH_SESSION)[number];

export interface ClientRecord {
  client_id: string;
  client_name: string;
  credential: ClientCredential;
  redirect_uris: string[];
  grant_types: GrantType[];
  scopes: string[];
  access_token_lifetime?: number;
  refresh_token: RefreshSettings;
  /** "implicit": first-party clients whose users are not asked. */
  consent: "required" | "implicit";
  /** A resource server may introspect any client's tokens (RFC 7662 §4). */
  resource_server: boolean;
  /** Absent in records made before it existed, whose ID tokens were ES256: they stay so. */
  id_token_signed_response_alg?: IdTokenAlg;
  /** RFC 9449 §5.2: every token request must carry a DPoP proof. Absent in older records: false. */
  dpop_bound_access_tokens?: boolean;
  /**
   * RFC 8705 §3.4: the client means to use certificate-bound access tokens;
   * here, a token request without a TLS client certificate is refused.
   * Absent in older records: false.
   */
  tls_client_certificate_bound_access_tokens?: boolean;
  /**
   * Present only on a client that registered itself (RFC 7591): how, and
   * what it said about itself. Absent: an administrator created it.
   */
  registration?: SelfRegistration;
  /**
   * RFC 8707: the registered resources this client may ask tokens for with
   * client_credentials, where no user consents (the code flow allows any
   * registered resource the user allows). Absent or empty: none, only the
   * default audience.
   */
  resources?: string[];
  /** OIDC RP-Initiated Logout 1.0 §3.1: exact URIs the client may be sent back to after logout. */
  post_logout_redirect_uris?: string[];
  /** Absent: "unless_offline". */
  grants_end_with_session?: GrantsEndWithSession;
  /** OIDC Back-Channel Logout 1.0 §2.2: where logout tokens are POSTed. */
  backchannel_logout_uri?: string;
  /** §2.2: the client needs `sid` in logout tokens (they always carry it). Absent: false. */
  backchannel_logout_session_required?: boolean;
  created_at: number;
  updated_at: number;
}

/** The KV key of a client's record (the registry, ./registry.ts, and the expiry sweep, ./expiry.ts). */
export const clientKey = (clientId: string): string => `client:${clientId}`;

export const allowsGrant = (client: ClientRecord, grant: GrantType): boolean =>
  client.grant_types.includes(grant);
