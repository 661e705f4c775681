import type { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { csrf } from "hono/csrf";
import { createMiddleware } from "hono/factory";
import { administratorCount, createFirstAdministrator } from "../administrators/accounts";
import { adminToken, isAdminToken } from "../administrators/admin-token";
import { ABSOLUTE_SECONDS, administrators } from "../administrators/administrators";
import { ADMIN_TOKEN_ACTOR, mayChange } from "../administrators/model";
import { OAuthError } from "../errors";
import { signInAdministrator } from "../http/administrator-sign-in";
import { readForm } from "../http/form";
import { clientAuthBlocked, noteClientAuthFailure, tooManyFailures } from "../http/rate-limits";
import { sha256, timingSafeEqual } from "../lib/bytes";
import { FieldError } from "../lib/json-fields";
import { securityEvent, withActor } from "../log";
import { renderPage } from "../ui/render";
import { CONSOLE, type ConsoleContext, type ConsoleEnv } from "./context";
import { SetupPage, SignInPage } from "./sign-in-pages";

/**
 * Who is at the console, and whether their form may act.
 *
 * - A session: the `__Host-ets_console` cookie (HttpOnly, Secure, SameSite
 *   Strict, this host only) holds a random id; the Administrators object
 *   keeps its hash, its administrator and its CSRF token, and ends it after
 *   30 idle minutes, 12 hours, sign-out, or a change to its administrator's
 *   password, role or account. Separate from end users' sessions: another
 *   cookie, another object, another sign-in.
 * - Every POST: Hono's Origin / Sec-Fetch-Site check, then (but for the
 *   sign-in and setup forms, which have no session yet) the session's CSRF
 *   token in the `_csrf` field, then the role: a viewer may send no form but
 *   sign-out. So no handler checks a role, and no mutating route is forgotten.
 */

const COOKIE = "__Host-ets_console";
/** The largest console form: an application's, with a JWKS pasted into it. */
const FORM_LIMIT = 64 * 1024;
const SIGN_IN = `${CONSOLE}/sign-in`;
const SETUP = `${CONSOLE}/setup`;
const SIGN_OUT = `${CONSOLE}/sign-out`;
const NO_SESSION_PATHS = new Set([SIGN_IN, SETUP]);

const sameOriginOnly = csrf();

const refused = (description: string) =>
  new OAuthError("access_denied", description, { status: 403 });

const reads = (c: ConsoleContext) => c.req.method === "GET" || c.req.method === "HEAD";

/** Where to go after signing in: a console page of this site, nothing else. */
function safeNext(next: string | undefined): string {
  return next && /^\/console(?:[/?][A-Za-z0-9._~%/?=&+-]*)?$/.test(next) && !next.includes("//")
    ? next
    : CONSOLE;
}

export const consoleAuth = createMiddleware<ConsoleEnv>(async (c, next) => {
  if (!reads(c)) {
    try {
      await sameOriginOnly(c, async () => {});
    } catch {
      throw refused("This form was not sent from this console's own page.");
    }
    c.set("form", await readForm(c.req.raw, FORM_LIMIT));
  }
  if (NO_SESSION_PATHS.has(c.req.path)) return next();

  const id = getCookie(c, COOKIE);
  const session = id && id.length <= 64 ? await administrators(c.env).session(id) : undefined;
  if (!session) {
    if (id) deleteCookie(c, COOKIE, { path: "/", secure: true });
    const url = new URL(c.req.url);
    const back = reads(c) ? `?next=${encodeURIComponent(url.pathname + url.search)}` : "";
    return c.redirect(`${SIGN_IN}${back}`, 303);
  }
  c.set("administrator", session.administrator);
  c.set("csrfToken", session.csrf);
  if (!reads(c)) {
    const presented = c.get("form").get("_csrf") ?? "";
    if (!timingSafeEqual(await sha256(presented), await sha256(session.csrf)))
      throw refused("This form has expired or was not sent from the console. Reload the page.");
    if (!mayChange(session.administrator) && c.req.path !== SIGN_OUT)
      throw refused("Your role is viewer: you may look at everything here, and change nothing.");
  }
  // Every admin action of the request names who did it (src/log.ts, the security events).
  await withActor(session.administrator.username, next);
});

function openSession(c: ConsoleContext, id: string): void {
  setCookie(c, COOKIE, id, {
    httpOnly: true,
    secure: true,
    sameSite: "Strict",
    path: "/",
    maxAge: ABSOLUTE_SECONDS,
  });
}

async function signIn(c: ConsoleContext): Promise<Response> {
  const form = c.get("form");
  const username = (form.get("username") ?? "").trim();
  const password = form.get("password") ?? "";
  const next = safeNext(form.get("next"));
  const again = (error: string, status: number) =>
    renderPage(c, <SignInPage next={next} username={username} error={error} />, status);
  if (!username || !password) return again("Enter your administrator name and password.", 400);
  const limited = await signInAdministrator(c, username, password, true);
  if (limited.refused || limited.overLimit)
    return again("Too many sign-in attempts from your network. Wait a minute and try again.", 429);
  const { result } = limited;
  if (!result.ok) {
    if (result.reason === "locked")
      return again(
        `Too many failed attempts. Try again in ${Math.ceil(result.retryAfter / 60)} minute${result.retryAfter > 60 ? "s" : ""}.`,
        429,
      );
    return again("The administrator name or password is incorrect.", 401);
  }
  if (result.session) openSession(c, result.session.id);
  return c.redirect(next, 303);
}

async function setUp(c: ConsoleContext): Promise<Response> {
  if ((await administratorCount(c.env)) > 0) return c.redirect(SIGN_IN, 303);
  const form = c.get("form");
  const username = (form.get("username") ?? "").trim();
  const again = (error: string, status: number) =>
    renderPage(c, <SetupPage username={username} error={error} />, status);
  // The token can be guessed at: failures count like a wrong admin API token.
  if (clientAuthBlocked(c)) throw tooManyFailures();
  const expected = adminToken(c.env);
  if (!expected || !(await isAdminToken(expected, form.get("admin_token") ?? ""))) {
    securityEvent("admin.auth_failed", { path: c.req.path });
    if (await noteClientAuthFailure(c)) throw tooManyFailures();
    return again(
      expected ? "That is not this deployment's ADMIN_TOKEN." : "ADMIN_TOKEN is not set.",
      401,
    );
  }
  const password = form.get("password") ?? "";
  try {
    // Proven by the ADMIN_TOKEN: its holder is who acted.
    await withActor(ADMIN_TOKEN_ACTOR.username, () =>
      createFirstAdministrator(c.env, { username, password }),
    );
  } catch (error) {
    if (error instanceof FieldError) return again(error.description, 400);
    throw error;
  }
  const limited = await signInAdministrator(c, username, password, true);
  const session = !limited.refused && limited.result.ok ? limited.result.session : undefined;
  if (!session) return c.redirect(SIGN_IN, 303);
  openSession(c, session.id);
  return c.redirect(CONSOLE, 303);
}

/** Sign-in, sign-out and first-run setup; `consoleAuth` runs in front of them too. */
export function consoleSignInRoutes(app: Hono<ConsoleEnv>): void {
  app.get(SIGN_IN, async (c) => {
    if ((await administratorCount(c.env)) === 0) return c.redirect(SETUP, 303);
    const notice = c.req.query("signed_out") !== undefined ? "You have signed out." : undefined;
    return renderPage(
      c,
      <SignInPage next={safeNext(c.req.query("next"))} {...(notice ? { notice } : {})} />,
    );
  });
  app.post(SIGN_IN, signIn);
  app.get(SETUP, async (c) =>
    (await administratorCount(c.env)) > 0 ? c.redirect(SIGN_IN, 303) : renderPage(c, <SetupPage />),
  );
  app.post(SETUP, setUp);
  app.post(SIGN_OUT, async (c) => {
    const id = getCookie(c, COOKIE);
    if (id) await administrators(c.env).endSession(id);
    deleteCookie(c, COOKIE, { path: "/", secure: true });
    return c.redirect(`${SIGN_IN}?signed_out`, 303);
  });
}
