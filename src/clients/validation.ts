import type { JWK } from "jose";
import { LIMITS, type ProviderConfig } from "../config";
import {
  asObject,
  fieldError,
  type JsonObject,
  optionalBoolean,
  optionalEnum,
  optionalInteger,
  optionalString,
  optionalStringArray,
  rejectUnknown,
} from "../lib/json-fields";
import { canonicalDistinguishedName } from "../mtls/distinguished-name";
import { identifierProblem } from "../resources/identifier";
import { parseScope } from "../scope";
import { validateJwks } from "./jwks-validation";
import {
  AUTH_METHODS,
  type AuthMethod,
  type ClientRecord,
  DEVICE_CODE_GRANT,
  GRANT_TYPES,
  type GrantType,
  ID_TOKEN_ALGS,
  type IdTokenAlg,
  type RefreshSettings,
  type RegistrationClaims,
  registrationClaims,
} from "./model";
import { redirectUriProblem } from "./redirect-uris";

/**
 * Turns an admin request body into a client (create) or a changed client
 * (update), refusing unknown fields and impossible combinations with a 400
 * that names the field. The public shape follows RFC 7591 names where one
 * exists (client_name, redirect_uris, grant_types, scope, jwks,
 * token_endpoint_auth_method), and RFC 8705 §2.1.2 and §3.4 names for
 * mutual TLS (tls_client_auth_subject_dn,
 * tls_client_certificate_bound_access_tokens).
 */

const FIELDS = [
  "client_name",
  "client_type",
  "token_endpoint_auth_method",
  "redirect_uris",
  "grant_types",
  "scope",
  "access_token_lifetime",
  "refresh_token",
  "jwks",
  "consent",
  "resource_server",
  "id_token_signed_response_alg",
  "dpop_bound_access_tokens",
  "tls_client_auth_subject_dn",
  "tls_client_certificate_bound_access_tokens",
  "resources",
] as const;

/** The methods whose credential is a JWKS: its keys, or (self-signed mTLS) their certificates. */
const JWKS_METHODS = ["private_key_jwt", "self_signed_tls_client_auth"] as const;
type JwksMethod = (typeof JWKS_METHODS)[number];
const usesJwks = (method: AuthMethod): method is JwksMethod =>
  (JWKS_METHODS as readonly string[]).includes(method);

const REFRESH_FIELDS = [
  "issue",
  "rotation",
  "issue_on_refresh",
  "grace_seconds",
  "absolute_lifetime",
  "idle_lifetime",
  "require_offline_access",
] as const;

const TEN_YEARS = 10 * 365 * 86_400;

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
    created_at: client.created_at,
    updated_at: client.updated_at,
  };
}

/**
 * How a validated client will authenticate: a private_key_jwt client comes
 * with its public keys, a self_signed_tls_client_auth client with its
 * certificates (in its keys' x5c), a tls_client_auth client with the subject
 * its certificate must have; no other method carries either (a secret is
 * made later, by the admin API).
 */
export type DraftAuth =
  | {
      method: Exclude<AuthMethod, JwksMethod | "tls_client_auth">;
      jwks?: never;
      subjectDn?: never;
    }
  | { method: JwksMethod; jwks: { keys: JWK[] }; subjectDn?: never }
  | { method: "tls_client_auth"; subjectDn: string; jwks?: never };

/** A validated client, without its credential material yet. */
export type ClientDraft = DraftAuth & {
  client_name: string;
  redirect_uris: string[];
  grant_types: GrantType[];
  scopes: string[];
  access_token_lifetime?: number;
  refresh_token: RefreshSettings;
  consent: "required" | "implicit";
  resource_server: boolean;
  id_token_signed_response_alg: IdTokenAlg;
  dpop_bound_access_tokens: boolean;
  tls_client_certificate_bound_access_tokens: boolean;
  resources: string[];
};

