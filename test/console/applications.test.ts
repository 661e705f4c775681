import { describe, expect, it } from "vitest";
import { COPY_SCRIPT } from "../../src/console/views/applications";
import { codeFlow, hiddenFields } from "../support/browser";
import {
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  registerUser,
  tokenRequest,
} from "../support/fixtures";
import { adminCall, json } from "../support/http";
import { grantWithRefresh, refreshOk } from "../support/refresh";
import { ConsoleSession, fieldErrorOf, followDone } from "./support";

/**
 * The applications' pages do what the admin API does, through the same
 * service (src/clients/administration.ts): what they save is what /token
 * then honours.
 */

const admin = new ConsoleSession("admin");

/** The application form as a browser sends it: one name per checkbox. */
function applicationForm(fields: Record<string, string> = {}): Record<string, string> {
  return {
    client_name: "Console App",
    token_endpoint_auth_method: "client_secret_basic",
    redirect_uris: REDIRECT_URI,
    "grant_types.authorization_code": "on",
    "grant_types.refresh_token": "on",
    "scope.openid": "on",
    "scope.profile": "on",
    "scope.offline_access": "on",
    consent: "implicit",
    id_token_signed_response_alg: "RS256",
    ...fields,
  };
}

/** The secret and client_id a secret page shows. */
function shownSecret(html: string): { client_id: string; client_secret: string } {
  const client_id = /<code id="client-id">([^<]+)<\/code>/.exec(html)?.[1];
  const client_secret = /<input type="text" id="client_secret" value="([^"]+)"/.exec(html)?.[1];
  expect(client_id).toBeTruthy();
  expect(client_secret).toBeTruthy();
  return { client_id: client_id as string, client_secret: client_secret as string };
}

