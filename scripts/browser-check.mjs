#!/usr/bin/env node
/**
 * The login and consent pages, looked at in a real browser (headless Chromium
 * driven by playwright-core).
 *
 * It starts the service as a developer would (`wrangler dev` with
 * ENVIRONMENT=development, a free port and a throw-away --persist-to dir, so
 * the dev seed creates the demo clients and user), then walks the
 * authorization code flow with PKCE as a person would: a wrong password, a
 * keyboard-only sign-in, the consent page, Allow (and the code redeemed at
 * /token), Deny (access_denied). On every page it runs visual sanity checks
 * that can fail (button visible and in the viewport, card centred, no
 * horizontal scrolling, WCAG text contrast, no console errors, no request to
 * any other origin) and writes viewport-sized screenshots to docs/screenshots.
 *
 *   npm run test:browser
 *
 * Environment: CHROMIUM_PATH (default /usr/bin/chromium), SCREENSHOT_DIR
 * (default docs/screenshots; "none" skips writing them).
 * Exit code 0 when every check passed, 1 otherwise.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOT_DIR =
  process.env.SCREENSHOT_DIR === "none"
    ? undefined
    : resolve(ROOT, process.env.SCREENSHOT_DIR ?? "docs/screenshots");
// Without the background-networking flags Chromium reaches out to Google
// services, which a closed network refuses (and which we do not want anyway).
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const DEMO = {
  confidential: { clientId: "demo-confidential", secret: "demo-confidential-secret" },
  public: { clientId: "demo-public" },
  user: { username: "demo", password: "demo-password" },
};
const SCOPES = ["openid", "profile", "email", "offline_access"];
/** The titles the consent page gives these scopes (src/browser/pages/consent.tsx). */
const SCOPE_TITLES = [
  "Know who you are",
  "See your profile",
  "See your email address",
  "Stay connected",
];
const DESKTOP = { width: 1024, height: 768 };
const MOBILE = { width: 390, height: 844 };
/** WCAG 2.x, success criterion 1.4.3: normal text needs 4.5:1. */
const MIN_CONTRAST = 4.5;

const started = performance.now();
let passed = 0;
const failures = [];

/** One named check: logged as TAP-like lines, failures collected, never thrown past here. */
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (error) {
    failures.push(name);
    console.log(`not ok - ${name}\n  ${String(error?.message ?? error).replace(/\n/g, "\n  ")}`);
  }
}

// ---------------------------------------------------------------- the server

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

async function startWorker(port, persistTo) {
  const bin = join(ROOT, "node_modules", ".bin", "wrangler");
  const args = ["dev", "--var", "ENVIRONMENT:development", "--port", String(port)];
  args.push("--persist-to", persistTo);
  const child = spawn(bin, args, {
    cwd: ROOT,
    // Its own process group, so that stopping it stops workerd too.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      // No calls to Cloudflare for the Request.cf placeholder or for telemetry.
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_METRICS: "false",
      NO_COLOR: "1",
    },
  });
  let log = "";
  child.stdout.on("data", (d) => {
    log += d;
  });
  child.stderr.on("data", (d) => {
    log += d;
  });
  const exited = new Promise((r) => child.once("exit", r));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  };
  // The seed registers `${origin}/dev/callback` for the origin of the first
  // request, so the first request goes to the origin the browser will use.
  const origin = `http://localhost:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${origin}/.well-known/openid-configuration`);
      if (res.ok && (await res.json()).issuer === origin) return { origin, stop, log: () => log };
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`wrangler dev did not answer discovery within 60 s:\n${log}`);
}

// ----------------------------------------------------------------- OAuth bits

const b64url = (bytes) => Buffer.from(bytes).toString("base64url");

function pkce() {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash("sha256").update(verifier).digest());
  return { verifier, challenge };
}

function authorizeUrl(origin, clientId, extra = {}) {
  const { verifier, challenge } = pkce();
  const state = b64url(randomBytes(12));
  const nonce = b64url(randomBytes(12));
  const url = new URL("/authorize", origin);
  for (const [k, v] of Object.entries({
    response_type: "code",
    client_id: clientId,
    redirect_uri: `${origin}/dev/callback`,
    scope: SCOPES.join(" "),
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...extra,
  })) {
    url.searchParams.set(k, v);
  }
  return { url: url.href, verifier, state, nonce };
}

