import { describe, expect, it } from "vitest";
import { expectRedirectedError, isConsentPage, loginPage } from "../support/authorize";
import { authorizeUrl, Browser, pkce, signInAndAuthorize } from "../support/browser";
import { registerClient, registerUser } from "../support/fixtures";
import { adminCall } from "../support/http";
import { storedFamily } from "../support/refresh";
import { newIdentifier, registerResource, resourcePath } from "../support/resources";

/**
 * `resource` at /authorize (RFC 8707 section 2.1): several allowed, each a
 * registered resource, else invalid_target sent back to the client; the
 * grant remembers them; the consent page names them.
 */

async function signedIn() {
  const client = await registerClient();
  const user = await registerUser();
  const browser = new Browser();
  return { client, user, browser };
}

describe("invalid_target at the authorization endpoint", () => {
  it("sends an unknown resource back to the client as invalid_target, with the state", async () => {
    const client = await registerClient();
    const res = await new Browser().get(
      authorizeUrl(client, { state: "s-1", resources: [newIdentifier()] }),
    );
    expectRedirectedError(res, "invalid_target", { state: "s-1" });
  });

  it("refuses the whole request when one of several resources is unknown", async () => {
    const client = await registerClient();
    const known = await registerResource();
    const res = await new Browser().get(
      authorizeUrl(client, { resources: [known.identifier, newIdentifier()] }),
    );
    expectRedirectedError(res, "invalid_target", { state: "state-123" });
  });

  it("refuses a malformed value (a fragment, a relative reference) as invalid_target", async () => {
    const client = await registerClient();
    for (const value of ["https://api.example.test/#x", "/relative"]) {
      const res = await new Browser().get(authorizeUrl(client, { resources: [value] }));
      expectRedirectedError(res, "invalid_target", { state: "state-123" });
    }
  });

  it("refuses a resource deleted between the request and the consent, back to the client", async () => {
    const { client, user, browser } = await signedIn();
    const resource = await registerResource();
    const { html } = await loginPage(client, { resources: [resource.identifier] }, browser);
    await adminCall("DELETE", resourcePath(resource.identifier));
    const res = await browser.submit(html, { username: user.username, password: user.password });
    expectRedirectedError(res, "invalid_target", { state: "state-123" });
  });
});

describe("the grant and the consent page", () => {
  it("accepts several resources and stores them in the pending grant", async () => {
    const { client, user, browser } = await signedIn();
    const a = await registerResource({ name: "Calendar" });
    const b = await registerResource({ name: "Contacts", require_sender_constrained: true });
    const { challenge } = await pkce();
    const redirect = await signInAndAuthorize(browser, client, user, {
      challenge,
      resources: [a.identifier, b.identifier, a.identifier],
    });
    const code = redirect.searchParams.get("code") as string;
    expect(code).toBeTruthy();
    const family = await storedFamily(code.split(".")[1] as string);
    expect(family).toMatchObject({
      status: "pending",
      grant: { resources: [a.identifier, b.identifier], senderConstrained: [b.identifier] },
    });
  });

  it("keeps a grant without resources as before (no resources field)", async () => {
    const { client, user, browser } = await signedIn();
    const { challenge } = await pkce();
    const redirect = await signInAndAuthorize(browser, client, user, { challenge });
    const code = redirect.searchParams.get("code") as string;
    const family = await storedFamily(code.split(".")[1] as string);
    expect(family?.status === "pending" && "resources" in family.grant).toBe(false);
  });

  it("names each API on the consent page, and asks again for an API not yet allowed", async () => {
    const { client, user, browser } = await signedIn();
    const calendar = await registerResource({ name: "Calendar Service" });
    const mail = await registerResource({ name: "Mail Service" });
    const { challenge } = await pkce();

    let res = await browser.get(
      authorizeUrl(client, { challenge, resources: [calendar.identifier] }),
    );
    res = await browser.submit(await res.text(), {
      username: user.username,
      password: user.password,
    });
    const consent = await res.text();
    expect(isConsentPage(consent)).toBe(true);
    expect(consent).toContain("Calendar Service");
    expect(consent).toContain(calendar.identifier);
    expect(consent).not.toContain("Mail Service");
    res = await browser.submit(consent, { decision: "allow" });
    expect(res.status).toBe(303);

    // The same resource again: already allowed, no page.
    res = await browser.get(authorizeUrl(client, { challenge, resources: [calendar.identifier] }));
    expect(res.status).toBe(302);
    // Another API: the user is asked, and the page names it.
    res = await browser.get(authorizeUrl(client, { challenge, resources: [mail.identifier] }));
    const again = await res.text();
    expect(isConsentPage(again)).toBe(true);
    expect(again).toContain("Mail Service");
  });
});