/** Validates a create body, or an update body over the client it changes. */
export function validateClient(
  body: unknown,
  config: ProviderConfig,
  existing?: ClientRecord,
): ClientDraft {
  const input = asObject(body);
  if ("client_secret" in input) {
    throw fieldError(
      "client_secret",
      "is generated by the server (rotate it with POST /admin/clients/{id}/secret)",
    );
  }
  if ("client_id" in input)
    throw fieldError("client_id", "is assigned by the server and cannot be set");
  rejectUnknown(input, FIELDS);

  const base = existing ? clientView(existing) : undefined;
  const pick = <K extends (typeof FIELDS)[number]>(name: K): unknown =>
    name in input ? input[name] : base?.[name as keyof ClientView];
  const merged: JsonObject = {};
  for (const name of FIELDS) {
    const value = pick(name);
    if (value !== undefined) merged[name] = value;
  }
  // Changing the method on update re-derives the type unless the body sets it too.
  if (existing && "token_endpoint_auth_method" in input && !("client_type" in input))
    delete merged.client_type;
  if (existing && "client_type" in input && !("token_endpoint_auth_method" in input)) {
    delete merged.token_endpoint_auth_method;
  }

  const client_name = optionalString(merged, "client_name");
  if (!client_name) throw fieldError("client_name", "is required");

  const declaredType = optionalEnum(merged, "client_type", ["public", "confidential"] as const);
  const declaredMethod = optionalEnum(merged, "token_endpoint_auth_method", AUTH_METHODS);
  const method: AuthMethod =
    declaredMethod ?? (declaredType === "public" ? "none" : "client_secret_basic");
  const type = declaredType ?? (method === "none" ? "public" : "confidential");
  if (type === "public" && method !== "none") {
    throw fieldError(
      "token_endpoint_auth_method",
      "a public client has no secret or keys; use none",
    );
  }
  if (type === "confidential" && method === "none") {
    throw fieldError(
      "token_endpoint_auth_method",
      "a confidential client must authenticate; none is for public clients",
    );
  }

  const redirect_uris = optionalStringArray(merged, "redirect_uris") ?? [];
  redirect_uris.forEach((uri, i) => {
    const problem = redirectUriProblem(uri);
    if (problem) throw fieldError(`redirect_uris[${i}]`, problem);
  });

  const grantList = optionalStringArray(merged, "grant_types", GRANT_TYPES.length) ?? [
    "authorization_code",
    "refresh_token",
  ];
  for (const g of grantList) {
    if (!GRANT_TYPES.includes(g as GrantType))
      throw fieldError("grant_types", `must contain only ${GRANT_TYPES.join(", ")}`);
  }
  const grant_types = [...new Set(grantList)] as GrantType[];
  if (grant_types.length === 0) throw fieldError("grant_types", "must not be empty");
  if (type === "public" && grant_types.includes("client_credentials")) {
    throw fieldError(
      "grant_types",
      "client_credentials needs a confidential client (RFC 6749 section 4.4)",
    );
  }
  if (
    grant_types.includes("refresh_token") &&
    !grant_types.includes("authorization_code") &&
    !grant_types.includes(DEVICE_CODE_GRANT)
  ) {
    throw fieldError(
      "grant_types",
      `refresh_token needs authorization_code or ${DEVICE_CODE_GRANT}, the grants that issue refresh tokens`,
    );
  }
  if (grant_types.includes("authorization_code") && redirect_uris.length === 0) {
    throw fieldError("redirect_uris", "authorization_code needs at least one redirect URI");
  }

  const scopeText = merged.scope === undefined ? "openid" : merged.scope;
  if (typeof scopeText !== "string") throw fieldError("scope", "must be a space-separated string");
  const scopes = parseScope(scopeText);
  if (!scopes || scopes.length === 0) throw fieldError("scope", "must be one or more scope tokens");
  for (const s of scopes) {
    if (!config.scopes.includes(s))
      throw fieldError(
        "scope",
        `${s} is not a scope this provider supports (see scopes_supported)`,
      );
  }

  const access_token_lifetime = optionalInteger(
    merged,
    "access_token_lifetime",
    60,
    LIMITS.maxAccessTokenLifetime,
  );
  const refresh_token = validateRefresh(merged.refresh_token);
  if (type === "public") publicRefreshRules(refresh_token);

  const auth = validateAuth(input, merged, method);

  const consent = optionalEnum(merged, "consent", ["required", "implicit"] as const) ?? "required";
  const resource_server = optionalBoolean(merged, "resource_server") ?? false;
  // OIDC Dynamic Client Registration §2: RS256 unless the client asks for ES256.
  const id_token_signed_response_alg =
    optionalEnum(merged, "id_token_signed_response_alg", ID_TOKEN_ALGS) ?? "RS256";
  // RFC 9449 §5.2: when true, every token request must carry a DPoP proof.
  const dpop_bound_access_tokens = optionalBoolean(merged, "dpop_bound_access_tokens") ?? false;
  // RFC 8705 §3.4: when true, every token request must present a TLS client certificate.
  const tls_client_certificate_bound_access_tokens =
    optionalBoolean(merged, "tls_client_certificate_bound_access_tokens") ?? false;
  const resources = [...new Set(optionalStringArray(merged, "resources") ?? [])];
  resources.forEach((identifier, i) => {
    const problem = identifierProblem(identifier);
    if (problem) throw fieldError(`resources[${i}]`, problem);
  });
  if (resource_server && type === "public") {
    throw fieldError("resource_server", "a resource server must be a confidential client");
  }

  return {
    ...auth,
    client_name,
    redirect_uris,
    grant_types,
    scopes,
    ...(access_token_lifetime !== undefined ? { access_token_lifetime } : {}),
    refresh_token,
    consent,
    resource_server,
    id_token_signed_response_alg,
    dpop_bound_access_tokens,
    tls_client_certificate_bound_access_tokens,
    resources,
  };
}