function jwtPayload(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));
}

// -------------------------------------------------- what a page must satisfy

/**
 * Reads layout and colours from the live page. Contrast follows WCAG 2.x
 * (relative luminance of sRGB): the text colour against the first opaque
 * background behind it.
 */
function measurePage(minContrast) {
  const parse = (css) => {
    const m = css.match(/rgba?\(([^)]+)\)/);
    if (!m) return undefined;
    const [r, g, b, a = 1] = m[1]
      .split(/[\s,/]+/)
      .filter(Boolean)
      .map(Number);
    return { r, g, b, a };
  };
  const luminance = ({ r, g, b }) => {
    const lin = (c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a >= 0.99) return c;
    }
    return (
      parse(getComputedStyle(document.documentElement).backgroundColor) ?? {
        r: 255,
        g: 255,
        b: 255,
      }
    );
  };
  const contrast = (el) => {
    const fg = parse(getComputedStyle(el).color);
    const bg = background(el);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const describe = (el) =>
    `<${el.tagName.toLowerCase()}${el.className ? `.${el.className}` : ""}> "${(el.textContent ?? "").trim().slice(0, 40)}"`;

  // Every element that renders its own text (a non-empty text node child) or is a control.
  const textElements = [...document.body.querySelectorAll("*")].filter((el) => {
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden") return false;
    if (el.matches("input:not([type=hidden]), button")) return true;
    return [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  });
  const lowContrast = textElements
    .map((el) => ({ el: describe(el), ratio: contrast(el) }))
    .filter((x) => x.ratio < minContrast)
    .map((x) => `${x.el} ${x.ratio.toFixed(2)}:1`);

  const main = document.querySelector("main")?.getBoundingClientRect();
  const primary = document.querySelector("button[type=submit]:not(.secondary)");
  const box = primary?.getBoundingClientRect();
  return {
    viewport: { width: window.innerWidth, height: window.innerHeight },
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    card: main && { left: main.left, right: window.innerWidth - main.right, width: main.width },
    primary: primary && {
      text: primary.textContent.trim(),
      box: { left: box.left, top: box.top, right: box.right, bottom: box.bottom },
      contrast: contrast(primary),
    },
    lowContrast,
    fontSize: Number.parseFloat(getComputedStyle(document.body).fontSize),
  };
}

/** The visual sanity checks every page of the flow must pass. */
async function checkLooks(page, label) {
  const m = await page.evaluate(measurePage, MIN_CONTRAST);
  await check(`${label}: the primary button is visible and inside the viewport`, async () => {
    assert.ok(m.primary, "there is a primary (submit) button");
    assert.ok(await page.locator("button[type=submit]:not(.secondary)").isVisible());
    const { box } = m.primary;
    assert.ok(
      box.left >= 0 &&
        box.top >= 0 &&
        box.right <= m.viewport.width &&
        box.bottom <= m.viewport.height,
      `button box ${JSON.stringify(box)} outside viewport ${JSON.stringify(m.viewport)}`,
    );
  });
  await check(`${label}: the card is centred horizontally`, () => {
    assert.ok(m.card, "there is a <main> card");
    assert.ok(
      Math.abs(m.card.left - m.card.right) <= 2,
      `left margin ${m.card.left}px, right margin ${m.card.right}px`,
    );
  });
  await check(`${label}: no horizontal scrolling`, () => {
    assert.ok(m.scrollWidth <= m.clientWidth, `scrollWidth ${m.scrollWidth} > ${m.clientWidth}`);
  });
  await check(`${label}: the primary button's text contrast is at least ${MIN_CONTRAST}:1`, () => {
    assert.ok(
      m.primary.contrast >= MIN_CONTRAST,
      `"${m.primary.text}" has ${m.primary.contrast.toFixed(2)}:1`,
    );
  });
  await check(`${label}: all text has a contrast of at least ${MIN_CONTRAST}:1`, () => {
    assert.deepEqual(m.lowContrast, []);
  });
}

/** A browser context that records console errors and requests to other origins. */
async function openContext(browser, origin, options) {
  const context = await browser.newContext({ deviceScaleFactor: 1, ...options });
  // Each step takes well under a second; fail fast rather than after 30 s.
  context.setDefaultTimeout(10_000);
  const problems = { console: [], foreign: [] };
  context.on("request", (req) => {
    const url = new URL(req.url());
    if (url.origin !== origin) problems.foreign.push(req.url());
  });
  // A failed sign-in is answered with its status (401, 429, …) and Chromium
  // logs every non-2xx document as "Failed to load resource"; only those
  // documents are expected, any other such line is a real failure.
  const documentStatuses = new Set();
  context.on("response", (res) => {
    if (res.request().resourceType() === "document") documentStatuses.add(res.status());
  });
  context.on("console", (msg) => {
    if (msg.type() !== "error" && msg.type() !== "warning") return;
    const status = /^Failed to load resource: the server responded with a status of (\d+)/.exec(
      msg.text(),
    );
    if (status && documentStatuses.has(Number(status[1])) && msg.location().url.startsWith(origin))
      return;
    problems.console.push(msg.text());
  });
  context.on("weberror", (err) => problems.console.push(String(err.error())));
  const page = await context.newPage();
  return { context, page, problems };
}

async function checkClean(problems, label) {
  await check(`${label}: no console errors or warnings (CSP violations included)`, () => {
    assert.deepEqual(problems.console, []);
  });
  await check(`${label}: no request leaves the worker's origin`, () => {
    assert.deepEqual(problems.foreign, []);
  });
}

async function screenshot(page, name) {
  if (!SCREENSHOT_DIR) return;
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: false });
}

