/**
 * The console's main pages in light and dark on a desktop, and on a phone:
 * each checked (names, contrast, no horizontal scrolling, no console error,
 * nothing from another origin) and photographed for the README
 * (docs/screenshots/console-<page>-<light|dark|mobile>.png).
 */
import assert from "node:assert/strict";
import { check, checkClean, DESKTOP, MOBILE, screenshot, step } from "../harness.mjs";
import { DEMO } from "../oauth.mjs";
import { adminApi, inspect, member, openConsole, signIn } from "./support.mjs";

const VARIANTS = [
  { name: "light", options: { viewport: DESKTOP, colorScheme: "light" } },
  { name: "dark", options: { viewport: DESKTOP, colorScheme: "dark" } },
  {
    name: "mobile",
    options: { viewport: MOBILE, colorScheme: "light", isMobile: true, hasTouch: true },
  },
];

/** The pages photographed, by the address an operator would open (after the walks). */
async function pages(origin, application) {
  const user = await adminApi(origin, "GET", `/admin/users?username=${member(777).username}`);
  assert.equal(user.status, 200);
  return [
    { name: "applications", path: "/console/applications", heading: "Applications" },
    {
      name: "application",
      path: `/console/applications/${encodeURIComponent(application.clientId)}`,
      heading: application.name,
      show: "#refresh-policy",
    },
    { name: "users", path: "/console/users?q=member-04&by=username", heading: "Users" },
    {
      name: "user",
      path: `/console/users/${encodeURIComponent(user.body.id)}`,
      heading: member(777).username,
      show: "#grants-title",
    },
    { name: "keys", path: "/console/keys", heading: "Signing keys" },
    { name: "events", path: "/console/events", heading: "Security events" },
  ];
}

export async function tour(browser, origin, application) {
  const list = await pages(origin, application);
  for (const variant of VARIANTS) {
    const session = await openConsole(browser, origin, variant.options);
    const { page, context, problems } = session;
    try {
      if (variant.name === "dark")
        await check("dark: the console follows prefers-color-scheme: dark", async () => {
          assert.ok(await page.evaluate(() => matchMedia("(prefers-color-scheme: dark)").matches));
        });
      await page.goto(new URL("/console/sign-in", origin).href);
      await inspect(session, `sign-in (${variant.name})`);
      await screenshot(page, `console-sign-in-${variant.name}`);
      await step(`${variant.name}: the operator signs in`, () =>
        signIn(page, origin, DEMO.administrator),
      );
      for (const { name, path, heading, show } of list) {
        await page.goto(new URL(path, origin).href);
        await page.getByRole("heading", { name: heading, level: 1 }).waitFor();
        await inspect(session, `${name} (${variant.name})`);
        // The part of a long page the picture is for (the refresh policy, the grants).
        if (show) await page.locator(show).evaluate((el) => el.scrollIntoView());
        await screenshot(page, `console-${name}-${variant.name}`);
      }
      if (variant.name === "dark")
        await check("dark: the console's panels are dark", async () => {
          const bg = await page
            .locator(".table-wrap")
            .first()
            .evaluate((el) => getComputedStyle(el.querySelector("table")).backgroundColor);
          const [r, g, b] = bg.match(/\d+/g).map(Number);
          assert.ok(r + g + b < 3 * 80, `table background ${bg}`);
        });
      await checkClean(problems, `console tour (${variant.name})`);
    } finally {
      await context.close();
    }
  }
}