async function sha256Base64(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

describe("creating an application", () => {
  it("shows its secret once, on the page that created it, with a copy button the CSP allows and nothing else", async () => {
    const res = await admin.post("/console/applications", applicationForm());
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    const { client_id, client_secret } = shownSecret(html);
    expect(html).toContain("only time the secret is shown");
    const csp = res.headers.get("content-security-policy") as string;
    expect(csp).toContain(`script-src 'sha256-${await sha256Base64(COPY_SCRIPT)}'`);
    expect(html).toContain(`<script>${COPY_SCRIPT}</script>`);
    // Never again: the application's own page does not carry it.
    const page = await admin.page(`/console/applications/${client_id}`);
    expect(page).not.toContain(client_secret);
    expect(
      (await admin.request("/console/applications")).headers.get("content-security-policy"),
    ).toContain("script-src 'none'");
  });

  it("with a refresh policy (reuse, a short absolute lifetime): a code flow and a refresh honour it", async () => {
    const res = await admin.post(
      "/console/applications",
      applicationForm({
        "refresh_token.rotation": "reuse",
        "refresh_token.absolute_lifetime": "3600",
      }),
    );
    const shown = shownSecret(await res.text());
    const client: RegisteredClient = { ...shown, redirect_uris: [REDIRECT_URI] };
    const view = await json<{ refresh_token: unknown }>(
      await adminCall("GET", `/admin/clients/${client.client_id}`),
    );
    // Only the settings chosen: the rest is inherited from the provider.
    expect(view.refresh_token).toEqual({ rotation: "reuse", absolute_lifetime: 3600 });

    const tokens = await codeFlow(client, await registerUser(), { scope: "openid offline_access" });
    const first = tokens.refresh_token as string;
    const refreshed = await refreshOk(client, first);
    expect(refreshed.refresh_token).toBe(first); // reuse: the same token comes back
    await refreshOk(client, first); // and keeps working
  });

  it("with refresh tokens turned off: the code flow issues none", async () => {
    const res = await admin.post(
      "/console/applications",
      applicationForm({ "refresh_token.issue": "false" }),
    );
    const client: RegisteredClient = {
      ...shownSecret(await res.text()),
      redirect_uris: [REDIRECT_URI],
    };
    const tokens = await codeFlow(client, await registerUser(), { scope: "openid offline_access" });
    expect(tokens.refresh_token).toBeUndefined();
  });

  it("a public client needs no secret: 303 to its page, which says it was created", async () => {
    const res = await admin.post(
      "/console/applications",
      applicationForm({ token_endpoint_auth_method: "none", client_name: "Console SPA" }),
    );
    const html = await followDone(admin, res);
    expect(html).toContain("The application was created.");
    expect(html).toContain("Console SPA");
    expect(html).not.toContain('id="rotate-secret"');
  });

  it("a refusal is shown under the field it names, with what the operator typed kept", async () => {
    const res = await admin.post(
      "/console/applications",
      applicationForm({ client_name: "Keep <me>", "refresh_token.grace_seconds": "99" }),
    );
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(fieldErrorOf(html, "refresh_token-grace_seconds")).toBe(
      "refresh_token.grace_seconds: must be a whole number from 0 to 60.",
    );
    expect(html).toContain('aria-invalid="true"');
    expect(html).toContain('value="Keep &lt;me&gt;"');
    expect(html).toMatch(
      /id="refresh_token-grace_seconds" name="refresh_token.grace_seconds" value="99"/,
    );
    expect(html).toMatch(
      /id="scope-offline_access" name="scope.offline_access" value="on" checked/,
    );

    // RFC 9700 §4.14.2, the service's rule, shown where the operator chose it.
    const publicReuse = await admin.post(
      "/console/applications",
      applicationForm({ token_endpoint_auth_method: "none", "refresh_token.rotation": "reuse" }),
    );
    expect(fieldErrorOf(await publicReuse.text(), "refresh_token-rotation")).toContain(
      "refresh tokens must rotate (RFC 9700 section 4.14.2)",
    );
  });
});

describe("an application's page", () => {
  it("edits every setting: 303 to the page with a notice, and the service has the change", async () => {
    const client = await registerClient();
    const page = await admin.page(`/console/applications/${client.client_id}`);
    const current = hiddenFields(page);
    expect(current._csrf).toBeTruthy();
    const res = await admin.post(
      `/console/applications/${client.client_id}`,
      applicationForm({
        client_name: "Renamed",
        "grant_types.client_credentials": "on",
        "refresh_token.grace_seconds": "0",
        "refresh_token.idle_lifetime": "600",
        "refresh_token.require_offline_access": "true",
        access_token_lifetime: "900",
        dpop_bound_access_tokens: "on",
      }),
    );
    const html = await followDone(admin, res);
    expect(html).toContain("The application&#39;s settings were saved.");
    const view = await json<Record<string, unknown>>(
      await adminCall("GET", `/admin/clients/${client.client_id}`),
    );
    expect(view).toMatchObject({
      client_name: "Renamed",
      grant_types: ["authorization_code", "refresh_token", "client_credentials"],
      scope: "openid profile offline_access",
      access_token_lifetime: 900,
      dpop_bound_access_tokens: true,
      refresh_token: { grace_seconds: 0, idle_lifetime: 600, require_offline_access: true },
    });
  });

  it("rotates the secret: the new one is shown once, and the old one is refused at /token", async () => {
    const client = await registerClient({
      grant_types: ["authorization_code", "refresh_token", "client_credentials"],
    });
    const res = await admin.post(`/console/applications/${client.client_id}/secret`);
    expect(res.status).toBe(200);
    const { client_secret } = shownSecret(await res.text());
    expect(client_secret).not.toBe(client.client_secret);
    const old = await tokenRequest(client, { grant_type: "client_credentials" });
    expect(old.status).toBe(401);
    const fresh = await tokenRequest(
      { ...client, client_secret },
      { grant_type: "client_credentials" },
    );
    expect(fresh.status).toBe(200);
  });

  it("deletes only after a confirmation naming what dies (its live grants); then its refresh tokens are refused", async () => {
    const grant = await grantWithRefresh();
    // The families report to the client directory just after answering.
    let confirm = "";
    for (let i = 0; i < 50 && !confirm.includes("Its 1 live grant stops working"); i++) {
      confirm = await admin.page(`/console/applications/${grant.client.client_id}/delete`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(confirm).toMatch(/id="what-dies"/);
    expect(confirm).toContain("Its 1 live grant stops working");
    expect(confirm).toContain("refreshes with its refresh tokens are refused");
    const res = await admin.post(`/console/applications/${grant.client.client_id}/delete`);
    const list = await followDone(admin, res);
    expect(list).toContain("The application was deleted");
    const refused = await tokenRequest(grant.client, {
      grant_type: "refresh_token",
      refresh_token: grant.refreshToken,
    });
    expect(refused.status).toBe(401);
    await admin.page(`/console/applications/${grant.client.client_id}`, 404);
  });
});

describe("the applications list", () => {
  const rowsOf = (html: string) =>
    [...html.matchAll(/<a href="\/console\/applications\/([^"]+)">([^<]+)<\/a>/g)].map((m) => m[2]);

  it("searches by the start of the name (any case) or of the client_id, as GET /admin/clients does", async () => {
    const p = `ca${crypto.randomUUID().slice(0, 8)}`;
    const web = await registerClient({ client_name: `${p} Web` });
    await registerClient({ client_name: `${p} Mobile` });
    expect(rowsOf(await admin.page(`/console/applications?q=${p.toUpperCase()}`))).toEqual([
      `${p} Mobile`,
      `${p} Web`,
    ]);
    const byId = await admin.page(`/console/applications?by=client_id&q=${web.client_id}`);
    expect(rowsOf(byId)).toEqual([`${p} Web`]);
    expect(await admin.page(`/console/applications?q=zz${p}`)).toContain("No application matches.");
  });

  it("pages with the directory's cursor, each application once, and shows a bad query as a refusal on the page", async () => {
    const p = `cp${crypto.randomUUID().slice(0, 8)}`;
    const names = Array.from({ length: 22 }, (_, i) => `${p} ${String(i).padStart(2, "0")}`);
    for (const name of names) await registerClient({ client_name: name });
    const first = await admin.page(`/console/applications?q=${p}`);
    const next = /<a href="([^"]+)" id="next-page"/.exec(first)?.[1]?.replace(/&amp;/g, "&");
    expect(next).toContain("cursor=");
    const second = await admin.page(next as string);
    expect(second).not.toContain('id="next-page"');
    expect([...rowsOf(first), ...rowsOf(second)]).toEqual(names);

    const refused = await admin.request(`/console/applications?q=${p}&by=colour`);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("by: must be one of name, client_id.");
  });
});