// ------------------------------------------------------------------ the flows

/** Light scheme, confidential client: wrong password, keyboard-only sign-in, consent, Allow, /token. */
async function allowFlow(browser, origin) {
  const { context, page, problems } = await openContext(browser, origin, {
    viewport: DESKTOP,
    colorScheme: "light",
  });
  const request = authorizeUrl(origin, DEMO.confidential.clientId);
  await page.goto(request.url);

  await check("login: the heading says Sign in and names the application", async () => {
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.match(await page.locator("main").textContent(), /Demo Confidential App/);
  });
  await check("login: username and password are reachable by their labels", async () => {
    assert.ok(await page.getByLabel("Username").isVisible());
    assert.ok(await page.getByLabel("Password").isVisible());
    assert.equal(await page.getByLabel("Password").getAttribute("type"), "password");
    assert.equal(await page.getByLabel("Username").getAttribute("autocomplete"), "username");
  });
  await check("login: the username field has focus when the page opens", async () => {
    assert.equal(await page.evaluate(() => document.activeElement?.id), "username");
  });
  await checkLooks(page, "login (light)");
  await screenshot(page, "login-light");

  await page.getByLabel("Username").fill(DEMO.user.username);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await check(
    "login: a wrong password shows the error message and keeps the username",
    async () => {
      const alert = page.getByRole("alert");
      await alert.waitFor();
      assert.equal((await alert.textContent()).trim(), "The username or password is incorrect.");
      assert.equal(await page.getByLabel("Username").inputValue(), DEMO.user.username);
      assert.equal(await page.getByLabel("Password").inputValue(), "");
    },
  );
  await check(
    "login: after an error the password field has focus and is described by it",
    async () => {
      assert.equal(await page.evaluate(() => document.activeElement?.id), "password");
      const password = page.getByLabel("Password");
      assert.equal(await password.getAttribute("aria-invalid"), "true");
      const describedBy = await password.getAttribute("aria-describedby");
      assert.equal(await page.locator(`#${describedBy}`).getAttribute("role"), "alert");
    },
  );
  await checkLooks(page, "login with error (light)");
  await screenshot(page, "login-error-light");

  // Keyboard only from here: Shift+Tab, Tab, typing and Enter, no clicks.
  await check(
    "login: keyboard-only sign-in (Tab order username → password → Sign in, Enter)",
    async () => {
      await page.keyboard.press("Shift+Tab");
      assert.equal(await page.evaluate(() => document.activeElement?.id), "username");
      await page.keyboard.press("Tab");
      assert.equal(await page.evaluate(() => document.activeElement?.id), "password");
      await page.keyboard.type(DEMO.user.password);
      await page.keyboard.press("Tab");
      const focused = await page.evaluate(() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return {
          text: el?.textContent?.trim(),
          outline: style.outlineStyle,
          width: style.outlineWidth,
        };
      });
      assert.equal(focused.text, "Sign in");
      assert.ok(
        focused.outline !== "none" && Number.parseFloat(focused.width) >= 2,
        `the focused button shows a focus ring (outline ${focused.outline} ${focused.width})`,
      );
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: /Allow Demo Confidential App/ }).waitFor();
    },
  );

  await check("consent: it names the application, the user and every requested scope", async () => {
    const text = await page.locator("main").textContent();
    assert.match(text, /Signed in as\s+demo/);
    const items = await page
      .getByRole("list", { name: "Requested permissions" })
      .getByRole("listitem")
      .allInnerTexts();
    assert.equal(items.length, SCOPES.length);
    SCOPE_TITLES.forEach((title, i) => {
      assert.ok(items[i].startsWith(title), `item ${i} is "${items[i]}", expected "${title}…"`);
    });
  });
  await check("consent: it offers Allow and Deny buttons", async () => {
    assert.ok(await page.getByRole("button", { name: "Allow", exact: true }).isVisible());
    assert.ok(await page.getByRole("button", { name: "Deny", exact: true }).isVisible());
  });
  await checkLooks(page, "consent (light)");
  await screenshot(page, "consent-light");

  await page.getByRole("button", { name: "Allow", exact: true }).click();
  await page.waitForURL((url) => url.pathname === "/dev/callback");
  const callback = new URL(page.url());
  await check("allow: the browser lands on /dev/callback with a code and the same state", () => {
    assert.equal(callback.searchParams.get("error"), null);
    assert.match(callback.searchParams.get("code") ?? "", /^ac1\./);
    assert.equal(callback.searchParams.get("state"), request.state);
  });
  await check(
    "allow: the code redeems at /token with the PKCE verifier (RFC 7636 §4.5)",
    async () => {
      const basic = Buffer.from(
        `${DEMO.confidential.clientId}:${DEMO.confidential.secret}`,
      ).toString("base64");
      const res = await fetch(`${origin}/token`, {
        method: "POST",
        headers: {
          Authorization: `Basic ${basic}`,
          "Content-Type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          code: callback.searchParams.get("code") ?? "",
          redirect_uri: `${origin}/dev/callback`,
          code_verifier: request.verifier,
        }),
      });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.token_type, "Bearer");
      assert.match(body.refresh_token, /^rt1\./);
      assert.equal(jwtPayload(body.access_token).client_id, DEMO.confidential.clientId);
      const id = jwtPayload(body.id_token);
      assert.equal(id.aud, DEMO.confidential.clientId);
      assert.equal(id.nonce, request.nonce);
      assert.equal(id.iss, origin);
    },
  );
  await checkClean(problems, "light flow");
  await context.close();
}

