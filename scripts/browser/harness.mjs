/**
 * What every browser walk shares: the Chromium it drives, the viewports, the
 * named checks (TAP-like lines, failures counted, never thrown past a check),
 * browser contexts that record console errors and requests to other origins,
 * and screenshots.
 */
import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOT_DIR =
  process.env.SCREENSHOT_DIR === "none"
    ? undefined
    : resolve(ROOT, process.env.SCREENSHOT_DIR ?? "docs/screenshots");
// Without the background-networking flags Chromium reaches out to Google
// services, which a closed network refuses (and which we do not want anyway).
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export const DESKTOP = { width: 1024, height: 768 };
export const MOBILE = { width: 390, height: 844 };
/** WCAG 2.x, success criterion 1.4.3: normal text needs 4.5:1. */
export const MIN_CONTRAST = 4.5;

export const results = { passed: 0, failures: [] };

/** One named check: logged as a TAP-like line, a failure collected, never thrown past here. */
export async function check(name, fn) {
  try {
    await fn();
    results.passed++;
    console.log(`ok - ${name}`);
    return true;
  } catch (error) {
    results.failures.push(name);
    console.log(`not ok - ${name}\n  ${String(error?.message ?? error).replace(/\n/g, "\n  ")}`);
    return false;
  }
}

/**
 * A step the rest of a walk depends on: a failure is recorded like a check's
 * and then stops the walk (its later steps would only fail for this reason).
 */
export async function step(name, fn) {
  let value;
  const ok = await check(name, async () => {
    value = await fn();
  });
  if (!ok) throw new StepFailed(name);
  return value;
}

export class StepFailed extends Error {
  constructor(name) {
    super(`stopped after the failed step "${name}"`);
  }
}

/**
 * A walk: its own function, so that a failed step ends it and not the whole
 * run. Any other exception is recorded as one failure of the walk.
 */
export async function walk(name, fn) {
  console.log(`# ${name}`);
  try {
    await fn();
  } catch (error) {
    if (error instanceof StepFailed) {
      console.log(`# ${name}: ${error.message}`);
      return;
    }
    results.failures.push(`${name}: could not complete`);
    console.log(`not ok - ${name}: could not complete\n  ${error?.stack ?? error}`);
  }
}

const FAILED_TO_LOAD = /^Failed to load resource: the server responded with a status of (\d+)/;

/**
 * A browser context that records console errors and warnings and requests to
 * other origins. A refused form (400, 401, 403, 409, 429…) is answered with
 * its status, and Chromium logs every non-2xx document as "Failed to load
 * resource"; that exact line is allowed only for a document the walk said it
 * expected to be refused (`expectRefusal`), with that status at that URL.
 */
export async function openContext(browser, origin, options) {
  const context = await browser.newContext({ deviceScaleFactor: 1, ...options });
  // Each step takes well under a second; fail fast rather than after 30 s.
  context.setDefaultTimeout(10_000);
  const problems = { console: [], foreign: [] };
  const expected = new Set();
  let expecting = [];
  let lastDocument;
  context.on("request", (req) => {
    const url = new URL(req.url());
    if (url.origin !== origin) problems.foreign.push(req.url());
  });
  context.on("response", (res) => {
    if (res.request().resourceType() !== "document") return;
    lastDocument = { url: res.url(), status: res.status() };
    if (expecting.includes(res.status())) expected.add(`${res.status()} ${res.url()}`);
  });
  context.on("console", (msg) => {
    if (msg.type() !== "error" && msg.type() !== "warning") return;
    const status = FAILED_TO_LOAD.exec(msg.text());
    if (status && expected.has(`${status[1]} ${msg.location().url}`)) return;
    problems.console.push(`${msg.text()} (${msg.location().url})`);
  });
  context.on("weberror", (err) => problems.console.push(String(err.error())));
  const page = await context.newPage();
  /** Runs `fn`, during which a document answered with one of `statuses` is an expected refusal. */
  const expectRefusal = async (statuses, fn) => {
    expecting = [statuses].flat();
    try {
      return await fn();
    } finally {
      expecting = [];
    }
  };
  /** The last document the context loaded: its URL and status. */
  const documentLoaded = () => lastDocument;
  return { context, page, problems, expectRefusal, documentLoaded };
}

export async function checkClean(problems, label) {
  await check(`${label}: no console errors or warnings (CSP violations included)`, () => {
    assert.deepEqual(problems.console, []);
  });
  await check(`${label}: no request leaves the worker's origin`, () => {
    assert.deepEqual(problems.foreign, []);
  });
}

export async function screenshot(page, name) {
  if (!SCREENSHOT_DIR) return;
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: false });
}
