/**
 * A registered API (a protected resource, RFC 8707): what the access tokens
 * for it say and how they are issued. Its identifier is what clients send as
 * `resource` and what the tokens carry as `aud`.
 */
export interface ResourceRecord {
  /** RFC 8707 §2: an absolute URI without a fragment; here https, or http on a loopback host. */
  identifier: string;
  name: string;
  /** The scopes the API defines (shown and stored; see README, "Resources"). */
  scopes: string[];
  /** Seconds; absent: the client's, else the provider's, access-token lifetime. */
  access_token_lifetime?: number;
  /** Tokens for it must be bound to a DPoP key (RFC 9449) or a TLS client certificate (RFC 8705). */
  require_sender_constrained: boolean;
  created_at: number;
  updated_at: number;
}
