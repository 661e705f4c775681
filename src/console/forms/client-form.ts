import { GRANT_TYPES } from "../../clients/model";
import type { ClientView } from "../../clients/validation";
import {
  boxName,
  checked,
  defined,
  type FormFields,
  group,
  lines,
  optionalJson,
  optionalNumber,
  optionalText,
  text,
  triState,
} from "./fields";

/**
 * The application form → the body POST and PATCH /admin/clients take
 * (createClient, updateClient), and a client → the form's values. The form
 * shows every setting, so an update sends all of them: what the operator
 * cleared is cleared (a lifetime left empty is the provider default again),
 * never silently kept.
 *
 * The refresh-token policy is one object, `refresh_token`; a setting left at
 * "provider default" is omitted from it, so the client inherits the
 * provider's value (src/clients/policy.ts), now and after the defaults change.
 */

export const REFRESH_CONTROLS = [
  "refresh_token.issue",
  "refresh_token.rotation",
  "refresh_token.issue_on_refresh",
  "refresh_token.grace_seconds",
  "refresh_token.absolute_lifetime",
  "refresh_token.idle_lifetime",
  "refresh_token.require_offline_access",
] as const;

/** Every control of the application form, by its JSON path. */
export const CLIENT_CONTROLS = [
  "client_name",
  "token_endpoint_auth_method",
  "redirect_uris",
  "grant_types",
  "scope",
  "access_token_lifetime",
  "consent",
  "id_token_signed_response_alg",
  "dpop_bound_access_tokens",
  "tls_client_certificate_bound_access_tokens",
  "tls_client_auth_subject_dn",
  "jwks",
  "resource_server",
  "resources",
  "post_logout_redirect_uris",
  "grants_end_with_session",
  "backchannel_logout_uri",
  "backchannel_logout_session_required",
  "refresh_token",
  ...REFRESH_CONTROLS,
] as const;

export type FormMode = "create" | "update";

export function refreshBody(form: FormFields): Record<string, unknown> {
  const rotation = optionalText(form, "refresh_token.rotation");
  return defined({
    issue: triState(form, "refresh_token.issue"),
    rotation,
    issue_on_refresh: triState(form, "refresh_token.issue_on_refresh"),
    grace_seconds: optionalNumber(form, "refresh_token.grace_seconds"),
    absolute_lifetime: optionalNumber(form, "refresh_token.absolute_lifetime"),
    idle_lifetime: optionalNumber(form, "refresh_token.idle_lifetime"),
    require_offline_access: triState(form, "refresh_token.require_offline_access"),
  });
}

/**
 * `scopes`: the scopes the form offers (the provider's, ProviderConfig.scopes),
 * one checkbox each.
 */
export function clientBody(
  form: FormFields,
  mode: FormMode,
  scopes: readonly string[],
): Record<string, unknown> {
  const accessTokenLifetime = optionalNumber(form, "access_token_lifetime");
  return {
    ...defined({
      client_name: text(form, "client_name"),
      token_endpoint_auth_method: optionalText(form, "token_endpoint_auth_method"),
      redirect_uris: lines(form, "redirect_uris"),
      grant_types: group(form, "grant_types", GRANT_TYPES),
      scope: group(form, "scope", scopes).join(" "),
      // Empty: the provider default; on an update that means clearing the client's own value.
      access_token_lifetime: accessTokenLifetime ?? (mode === "update" ? null : undefined),
      consent: optionalText(form, "consent"),
      id_token_signed_response_alg: optionalText(form, "id_token_signed_response_alg"),
      dpop_bound_access_tokens: checked(form, "dpop_bound_access_tokens"),
      tls_client_certificate_bound_access_tokens: checked(
        form,
        "tls_client_certificate_bound_access_tokens",
      ),
      // Sent only when given: the service keeps a stored value the method still uses.
      tls_client_auth_subject_dn: optionalText(form, "tls_client_auth_subject_dn"),
      jwks: optionalJson(form, "jwks", "a JWK Set ({'keys': [...]})"),
      resource_server: checked(form, "resource_server"),
      resources: lines(form, "resources"),
      post_logout_redirect_uris: lines(form, "post_logout_redirect_uris"),
      grants_end_with_session: optionalText(form, "grants_end_with_session"),
      // Empty: none; on an update that means removing the client's URI.
      backchannel_logout_uri:
        optionalText(form, "backchannel_logout_uri") ?? (mode === "update" ? null : undefined),
      backchannel_logout_session_required: checked(form, "backchannel_logout_session_required"),
    }),
    refresh_token: refreshBody(form),
  };
}

const tri = (value: boolean | undefined): string => (value === undefined ? "" : String(value));
const number = (value: number | null | undefined): string =>
  value === undefined || value === null ? "" : String(value);

/** The form's values for a client as it is: what the edit page starts from. */
export function clientFormValues(client: ClientView): URLSearchParams {
  const form = new URLSearchParams();
  const refresh = client.refresh_token;
  const single: [string, string][] = [
    ["client_name", client.client_name],
    ["token_endpoint_auth_method", client.token_endpoint_auth_method],
    ["redirect_uris", client.redirect_uris.join("\n")],
    ["access_token_lifetime", number(client.access_token_lifetime)],
    ["consent", client.consent],
    ["id_token_signed_response_alg", client.id_token_signed_response_alg],
    ["tls_client_auth_subject_dn", client.tls_client_auth_subject_dn ?? ""],
    ["jwks", client.jwks ? JSON.stringify(client.jwks, null, 2) : ""],
    ["resources", client.resources.join("\n")],
    ["post_logout_redirect_uris", client.post_logout_redirect_uris.join("\n")],
    ["grants_end_with_session", client.grants_end_with_session],
    ["backchannel_logout_uri", client.backchannel_logout_uri ?? ""],
    ["refresh_token.issue", tri(refresh.issue)],
    ["refresh_token.rotation", refresh.rotation ?? ""],
    ["refresh_token.issue_on_refresh", tri(refresh.issue_on_refresh)],
    ["refresh_token.grace_seconds", number(refresh.grace_seconds)],
    ["refresh_token.absolute_lifetime", number(refresh.absolute_lifetime)],
    ["refresh_token.idle_lifetime", number(refresh.idle_lifetime)],
    ["refresh_token.require_offline_access", tri(refresh.require_offline_access)],
  ];
  for (const [name, value] of single) form.set(name, value);
  for (const grant of client.grant_types) form.set(boxName("grant_types", grant), "on");
  for (const scope of client.scope.split(" ").filter(Boolean))
    form.set(boxName("scope", scope), "on");
  const flags = [
    "dpop_bound_access_tokens",
    "tls_client_certificate_bound_access_tokens",
    "resource_server",
    "backchannel_logout_session_required",
  ] as const;
  for (const flag of flags) if (client[flag]) form.set(flag, "on");
  return form;
}

/** The form a new application starts from: a confidential web app with the code flow and refresh. */
export function newClientFormValues(): URLSearchParams {
  const form = new URLSearchParams({
    token_endpoint_auth_method: "client_secret_basic",
    consent: "required",
    id_token_signed_response_alg: "RS256",
    grants_end_with_session: "unless_offline",
  });
  for (const grant of ["authorization_code", "refresh_token"])
    form.set(boxName("grant_types", grant), "on");
  for (const scope of ["openid", "profile", "email", "offline_access"])
    form.set(boxName("scope", scope), "on");
  return form;
}