/**
 * The credential material the method needs, and none it does not: keys for
 * private_key_jwt, certificates for self_signed_tls_client_auth (RFC 8705
 * §2.2.2), a subject DN for tls_client_auth (§2.1.2). What an update keeps
 * from the stored client and the new method does not use is dropped; what
 * the body itself sends and the method does not use is an error.
 */
function validateAuth(input: JsonObject, merged: JsonObject, method: AuthMethod): DraftAuth {
  const jwksValue = merged.jwks ?? undefined;
  if (usesJwks(method)) {
    if (jwksValue === undefined) {
      throw fieldError(
        "jwks",
        method === "private_key_jwt"
          ? "private_key_jwt needs the client's public keys"
          : "self_signed_tls_client_auth needs the client's certificates (each key's x5c)",
      );
    }
    const certificates = method === "self_signed_tls_client_auth";
    return { method, jwks: validateJwks(jwksValue, { certificates }) };
  }
  if (jwksValue !== undefined && "jwks" in input) {
    throw fieldError("jwks", "is used only with private_key_jwt and self_signed_tls_client_auth");
  }
  const subjectDn = optionalString(merged, "tls_client_auth_subject_dn", 1024);
  if (method === "tls_client_auth") {
    // RFC 8705 §2.1.2: "A client using the tls_client_auth authentication
    // method MUST use exactly one of the below metadata parameters"; of them,
    // the subject DN is the one Cloudflare reports.
    if (subjectDn === undefined)
      throw fieldError(
        "tls_client_auth_subject_dn",
        "tls_client_auth needs the certificate's subject DN",
      );
    if (canonicalDistinguishedName(subjectDn) === undefined) {
      throw fieldError(
        "tls_client_auth_subject_dn",
        "must be a distinguished name as RFC 4514 writes it, e.g. CN=client.example.com,O=Example,C=DE",
      );
    }
    return { method, subjectDn };
  }
  if (subjectDn !== undefined && "tls_client_auth_subject_dn" in input) {
    throw fieldError("tls_client_auth_subject_dn", "is used only with tls_client_auth");
  }
  return { method };
}

function validateRefresh(value: unknown): RefreshSettings {
  if (value === undefined || value === null) return {};
  const input = asObject(value, "refresh_token");
  const p = "refresh_token.";
  rejectUnknown(input, REFRESH_FIELDS, p);
  const settings: RefreshSettings = {
    issue: optionalBoolean(input, "issue", p),
    rotation: optionalEnum(input, "rotation", ["rotate", "reuse"] as const, p),
    issue_on_refresh: optionalBoolean(input, "issue_on_refresh", p),
    grace_seconds: optionalInteger(input, "grace_seconds", 0, LIMITS.maxGraceSeconds, p),
    absolute_lifetime: optionalInteger(input, "absolute_lifetime", 0, TEN_YEARS, p),
    idle_lifetime: optionalInteger(input, "idle_lifetime", 0, TEN_YEARS, p),
    require_offline_access: optionalBoolean(input, "require_offline_access", p),
  };
  if (settings.issue_on_refresh === false && settings.rotation === "rotate") {
    throw fieldError(
      "refresh_token.issue_on_refresh",
      "false keeps the same refresh token, which contradicts rotation rotate; use rotation reuse",
    );
  }
  return Object.fromEntries(
    Object.entries(settings).filter(([, v]) => v !== undefined),
  ) as RefreshSettings;
}

/**
 * RFC 9700 §4.14.2: a public client's refresh tokens rotate. (Its grace
 * window, off unless set here, applies only to families bound to a DPoP key:
 * src/clients/policy.ts.)
 */
function publicRefreshRules(settings: RefreshSettings): void {
  if (settings.rotation === "reuse" || settings.issue_on_refresh === false) {
    throw fieldError(
      "refresh_token.rotation",
      "a public client's refresh tokens must rotate (RFC 9700 section 4.14.2)",
    );
  }
}
