import { describe, expect, it } from "vitest";
import { grantWithRefresh } from "../support/refresh";
import { ConsoleSession, postForms } from "./support";

/**
 * Every console page renders for an admin and for a viewer, in the console's
 * shell, with a visible label for every control; a viewer is shown nothing
 * that changes anything (the sign-in layer refuses their POSTs anyway:
 * test/console/auth.test.ts), and errors are pages, never JSON.
 */

const admin = new ConsoleSession("admin");
const viewer = new ConsoleSession("viewer");

/** Every control's id has a <label for>, or the control sits inside its label. */
function unlabelled(html: string): string[] {
  const labelled = new Set([...html.matchAll(/<label[^>]* for="([^"]+)"/g)].map((m) => m[1]));
  const controls = [...html.matchAll(/<(input|select|textarea)\b([^>]*)>/g)].filter(
    (m) => !/type="(hidden|submit)"/.test(m[2] as string),
  );
  return controls
    .map((m) => /id="([^"]+)"/.exec(m[2] as string)?.[1] ?? `(no id) ${m[0]}`)
    .filter((id) => !labelled.has(id));
}

async function pagesFor() {
  const grant = await grantWithRefresh();
  return {
    grant,
    everyone: [
      "/console/applications",
      `/console/applications/${grant.client.client_id}`,
      "/console/users",
      `/console/users/${grant.user.id}`,
      "/console/keys",
      "/console/events",
      "/console/administrators",
    ],
    changeOnly: [
      "/console/applications/new",
      `/console/applications/${grant.client.client_id}/delete`,
      "/console/users/new",
      `/console/users/${grant.user.id}/delete`,
    ],
  };
}

describe("the console's pages", () => {
  it("render for an admin in the shell (nav, who is signed in, sign-out), each control labelled", async () => {
    const { everyone, changeOnly } = await pagesFor();
    for (const path of [...everyone, ...changeOnly]) {
      const html = await admin.page(path);
      expect(html, path).toContain('<nav class="sections" aria-label="Console sections">');
      expect(html, path).toMatch(/id="signed-in-as">admin-[0-9a-f]{8} \(admin\)</);
      expect(html, path).toContain('<form method="post" action="/console/sign-out">');
      expect(unlabelled(html), path).toEqual([]);
    }
    const keysPage = await admin.page("/console/keys");
    expect(keysPage).toContain('aria-current="page"');
  });

  it("render for a viewer without a single form or button that changes something", async () => {
    const { everyone, grant } = await pagesFor();
    for (const path of everyone) {
      const html = await viewer.page(path);
      expect(html, path).toMatch(/\(viewer\)</);
      expect(postForms(html), path).toEqual([]);
      expect(html, path).not.toMatch(
        /id="(new-application|new-user|delete-user|delete-application)"/,
      );
    }
    // What the form would show, read-only.
    const app = await viewer.page(`/console/applications/${grant.client.client_id}`);
    expect(app).toContain('id="refresh-policy-summary"');
    expect(app).toContain("provider default (rotate)");
  });

  it("that exist only to change something tell a viewer so (403), as a page", async () => {
    const { changeOnly } = await pagesFor();
    for (const path of changeOnly) {
      const html = await viewer.page(path, 403);
      expect(html, path).toContain("Your role is viewer");
    }
  });

  it("answer an unknown page or record with a 404 page in the shell, never JSON", async () => {
    for (const path of [
      "/console/nothing-here",
      "/console/users/00000000-0000-4000-8000-000000000000",
      "/console/applications/no-such-client",
    ]) {
      const html = await admin.page(path, 404);
      expect(html, path).toContain('id="error-description"');
      expect(html, path).toContain('<nav class="sections"');
    }
  });

  it("are never cached, framed, or allowed a script or a form to another origin", async () => {
    const res = await admin.request("/console/users");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    const csp = res.headers.get("content-security-policy") as string;
    for (const directive of ["script-src 'none'", "form-action 'self'", "frame-ancestors 'none'"])
      expect(csp).toContain(directive);
  });
});
