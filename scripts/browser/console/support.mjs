/**
 * What the console walks share: the admin API (for what an operator would
 * have done before, such as creating 1,000 users), signing in to the
 * console, the checks every visited console page must pass, and moving focus
 * with the keyboard alone.
 */
import assert from "node:assert/strict";
import { check, DESKTOP, openContext } from "../harness.mjs";
import { checkConsolePage } from "../looks.mjs";
import { DEMO } from "../oauth.mjs";

/** The admin JSON API with the development ADMIN_TOKEN; answers the status and the JSON body. */
export async function adminApi(origin, method, path, body) {
  const res = await fetch(new URL(path, origin), {
    method,
    headers: {
      Authorization: `Bearer ${DEMO.adminToken}`,
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** The walks' users: member-0000 … member-0999, each with an email that is not their name. */
export const MEMBER_PASSWORD = "member-password";
export const member = (n) => {
  const digits = String(n).padStart(4, "0");
  return {
    username: `member-${digits}`,
    email: `person${digits}@walk.example`,
    password: MEMBER_PASSWORD,
  };
};

/**
 * Creates `count` users through POST /admin/users, `parallel` at a time
 * (each costs a PBKDF2 hash in the worker). Answers the seconds it took.
 */
export async function createMembers(origin, count, parallel) {
  const started = performance.now();
  for (let first = 0; first < count; first += parallel) {
    const batch = [];
    for (let n = first; n < Math.min(count, first + parallel); n++) {
      const { username, email, password } = member(n);
      batch.push(
        adminApi(origin, "POST", "/admin/users", {
          username,
          password,
          name: `Member ${n}`,
          email,
        }).then(({ status, body }) => {
          if (status !== 201)
            throw new Error(`POST /admin/users ${username}: ${status} ${JSON.stringify(body)}`);
        }),
      );
    }
    await Promise.all(batch);
  }
  return (performance.now() - started) / 1000;
}

/** The console's operator context: a desktop browser in the light scheme. */
export const openConsole = (browser, origin, options = {}) =>
  openContext(browser, origin, { viewport: DESKTOP, colorScheme: "light", ...options });

/**
 * Signs in at /console/sign-in by the fields' labels, as an administrator
 * would; the console then shows its first section, Applications.
 */
export async function signIn(page, origin, who) {
  await page.goto(new URL("/console/sign-in", origin).href);
  await page.getByLabel("Administrator name").fill(who.username);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Applications", level: 1 }).waitFor();
}

/**
 * The page the walk has reached: it answered 200 (unless `status` says the
 * walk expected a refusal) and passes every console page check.
 */
export async function inspect(session, label, status = 200) {
  await check(`${label}: the page answered ${status}`, () => {
    assert.equal(session.documentLoaded()?.status, status, session.documentLoaded()?.url);
  });
  await checkConsolePage(session.page, label);
}

/** Follows a link of the console's section navigation (pages link "Users" in their text too). */
export async function openSection(page, name) {
  await page
    .getByRole("navigation", { name: "Console sections" })
    .getByRole("link", { name, exact: true })
    .click();
  await page.getByRole("heading", { name, level: 1 }).waitFor();
}

/** The shell's one-line notice of what the last action did. */
export async function notice(page) {
  return (await page.locator("#notice").textContent())?.trim();
}

/** The rows of a table (by id) as arrays of cell texts. */
export function tableRows(page, id) {
  return page
    .locator(`table#${id} tbody tr`)
    .evaluateAll((rows) =>
      rows.map((row) => [...row.querySelectorAll("td")].map((td) => td.textContent.trim())),
    );
}

/** What has keyboard focus, and whether it is visibly marked (outline, and its contrast). */
function focusState() {
  const el = document.activeElement;
  if (!el || el === document.body) return { none: true };
  const style = getComputedStyle(el);
  const parse = (css) => (css.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => {
    const lin = (c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  // The ring is drawn outside the element (outline-offset): against what is behind it.
  let bg = [255, 255, 255];
  for (let e = el.parentElement; e; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor;
    const alpha = c.startsWith("rgba") ? Number(c.match(/[\d.]+/g)[3]) : 1;
    if (alpha >= 0.99) {
      bg = parse(c);
      break;
    }
  }
  const [hi, lo] = [lum(parse(style.outlineColor)), lum(bg)].sort((x, y) => y - x);
  const box = el.getBoundingClientRect();
  return {
    none: false,
    tag: el.tagName.toLowerCase(),
    id: el.id,
    name: (el.getAttribute("aria-label") ?? el.textContent ?? el.value ?? "").trim().slice(0, 60),
    outline: style.outlineStyle,
    width: Number.parseFloat(style.outlineWidth),
    ringContrast: (hi + 0.05) / (lo + 0.05),
    inViewport: box.bottom > 0 && box.right > 0 && box.top < innerHeight && box.left < innerWidth,
  };
}

const describeFocus = (f) => `<${f.tag}${f.id ? `#${f.id}` : ""}> "${f.name}"`;

/**
 * Presses Tab (or Shift+Tab) until the focused element matches `wanted`, at
 * most `max` times. Every element focused on the way must show its focus: an
 * outline at least 2 px wide whose colour has 3:1 against what is behind it
 * (WCAG 2.4.7 and 1.4.11), inside the viewport (scrolled there). Throws,
 * naming the stops, when the target is never reached or a stop is unmarked.
 */
export async function tabTo(page, wanted, { back = false, max = 60 } = {}) {
  const unmarked = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
    const focus = await page.evaluate(focusState);
    if (focus.none) continue;
    const marked =
      focus.outline !== "none" && focus.width >= 2 && focus.ringContrast >= 3 && focus.inViewport;
    if (!marked)
      unmarked.push(
        `${describeFocus(focus)}: outline ${focus.outline} ${focus.width}px, ${focus.ringContrast.toFixed(2)}:1${focus.inViewport ? "" : ", outside the viewport"}`,
      );
    if (wanted(focus)) {
      assert.deepEqual(unmarked, [], "every focused element shows its focus");
      return focus;
    }
  }
  throw new Error(`focus never reached the target in ${max} presses`);
}