/** Dark scheme, public client: error and consent screenshots, then Deny. */
async function denyFlow(browser, origin) {
  const { context, page, problems } = await openContext(browser, origin, {
    viewport: DESKTOP,
    colorScheme: "light",
  });
  await page.emulateMedia({ colorScheme: "dark" });
  await check("dark: the page follows prefers-color-scheme: dark", async () => {
    assert.ok(await page.evaluate(() => matchMedia("(prefers-color-scheme: dark)").matches));
  });
  const request = authorizeUrl(origin, DEMO.public.clientId);
  await page.goto(request.url);
  await page.getByLabel("Username").waitFor();
  await check("dark: the card is dark", async () => {
    const bg = await page.locator("main").evaluate((el) => getComputedStyle(el).backgroundColor);
    const [r, g, b] = bg.match(/\d+/g).map(Number);
    assert.ok(r + g + b < 3 * 80, `card background ${bg}`);
  });
  await checkLooks(page, "login (dark)");
  await screenshot(page, "login-dark");

  await page.getByLabel("Username").fill(DEMO.user.username);
  await page.getByLabel("Password").fill("wrong-again");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").waitFor();
  await checkLooks(page, "login with error (dark)");
  await screenshot(page, "login-error-dark");

  await page.getByLabel("Password").fill(DEMO.user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: /Allow Demo Public App/ }).waitFor();
  await checkLooks(page, "consent (dark)");
  await screenshot(page, "consent-dark");

  await page.getByRole("button", { name: "Deny", exact: true }).click();
  await page.waitForURL((url) => url.pathname === "/dev/callback");
  await check(
    "deny: the callback gets error=access_denied and the state (RFC 6749 §4.1.2.1)",
    () => {
      const url = new URL(page.url());
      assert.equal(url.searchParams.get("error"), "access_denied");
      assert.equal(url.searchParams.get("code"), null);
      assert.equal(url.searchParams.get("state"), request.state);
    },
  );
  await checkClean(problems, "dark flow");
  await context.close();
}

