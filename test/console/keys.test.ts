import { describe, expect, it } from "vitest";
import { call, json } from "../support/http";
import { ConsoleSession, followDone } from "./support";

/** The signing keys' page, over src/tokens/key-administration.ts (as /admin/keys). */

const admin = new ConsoleSession("admin");

const published = async () =>
  (await json<{ keys: { kid: string }[] }>(await call("/jwks"))).keys.map((k) => k.kid);

/** The kid of the first row in `state`. */
function kidIn(html: string, state: string): string {
  const row = [
    ...html.matchAll(
      /<tr><td><code>([^<]+)<\/code><\/td><td><span class="[^"]+" title="[^"]*">([a-z]+)</g,
    ),
  ].find((m) => m[2] === state);
  expect(row, `a ${state} key`).toBeDefined();
  return row?.[1] as string;
}

describe("the signing keys page", () => {
  it("lists each key with its state, and rotating makes the next key current", async () => {
    const before = await admin.page("/console/keys");
    expect(before).toMatch(/>current</);
    const current = kidIn(before, "current");
    const after = await followDone(admin, await admin.post("/console/keys/rotate"));
    expect(after).toContain("A new signing key signs access tokens now");
    expect(kidIn(after, "current")).not.toBe(current);
    expect(after).toContain(`<code>${current}</code>`); // retiring, still listed and published
    expect(await published()).toContain(current);
  });

  it("revokes a key after a confirmation: it leaves the JWKS and shows as revoked", async () => {
    const page = await admin.page("/console/keys");
    const kid = kidIn(page, "current");
    const confirm = await admin.page(`/console/keys/${kid}/revoke`);
    expect(confirm).toContain(`Revoke key ${kid}?`);
    expect(confirm).toContain("every access and ID token it signed is refused");
    const after = await followDone(admin, await admin.post(`/console/keys/${kid}/revoke`));
    expect(after).toContain("The key was revoked");
    expect(await published()).not.toContain(kid);
    expect(kidIn(after, "revoked")).toBeTruthy();
    await admin.page(`/console/keys/${kid}/revoke`, 404);
  });
});
