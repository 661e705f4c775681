import type { JWK } from "jose";
import {
  type AuthMethod,
  type ClientRecord,
  type GrantsEndWithSession,
  type GrantType,
  type IdTokenAlg,
  type RefreshSettings,
  type RegistrationClaims,
  registrationClaims,
} from "./model";

/** The client as the admin API shows it (never a secret or its hash). */
export interface ClientView {
  client_id: string;
  client_name: string;
  client_type: "public" | "confidential";
  token_endpoint_auth_method: AuthMethod;
  redirect_uris: string[];
  grant_types: GrantType[];
  scope: string;
  access_token_lifetime: number | null;
  refresh_token: RefreshSettings;
  jwks?: { keys: JWK[] };
  consent: "required" | "implicit";
  resource_server: boolean;
  id_token_signed_response_alg: IdTokenAlg;
  dpop_bound_access_tokens: boolean;
  tls_client_auth_subject_dn?: string;
  tls_client_certificate_bound_access_tokens: boolean;
  /** RFC 7591: the client registered itself; `registration` says how and what it claimed. */
  self_registered: boolean;
  registration?: RegistrationClaims;
  resources: string[];
  /** OIDC RP-Initiated Logout 1.0 §3.1: where the client may be sent back after logout. */
  post_logout_redirect_uris: string[];
  /** Which of its grants end with the login session they were made in (README, "Sessions and logout"). */
  grants_end_with_session: GrantsEndWithSession;
  /** OIDC Back-Channel Logout 1.0 §2.2: where logout tokens go; null: none are sent. */
  backchannel_logout_uri: string | null;
  backchannel_logout_session_required: boolean;
  created_at: number;
  updated_at: number;
}

export function clientView(client: ClientRecord): ClientView {
  const { credential } = client;
  const method = credential.method;
  return {
    client_id: client.client_id,
    client_name: client.client_name,
    client_type: method === "none" ? "public" : "confidential",
    token_endpoint_auth_method: method,
    redirect_uris: client.redirect_uris,
    grant_types: client.grant_types,
    scope: client.scopes.join(" "),
    access_token_lifetime: client.access_token_lifetime ?? null,
    refresh_token: client.refresh_token,
    ...("jwks" in credential ? { jwks: credential.jwks } : {}),
    ...("subjectDn" in credential ? { tls_client_auth_subject_dn: credential.subjectDn } : {}),
    consent: client.consent,
    resource_server: client.resource_server,
    id_token_signed_response_alg: client.id_token_signed_response_alg ?? "ES256",
    dpop_bound_access_tokens: client.dpop_bound_access_tokens ?? false,
    tls_client_certificate_bound_access_tokens:
      client.tls_client_certificate_bound_access_tokens ?? false,
    self_registered: client.registration !== undefined,
    ...(client.registration ? { registration: registrationClaims(client.registration) } : {}),
    resources: client.resources ?? [],
    post_logout_redirect_uris: client.post_logout_redirect_uris ?? [],
    grants_end_with_session: client.grants_end_with_session ?? "unless_offline",
    backchannel_logout_uri: client.backchannel_logout_uri ?? null,
    backchannel_logout_session_required: client.backchannel_logout_session_required ?? false,
    created_at: client.created_at,
    updated_at: client.updated_at,
  };
}
