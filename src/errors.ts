/**
 * The one error type of the service. Every refusal, from any endpoint, is an
 * OAuthError; `app.onError` turns it into the response the RFCs describe, so
 * no handler formats an error body itself.
 *
 * Descriptions are written by us and must never echo a token, a secret, or
 * any other request value back to the caller.
 */

/** RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1, OIDC Core §3.1.2.6. */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "unsupported_response_type"
  | "unsupported_token_type"
  | "invalid_scope"
  | "access_denied"
  | "server_error"
  | "temporarily_unavailable"
  | "invalid_token"
  | "insufficient_scope"
  | "login_required"
  | "consent_required"
  | "interaction_required"
  | "request_not_supported"
  | "request_uri_not_supported"
  // RFC 9449 §5, §8 (token endpoint) and §7.1, §9 (resources).
  | "invalid_dpop_proof"
  | "use_dpop_nonce"
  // RFC 7591 §3.2.2 (dynamic client registration).
  | "invalid_redirect_uri"
  | "invalid_client_metadata"
  | "invalid_software_statement"
  | "unapproved_software_statement"
  // RFC 8707 §2: "The requested resource is invalid, missing, unknown, or malformed."
  | "invalid_target"
  // RFC 8628 §3.5 (the device authorization grant, at the token endpoint).
  | "authorization_pending"
  | "slow_down"
  | "expired_token"
  // Not an OAuth code, but the same shape keeps every error body uniform.
  | "not_found";

const defaultStatus: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  unsupported_token_type: 400,
  invalid_scope: 400,
  access_denied: 403,
  server_error: 500,
  temporarily_unavailable: 503,
  invalid_token: 401,
  insufficient_scope: 403,
  login_required: 400,
  consent_required: 400,
  interaction_required: 400,
  request_not_supported: 400,
  request_uri_not_supported: 400,
  invalid_dpop_proof: 400,
  use_dpop_nonce: 400,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  invalid_software_statement: 400,
  unapproved_software_statement: 400,
  invalid_target: 400,
  authorization_pending: 400,
  slow_down: 400,
  expired_token: 400,
  not_found: 404,
};

/** Where an authorization error may be sent: a redirect URI already matched against the client's. */
export interface RedirectTarget {
  redirectUri: string;
  state: string | undefined;
  /** How the answer reaches the client (OAuth 2.0 Form Post Response Mode); absent: the query. */
  responseMode?: ResponseMode;
}

/** OAuth 2.0 Multiple Response Type Encoding Practices §2.1 (query) and Form Post Response Mode §2. */
export const RESPONSE_MODES = ["query", "form_post"] as const;
export type ResponseMode = (typeof RESPONSE_MODES)[number];

export interface OAuthErrorOptions {
  status?: number;
  headers?: Record<string, string>;
  /**
   * Browser side only. RFC 6749 §4.1.2.1: once the client and its redirect
   * URI are known to be valid, errors go back to the client there; before
   * that, "the authorization server SHOULD inform the resource owner of the
   * error and MUST NOT automatically redirect the user-agent". An error
   * without a target is never redirected: it is shown on a page.
   */
  redirectTo?: RedirectTarget;
}

/**
 * RFC 6749 §5.2: "Values for the error_description parameter MUST NOT include
 * characters outside the set %x20-21 / %x23-5B / %x5D-7E." Every description
 * is brought into that set here, once, whoever wrote it: the section sign
 * becomes the word, double and typographic quotes become single ones, and
 * anything else outside the set becomes "?".
 */
export function conformDescription(text: string): string {
  return text
    .replace(/\u00A7\s*/g, "section ")
    .replace(/["\u201C\u201D\u2018\u2019]/g, "'")
    .replace(/\u2026/g, "...")
    .replace(/[\u2013\u2014]/g, "-")
    .replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, "?");
}

export class OAuthError extends Error {
  readonly code: OAuthErrorCode;
  readonly description: string;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly redirectTo: RedirectTarget | undefined;

  constructor(code: OAuthErrorCode, description: string, options: OAuthErrorOptions = {}) {
    const conforming = conformDescription(description);
    super(`${code}: ${conforming}`);
    this.name = "OAuthError";
    this.code = code;
    this.description = conforming;
    this.status = options.status ?? defaultStatus[code];
    this.headers = options.headers ?? {};
    this.redirectTo = options.redirectTo;
  }

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.description };
  }
}

/** Shorthands for the errors the handlers raise most; each names the RFC code. */
export const invalidRequest = (description: string, options?: OAuthErrorOptions) =>
  new OAuthError("invalid_request", description, options);
/** RFC 8707 §2: a resource that is unknown, malformed, or not one this request may have. */
export const invalidTarget = (description: string, options?: OAuthErrorOptions) =>
  new OAuthError("invalid_target", description, options);
export const invalidGrant = (description: string) => new OAuthError("invalid_grant", description);
export const invalidScope = (description: string) => new OAuthError("invalid_scope", description);
export const unauthorizedClient = (description: string) =>
  new OAuthError("unauthorized_client", description);
