import { createMiddleware } from "hono/factory";
import { OAuthError } from "../errors";
import { readForm } from "../http/form";
import { sha256, timingSafeEqual, toHex } from "../lib/bytes";
import type { ConsoleEnv } from "./context";

/**
 * TEMPORARY stand-in for the lead's consoleAuth (src/console/auth.tsx), to
 * be deleted when it lands on main: the same contract (sets
 * `administrator` and `csrfToken`, refuses a POST without the `_csrf` field
 * or from a viewer), behind the admin bearer token, so it opens nothing.
 */
export const temporaryConsoleAuth = createMiddleware<ConsoleEnv>(async (c, next) => {
  const expected = c.env.ADMIN_TOKEN;
  const presented = /^Bearer (.+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
  if (!expected || !presented || !timingSafeEqual(await sha256(presented), await sha256(expected)))
    throw new OAuthError("access_denied", "Sign in to use the console.", { status: 401 });
  const role = c.req.header("x-console-role") === "viewer" ? "viewer" : "admin";
  const csrfToken = toHex(await sha256(`csrf:${expected}`)).slice(0, 32);
  c.set("administrator", { username: `temporary-${role}`, role });
  c.set("csrfToken", csrfToken);
  if (c.req.method === "POST") {
    const form = await readForm(c.req.raw, 64 * 1024);
    c.set("form", form);
    if (form.get("_csrf") !== csrfToken)
      throw new OAuthError("access_denied", "This form has expired; reload the page.", {
        status: 403,
      });
    if (role !== "admin")
      throw new OAuthError("access_denied", "Your role may look, not change.", { status: 403 });
  }
  await next();
});
