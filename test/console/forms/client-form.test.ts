import { describe, expect, it } from "vitest";
import type { ClientView } from "../../../src/clients/validation";
import {
  clientBody,
  clientFormValues,
  newClientFormValues,
  refreshBody,
} from "../../../src/console/forms/client-form";
import { FieldError } from "../../../src/lib/json-fields";

/**
 * The application form → the admin API's client body (createClient,
 * updateClient take exactly that), and a client → the form it is edited in.
 * The form decides only shapes; every rule is the service's.
 */

const SCOPES = ["openid", "profile", "email", "offline_access", "api:read"];
const form = (fields: Record<string, string>) => new URLSearchParams(fields);

const view: ClientView = {
  client_id: "abc",
  client_name: "Acme Notes",
  client_type: "confidential",
  token_endpoint_auth_method: "client_secret_post",
  redirect_uris: ["https://app.example/cb", "https://app.example/cb2"],
  grant_types: ["authorization_code", "refresh_token"],
  scope: "openid offline_access api:read",
  access_token_lifetime: 600,
  refresh_token: { rotation: "reuse", grace_seconds: 0, idle_lifetime: 3600 },
  consent: "implicit",
  resource_server: false,
  id_token_signed_response_alg: "ES256",
  dpop_bound_access_tokens: true,
  tls_client_certificate_bound_access_tokens: false,
  self_registered: false,
  resources: ["https://api.example/"],
  post_logout_redirect_uris: [],
  grants_end_with_session: "unless_offline",
  backchannel_logout_uri: "https://app.example/backchannel-logout",
  backchannel_logout_session_required: true,
  created_at: 1,
  updated_at: 2,
};

describe("the refresh-token policy fields", () => {
  it("leave out every setting left at 'provider default', so the client inherits it", () => {
    expect(refreshBody(form({}))).toEqual({});
    expect(
      refreshBody(
        form({
          "refresh_token.issue": "",
          "refresh_token.rotation": "",
          "refresh_token.grace_seconds": "  ",
        }),
      ),
    ).toEqual({});
  });

  it("send each chosen setting in the API's type", () => {
    expect(
      refreshBody(
        form({
          "refresh_token.issue": "true",
          "refresh_token.rotation": "reuse",
          "refresh_token.issue_on_refresh": "false",
          "refresh_token.grace_seconds": "10",
          "refresh_token.absolute_lifetime": "86400",
          "refresh_token.idle_lifetime": "0",
          "refresh_token.require_offline_access": "true",
        }),
      ),
    ).toEqual({
      issue: true,
      rotation: "reuse",
      issue_on_refresh: false,
      grace_seconds: 10,
      absolute_lifetime: 86400,
      idle_lifetime: 0,
      require_offline_access: true,
    });
  });

  it("pass what is not a number or a yes/no on as it cannot pass, for the service to refuse by name", () => {
    const body = refreshBody(
      form({ "refresh_token.grace_seconds": "ten", "refresh_token.issue": "maybe" }),
    );
    expect(body.grace_seconds).toBeNaN();
    expect(body.issue).toBe("maybe");
  });
});

describe("the application form", () => {
  it("sends checkbox groups as the API's list and space-separated scope, in the offered order", () => {
    const body = clientBody(
      form({
        client_name: " Acme ",
        "grant_types.refresh_token": "on",
        "grant_types.authorization_code": "on",
        "scope.api:read": "on",
        "scope.openid": "on",
        "scope.not-offered": "on",
      }),
      "create",
      SCOPES,
    );
    expect(body.client_name).toBe("Acme");
    expect(body.grant_types).toEqual(["authorization_code", "refresh_token"]);
    expect(body.scope).toBe("openid api:read");
  });

  it("reads redirect URIs and resources one per line, blank lines dropped", () => {
    const body = clientBody(
      form({
        redirect_uris: "https://a.example/cb\r\n\r\n  https://b.example/cb  \n",
        resources: "",
      }),
      "create",
      SCOPES,
    );
    expect(body.redirect_uris).toEqual(["https://a.example/cb", "https://b.example/cb"]);
    expect(body.resources).toEqual([]);
  });

  it("leaves an empty access-token lifetime out on create and clears it (null) on update", () => {
    expect(clientBody(form({}), "create", SCOPES)).not.toHaveProperty("access_token_lifetime");
    expect(clientBody(form({}), "update", SCOPES).access_token_lifetime).toBeNull();
    expect(clientBody(form({ access_token_lifetime: "900" }), "update", SCOPES)).toMatchObject({
      access_token_lifetime: 900,
    });
  });

  it("sends unchecked flags as false, and keys and a subject DN only when given", () => {
    const body = clientBody(form({ resource_server: "on" }), "update", SCOPES);
    expect(body).toMatchObject({
      resource_server: true,
      dpop_bound_access_tokens: false,
      tls_client_certificate_bound_access_tokens: false,
    });
    expect(body).not.toHaveProperty("jwks");
    expect(body).not.toHaveProperty("tls_client_auth_subject_dn");
  });

  it("refuses keys that are not JSON by the field's name, without echoing them", () => {
    try {
      clientBody(form({ jwks: '{"keys": [' }), "create", SCOPES);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(FieldError);
      expect((error as FieldError).field).toBe("jwks");
      expect((error as FieldError).description).not.toContain('keys": [');
    }
    expect(clientBody(form({ jwks: '{"keys": []}' }), "create", SCOPES).jwks).toEqual({
      keys: [],
    });
  });

  it("round-trips: a client's form, sent back unchanged, is the client's settings", () => {
    const body = clientBody(clientFormValues(view), "update", SCOPES);
    expect(body).toEqual({
      client_name: view.client_name,
      token_endpoint_auth_method: view.token_endpoint_auth_method,
      redirect_uris: view.redirect_uris,
      grant_types: view.grant_types,
      scope: view.scope,
      access_token_lifetime: 600,
      consent: view.consent,
      id_token_signed_response_alg: view.id_token_signed_response_alg,
      dpop_bound_access_tokens: true,
      tls_client_certificate_bound_access_tokens: false,
      resource_server: false,
      resources: view.resources,
      post_logout_redirect_uris: view.post_logout_redirect_uris,
      grants_end_with_session: view.grants_end_with_session,
      backchannel_logout_uri: view.backchannel_logout_uri,
      backchannel_logout_session_required: true,
      refresh_token: view.refresh_token,
    });
  });

  it("starts a new application as a confidential web app with the code flow and refresh tokens", () => {
    const body = clientBody(newClientFormValues(), "create", SCOPES);
    expect(body).toMatchObject({
      token_endpoint_auth_method: "client_secret_basic",
      grant_types: ["authorization_code", "refresh_token"],
      scope: "openid profile email offline_access",
      refresh_token: {},
    });
  });
});