/** A 390 px wide phone: the same pages must fit without horizontal scrolling. */
async function mobileFlow(browser, origin) {
  const { context, page, problems } = await openContext(browser, origin, {
    viewport: MOBILE,
    colorScheme: "light",
    isMobile: true,
    hasTouch: true,
  });
  // prompt=consent: the user already allowed this client in the light flow.
  const request = authorizeUrl(origin, DEMO.confidential.clientId, { prompt: "consent" });
  await page.goto(request.url);
  await page.getByLabel("Username").waitFor();
  await checkLooks(page, "login (390px)");
  await screenshot(page, "login-mobile");

  await page.getByLabel("Username").fill(DEMO.user.username);
  await page.getByLabel("Password").fill(DEMO.user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: /Allow Demo Confidential App/ }).waitFor();
  await checkLooks(page, "consent (390px)");
  await screenshot(page, "consent-mobile");

  // The dev callback page shows a long code and a curl command: it must wrap.
  await page.getByRole("button", { name: "Allow", exact: true }).click();
  await page.waitForURL((url) => url.pathname === "/dev/callback");
  await check(
    "callback (390px): the code and the curl command wrap, no horizontal scrolling",
    async () => {
      const { scrollWidth, clientWidth } = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
      }));
      assert.ok(scrollWidth <= clientWidth, `scrollWidth ${scrollWidth} > ${clientWidth}`);
      assert.match(await page.locator("pre").textContent(), /code_verifier=/);
    },
  );
  await checkClean(problems, "390px flow");
  await context.close();
}

// ----------------------------------------------------------------------- main

async function main() {
  if (!existsSync(CHROMIUM)) {
    console.error(`browser check: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);
    process.exit(1);
  }
  if (SCREENSHOT_DIR) await mkdir(SCREENSHOT_DIR, { recursive: true });
  const persistTo = await mkdtemp(join(tmpdir(), "ets-browser-check-"));
  const port = await freePort();
  let worker;
  let browser;
  try {
    worker = await startWorker(port, persistTo);
    const ready = performance.now();
    console.log(
      `# wrangler dev ready at ${worker.origin} in ${((ready - started) / 1000).toFixed(1)} s`,
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    await allowFlow(browser, worker.origin);
    await denyFlow(browser, worker.origin);
    await mobileFlow(browser, worker.origin);
  } catch (error) {
    failures.push("the flow could not complete");
    console.log(`not ok - the flow could not complete\n  ${error?.stack ?? error}`);
    if (worker) console.log(`# wrangler dev output:\n${worker.log()}`);
  } finally {
    await browser?.close();
    await worker?.stop();
    await rm(persistTo, { recursive: true, force: true });
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (SCREENSHOT_DIR) console.log(`# screenshots in ${SCREENSHOT_DIR}`);
  console.log(`# ${passed} passed, ${failures.length} failed, ${seconds} s`);
  process.exit(failures.length ? 1 : 0);
}

await main();
