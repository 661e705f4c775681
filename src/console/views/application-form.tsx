import { AUTH_METHODS, GRANT_TYPES, ID_TOKEN_ALGS } from "../../clients/model";
import type { ProviderConfig } from "../../config";
import { CLIENT_CONTROLS, type FormMode } from "../forms/client-form";
import type { FormFields } from "../forms/fields";
import { type FormProblem, generalProblem, problemOf } from "../forms/problem";
import {
  Checkbox,
  CheckboxGroup,
  CsrfField,
  FormAlert,
  Select,
  TextArea,
  TextField,
} from "./controls";
import { duration } from "./format";
import { RefreshPolicyFields } from "./refresh-policy";

/**
 * The application form, for create and edit alike: every setting the admin
 * API has, grouped as an operator thinks of them. It is filled from
 * `values` (the client as it is, or what the operator just typed when the
 * service refused it), so a refusal never loses their input.
 */

const METHOD_LABELS: Record<(typeof AUTH_METHODS)[number], string> = {
  client_secret_basic: "Client secret, HTTP Basic (client_secret_basic)",
  client_secret_post: "Client secret in the form (client_secret_post)",
  client_secret_jwt: "Secret-signed JWT (client_secret_jwt)",
  private_key_jwt: "Private-key JWT (private_key_jwt)",
  tls_client_auth: "Mutual TLS, CA-issued certificate (tls_client_auth)",
  self_signed_tls_client_auth: "Mutual TLS, self-signed certificate (self_signed_tls_client_auth)",
  none: "None: a public client (browser, mobile or CLI app)",
};

const GRANT_LABELS: Record<(typeof GRANT_TYPES)[number], string> = {
  authorization_code: "Authorization code (users sign in; PKCE)",
  refresh_token: "Refresh token",
  client_credentials: "Client credentials (the application acting for itself)",
  "urn:ietf:params:oauth:grant-type:device_code":
    "Device code (TVs and CLIs: users sign in on another device; RFC 8628)",
};

export interface ApplicationFormProps {
  mode: FormMode;
  action: string;
  csrfToken: string;
  values: FormFields;
  problem?: FormProblem | undefined;
  config: ProviderConfig;
}

export function ApplicationForm(props: ApplicationFormProps) {
  const { values, problem, config } = props;
  const field = (name: string) => ({
    name,
    value: values.get(name) ?? "",
    error: problemOf(problem, name),
  });
  const flag = (name: string) => ({
    name,
    checked: Boolean(values.get(name)),
    error: problemOf(problem, name),
  });
  return (
    <form method="post" action={props.action} id="application-form" novalidate>
      <CsrfField token={props.csrfToken} />
      <FormAlert message={generalProblem(problem, CLIENT_CONTROLS)} />
      <fieldset>
        <legend>Application</legend>
        <TextField
          {...field("client_name")}
          label="Name"
          required
          hint="Shown to users on the sign-in and consent pages."
        />
        <Select
          {...field("token_endpoint_auth_method")}
          label="Client authentication"
          options={AUTH_METHODS.map((value) => ({ value, label: METHOD_LABELS[value] }))}
          hint="How the application proves who it is at the token endpoint. A secret is generated and shown once."
        />
        <TextArea
          {...field("redirect_uris")}
          label="Redirect URIs"
          rows={3}
          hint="One per line. Compared exactly (a loopback URI's port aside, RFC 8252)."
        />
        <CheckboxGroup
          name="grant_types"
          label="Grant types"
          options={GRANT_TYPES.map((value) => ({ value, label: GRANT_LABELS[value] }))}
          values={values}
          error={problemOf(problem, "grant_types")}
        />
        <CheckboxGroup
          name="scope"
          label="Scopes it may ask for"
          options={config.scopes.map((value) => ({ value, label: value }))}
          values={values}
          error={problemOf(problem, "scope")}
        />
        <Select
          {...field("consent")}
          label="Consent"
          options={[
            { value: "required", label: "Ask users to allow the application" },
            { value: "implicit", label: "Do not ask (a first-party application)" },
          ]}
        />
      </fieldset>
      <RefreshPolicyFields values={values} defaults={config.refresh} problem={problem} />
      <fieldset>
        <legend>Sessions and logout</legend>
        <Select
          {...field("grants_end_with_session")}
          label="Grants that end when the user signs out"
          options={[
            { value: "unless_offline", label: "Those made without offline_access (default)" },
            { value: "always", label: "All of them, offline_access too" },
            { value: "never", label: "None: grants outlive the sign-in session" },
          ]}
          hint="A session ends at logout, when it expires, and when the password changes (OIDC Core section 11)."
        />
        <TextArea
          {...field("post_logout_redirect_uris")}
          label="Post-logout redirect URIs"
          rows={2}
          hint="One per line. Where the application may send users back after logout; compared exactly."
        />
        <TextField
          {...field("backchannel_logout_uri")}
          label="Back-channel logout URI"
          hint="An https URL the service POSTs a signed logout token to when a user's session ends (OpenID Connect Back-Channel Logout). Empty: none."
        />
        <Checkbox
          {...flag("backchannel_logout_session_required")}
          label="The application needs the session id (sid) in logout tokens (they always carry it)"
        />
      </fieldset>
      <fieldset>
        <legend>Tokens and credentials</legend>
        <TextField
          {...field("access_token_lifetime")}
          type="number"
          min={60}
          label="Access-token lifetime (seconds)"
          hint={`Empty: the provider default, ${duration(config.accessTokenLifetime)}.`}
        />
        <Select
          {...field("id_token_signed_response_alg")}
          label="ID token signature"
          options={ID_TOKEN_ALGS.map((value) => ({ value, label: value }))}
        />
        <Checkbox
          {...flag("dpop_bound_access_tokens")}
          label="Require DPoP-bound tokens (every token request carries a DPoP proof, RFC 9449)"
        />
        <Checkbox
          {...flag("tls_client_certificate_bound_access_tokens")}
          label="Require certificate-bound tokens (every token request presents a TLS client certificate, RFC 8705)"
        />
        <TextField
          {...field("tls_client_auth_subject_dn")}
          label="Certificate subject DN"
          hint="For tls_client_auth only, as RFC 4514 writes it, e.g. CN=app.example.com,O=Example,C=DE."
        />
        <TextArea
          {...field("jwks")}
          label="Public keys (JWK Set)"
          rows={4}
          hint="For private_key_jwt (its signing keys) and self_signed_tls_client_auth (its certificates, in x5c)."
        />
        <Checkbox
          {...flag("resource_server")}
          label="Resource server (may introspect any application's tokens)"
        />
        <TextArea
          {...field("resources")}
          label="APIs for client credentials"
          rows={2}
          hint="One registered resource identifier per line: what the application may ask tokens for when acting for itself."
        />
      </fieldset>
      <div class="actions">
        <button type="submit" id="save-application">
          {props.mode === "create" ? "Create application" : "Save changes"}
        </button>
      </div>
    </form>
  );
}
