/**
 * Walk 4, keyboard only (walk 6 of the issue): an administrator signs in,
 * goes to Signing keys, rotates, and revokes the key that signed until then
 * (as if it were compromised), through its confirmation page, with Tab,
 * Shift+Tab, Enter and Space, no mouse. Every element focused on the way
 * shows a focus ring. Then the JWKS no longer lists the key, and an access
 * token it signed is refused at /userinfo.
 */
import assert from "node:assert/strict";
import { check, step } from "../harness.mjs";
import { DEMO, jwtPayload, signInAndAllow } from "../oauth.mjs";
import { inspect, notice, tableRows, tabTo } from "./support.mjs";

const header = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[0], "base64url").toString("utf8"));

/** The key table as { kid, state, alg } rows. */
async function keys(page) {
  return (await tableRows(page, "keys")).map(([kid, state, alg]) => ({
    kid,
    state: state.split(/\s/)[0],
    alg,
  }));
}

async function jwksKids(origin) {
  const res = await fetch(`${origin}/jwks`);
  assert.equal(res.status, 200);
  return (await res.json()).keys.map((k) => k.kid);
}

/** Polls `fn` until it stops throwing, for at most `seconds` (caches of a few seconds). */
async function eventually(fn, seconds) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export async function keyboardKeysWalk(browser, origin, session) {
  const { page } = session;
  // A token signed by the key about to be revoked.
  const tokens = await step("code flow: demo gets an access token signed by the current key", () =>
    signInAndAllow(browser, origin, DEMO.user, DEMO.confidential),
  );
  const signedBy = header(tokens.access_token).kid;
  await check("userinfo: the access token works before its key is revoked", async () => {
    const res = await fetch(`${origin}/userinfo`, {
      headers: { Authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).sub, jwtPayload(tokens.access_token).sub);
  });

  await page.goto(new URL("/console/sign-in", origin).href);
  await step("keyboard: sign in by typing, Tab between the fields, Enter", async () => {
    assert.equal(await page.evaluate(() => document.activeElement?.id), "username");
    await page.keyboard.type(DEMO.administrator.username);
    await tabTo(page, (f) => f.id === "password", { max: 1 });
    await page.keyboard.type(DEMO.administrator.password);
    await tabTo(page, (f) => f.tag === "button" && f.name === "Sign in", { max: 1 });
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Applications", level: 1 }).waitFor();
  });
  await step(
    "keyboard: the first Tab shows the skip link; Tab reaches Signing keys; Enter",
    async () => {
      const skip = await tabTo(page, () => true, { max: 1 });
      assert.equal(skip.name, "Skip to content");
      await tabTo(page, (f) => f.id === "nav-keys");
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: "Signing keys", level: 1 }).waitFor();
    },
  );
  await inspect(session, "signing keys");
  const before = await keys(page);
  await check("keys: the key that signed the token is the current one", () => {
    assert.ok(
      before.some((k) => k.kid === signedBy && k.state === "current"),
      JSON.stringify(before),
    );
  });

  await step("keyboard: Tab to Rotate now, Enter", async () => {
    await tabTo(page, (f) => f.id === "rotate-keys");
    await page.keyboard.press("Enter");
    await page.waitForURL((url) => url.searchParams.get("done") === "keys-rotated");
  });
  await inspect(session, "signing keys, rotated");
  await check(
    "keys: rotated; the old key is retiring (still published), a new one current",
    async () => {
      assert.match(await notice(page), /A new signing key signs access tokens now/);
      const after = await keys(page);
      const old = after.find((k) => k.kid === signedBy);
      assert.equal(old?.state, "retiring", JSON.stringify(after));
      assert.ok(
        after.some((k) => k.state === "current" && k.alg === old.alg && k.kid !== signedBy),
      );
      assert.ok((await jwksKids(origin)).includes(signedBy));
    },
  );

  await step("keyboard: Tab to the old key's Revoke…, Enter: the confirmation page", async () => {
    await tabTo(page, (f) => f.name === `Revoke key ${signedBy}`);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: `Revoke key ${signedBy}?` }).waitFor();
  });
  await inspect(session, "revoke a key (confirmation)");
  await check("revoke: the confirmation says what stops working", async () => {
    assert.match(
      await page.locator("#what-dies").textContent(),
      /every\s+access and ID token it signed is refused/,
    );
  });
  await step("keyboard: Tab past Revoke the key to Cancel, Shift+Tab back, Space", async () => {
    await tabTo(page, (f) => f.tag === "a" && f.name === "Cancel");
    await tabTo(page, (f) => f.id === "confirm-revoke", { back: true, max: 1 });
    await page.keyboard.press("Space");
    await page.waitForURL((url) => url.searchParams.get("done") === "key-revoked");
  });
  await inspect(session, "signing keys, one revoked");
  await check("keys: the key is revoked, and a Revoke… link no longer offered for it", async () => {
    assert.match(await notice(page), /The key was revoked/);
    const row = (await keys(page)).find((k) => k.kid === signedBy);
    assert.equal(row?.state, "revoked");
    assert.equal(await page.getByRole("link", { name: `Revoke key ${signedBy}` }).count(), 0);
  });
  await check("jwks: /jwks no longer lists the revoked key", () =>
    eventually(async () => {
      const kids = await jwksKids(origin);
      assert.ok(!kids.includes(signedBy), `${signedBy} in ${kids.join(", ")}`);
      assert.ok(kids.length > 0);
    }, 10),
  );
  await check("jwks: an access token the revoked key signed is refused at /userinfo", () =>
    eventually(async () => {
      const res = await fetch(`${origin}/userinfo`, {
        headers: { Authorization: `Bearer ${tokens.access_token}` },
      });
      assert.equal(res.status, 401, `userinfo answered ${res.status}`);
    }, 10),
  );
}
