import { describe, expect, it } from "vitest";
import { isConsentPage, isLoginPage, redeemCode } from "../support/authorize";
import { authorizeUrl, Browser, hiddenFields, pkce } from "../support/browser";
import { REDIRECT_URI, registerClient, registerUser } from "../support/fixtures";
import { call, ISSUER, json } from "../support/http";

/**
 * OAuth 2.0 Form Post Response Mode (response_mode=form_post): the answer,
 * code or error, reaches the client as an auto-submitted HTML form posted to
 * its redirect URI, never in a URL; the page runs its one script only and may
 * post only to the redirect URI's origin.
 */

interface PostedForm {
  action: string;
  fields: Record<string, string>;
  csp: string;
  html: string;
}

async function postedForm(res: Response): Promise<PostedForm> {
  expect(res.status).toBe(200);
  expect(res.headers.get("Location")).toBeNull();
  const html = await res.text();
  const form = /<form method="post" action="([^"]+)">/.exec(html);
  expect(form, html.slice(0, 400)).not.toBeNull();
  return {
    action: (form?.[1] ?? "").replace(/&amp;/g, "&"),
    fields: hiddenFields(html),
    csp: res.headers.get("Content-Security-Policy") ?? "",
    html,
  };
}

/** Drives login and consent; returns the response that answers the client. */
async function answerOf(extra: Record<string, string>, decision: "allow" | "deny" = "allow") {
  const client = await registerClient();
  const user = await registerUser();
  const { verifier, challenge } = await pkce();
  const browser = new Browser();
  let res = await browser.get(
    authorizeUrl(client, { challenge, extra: { response_mode: "form_post", ...extra } }),
  );
  let html = await res.text();
  if (isLoginPage(html)) {
    res = await browser.submit(html, { username: user.username, password: user.password });
    html = await res.clone().text();
  }
  if (isConsentPage(html)) res = await browser.submit(html, { decision });
  return { res, client, verifier };
}

describe("response_mode=form_post", () => {
  it("is advertised in discovery", async () => {
    const metadata = await json<{ response_modes_supported: string[] }>(
      await call("/.well-known/openid-configuration"),
    );
    expect(metadata.response_modes_supported).toEqual(["query", "form_post"]);
  });

  it("posts the code, state and iss to the redirect URI, and the code redeems", async () => {
    const { res, client, verifier } = await answerOf({});
    const posted = await postedForm(res);
    expect(posted.action).toBe(REDIRECT_URI);
    expect(Object.keys(posted.fields).sort()).toEqual(["code", "iss", "state"]);
    expect(posted.fields).toMatchObject({ state: "state-123", iss: ISSUER });
    const token = await redeemCode(client, posted.fields.code as string, verifier);
    expect(token.status).toBe(200);
  });

  it("lets the page run only its own script and post only to the client's origin", async () => {
    const { res } = await answerOf({});
    const posted = await postedForm(res);
    const script = /<script>([^<]*)<\/script>/.exec(posted.html)?.[1] as string;
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(script));
    const hash = btoa(String.fromCharCode(...new Uint8Array(digest)));
    expect(posted.csp).toContain(`script-src 'sha256-${hash}'`);
    expect(posted.csp).toContain(`form-action ${new URL(REDIRECT_URI).origin}`);
    expect(posted.csp).toContain("default-src 'none'");
    expect(posted.csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get("Cache-Control")).toContain("no-store");
  });

  it("posts a denial as access_denied, with the state", async () => {
    const { res } = await answerOf({}, "deny");
    const posted = await postedForm(res);
    expect(posted.fields).toMatchObject({
      error: "access_denied",
      state: "state-123",
      iss: ISSUER,
    });
    expect(posted.fields.code).toBeUndefined();
  });

  it("posts an error found after the redirect URI was checked", async () => {
    const client = await registerClient();
    const res = await new Browser().get(
      authorizeUrl(client, { extra: { response_mode: "form_post", response_type: "token" } }),
    );
    const posted = await postedForm(res);
    expect(posted.fields).toMatchObject({
      error: "unsupported_response_type",
      state: "state-123",
      iss: ISSUER,
    });
  });

  it("carries a hostile state intact and inert: escaped in the page, posted as sent", async () => {
    const state = `"><script>alert(1)</script>&x=1`;
    const client = await registerClient();
    const res = await new Browser().get(
      authorizeUrl(client, {
        state,
        extra: { response_mode: "form_post", response_type: "token" },
      }),
    );
    const posted = await postedForm(res);
    expect(posted.html).not.toContain("<script>alert(1)");
    expect(posted.fields.state).toBe(state);
  });
});

describe("response_mode=form_post for a native app", () => {
  it("is refused for a private-use scheme redirect URI, answered in the query", async () => {
    const client = await registerClient({
      client_type: "public",
      redirect_uris: ["com.example.app:/callback"],
    });
    const { challenge } = await pkce();
    const res = await new Browser().get(
      authorizeUrl(client, {
        challenge,
        redirectUri: "com.example.app:/callback",
        extra: { response_mode: "form_post" },
      }),
    );
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("Location") as string);
    expect(location.protocol).toBe("com.example.app:");
    expect(location.searchParams.get("error")).toBe("invalid_request");
    expect(location.searchParams.get("state")).toBe("state-123");
  });
});
