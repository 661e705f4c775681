import { lookUpClient } from "../clients/lookup";
import { isClientIdUrl } from "../clients/metadata-document";
import { readClient } from "../clients/registry";
import { LIMITS } from "../config";
import { invalidRequest } from "../errors";
import { removeUserApp } from "../families/user-grants";
import type { AppContext } from "../http/context";
import { readForm } from "../http/form";
import { clientAddress, limitedSignIn } from "../http/rate-limits";
import { nowSeconds } from "../lib/time";
import { audit, currentRequestId } from "../log";
import type { Params } from "../params";
import { PATHS } from "../paths";
import {
  clearSession,
  type LoginSession,
  readSession,
  writeSession,
} from "../sessions/login-session";
import { announceLogout, type LogoutReason } from "../sessions/logout-announcement";
import { renderPage } from "../ui/render";
import type { SessionRecord } from "../users/login-sessions";
import { hashPassword, passwordProblem } from "../users/passwords";
import type { AccountOverview } from "../users/self-service";
import { addressKey, usernameObject } from "../users/username";
import { type AppName, appRows } from "./account-rows";
import { renderLogin } from "./flow";
import { csrfToken, csrfValid } from "./interaction";
import { AccountPage } from "./pages/account";

/**
 * The user's own account page at /account (issue #17): the apps that hold a
 * grant for them, their login sessions, and a password change.
 *
 * - Without a session it is the login page (the same page and form as an
 *   authorization's, carrying an account interaction), then back here.
 * - Every change is a POST with the login pages' CSRF token, behind the
 *   same Origin check (./routes.tsx), and names nothing but a client id or a
 *   session id: the User object acts only on its own index and its own
 *   sessions, and only while the browser's session stands, so an id from
 *   another account changes nothing.
 * - Each change answers 303 back here with a one-line notice, chosen from
 *   the fixed list below (never text from the request).
 */

const NOTICES = {
  app_removed:
    "The app's access was removed. It must ask you again before it can use your account.",
  signed_out: "The session was signed out.",
  signed_out_this: "This browser was signed out.",
  signed_out_others: "Every other session was signed out.",
  signed_out_all: "You were signed out everywhere.",
  already_ended: "Nothing changed: that session had already ended.",
  password_changed:
    "Your password was changed. Every other session was signed out; this browser was signed in again.",
  password_changed_grants:
    "Your password was changed. Every other session was signed out and every app must ask you again; this browser was signed in again.",
  password_changed_signed_out: "Your password was changed. Sign in with the new one.",
} as const;
type Notice = keyof typeof NOTICES;

const noticeOf = (value: string | undefined): string | undefined =>
  value !== undefined && Object.hasOwn(NOTICES, value) ? NOTICES[value as Notice] : undefined;

const backHere = (c: AppContext, notice?: Notice) =>
  c.redirect(notice ? `${PATHS.account}?done=${notice}` : PATHS.account, 303);

const sessionRef = (session: LoginSession) => ({ sid: session.sid, version: session.version });

/** GET /account: the login page without a session (or one that ended), else the page. */
export async function accountPage(c: AppContext): Promise<Response> {
  const notice = noticeOf(c.req.query("done"));
  const session = await readSession(c);
  const overview =
    session && (await c.env.USER.getByName(session.sub).accountOverview(sessionRef(session)));
  if (!session || !overview) {
    if (session) clearSession(c);
    return renderLogin(c, undefined, { kind: "account" }, undefined, notice);
  }
  return renderAccount(c, session, overview, notice === undefined ? {} : { notice });
}

async function renderAccount(
  c: AppContext,
  session: LoginSession,
  overview: AccountOverview,
  shown: { notice?: string; passwordError?: string },
  status = 200,
): Promise<Response> {
  const clientIds = new Set([
    ...overview.grants.map((g) => g.client_id),
    ...overview.sessions.flatMap((s) => s.clients),
  ]);
  const names = new Map(
    await Promise.all([...clientIds].map(async (id) => [id, await appName(c, id)] as const)),
  );
  return renderPage(
    c,
    <AccountPage
      username={overview.username}
      apps={appRows(overview.grants, names)}
      sessions={overview.sessions.map((s) => sessionRow(s, session, names))}
      csrf={await csrfToken(c)}
      {...shown}
    />,
    status,
  );
}

function sessionRow(record: SessionRecord, mine: LoginSession, names: Map<string, AppName>) {
  return {
    sid: record.sid,
    current: record.sid === mine.sid,
    signedInAt: record.authTime,
    expires: Math.floor(record.expiresAt / 1000),
    apps: record.clients.map((id) => names.get(id)?.name ?? "Deleted application"),
  };
}

/**
 * An app's name as registered now (KV, not this isolate's copy: the page
 * must show a client deleted since as deleted). A Client ID Metadata
 * Document client is named by its document when it can be read, else by
 * its host; either way the page says where it is described.
 */
async function appName(c: AppContext, clientId: string): Promise<AppName> {
  if (!isClientIdUrl(clientId)) return { name: (await readClient(c.env, clientId))?.client_name };
  const describedAt = new URL(clientId).host;
  try {
    const client = await lookUpClient(c.env, c.get("config"), clientId);
    return { name: client?.client_name ?? describedAt, describedAt };
  } catch {
    return { name: describedAt, describedAt };
  }
}

/**
 * Every form's first steps: the body, its CSRF token, and the session. No
 * session (or one that ended: the User object says so later) sends the
 * browser back to /account, which asks for a sign-in.
 */
async function accountForm(
  c: AppContext,
): Promise<{ form: Params; session: LoginSession } | undefined> {
  const form = await readForm(c.req.raw, LIMITS.maxFormBytes);
  if (!(await csrfValid(c, form.get("csrf"))))
    throw invalidRequest("This form has expired or was altered. Open your account page again.");
  const session = await readSession(c);
  return session ? { form, session } : undefined;
}

/** The session ended since the page was shown: the cookie goes, and the page asks for a sign-in. */
function sessionGone(c: AppContext): Response {
  clearSession(c);
  return backHere(c);
}

/** POST /account/apps/remove: every grant of the client, and its remembered consent. */
export async function removeApp(c: AppContext): Promise<Response> {
  const posted = await accountForm(c);
  if (!posted) return backHere(c);
  const clientId = posted.form.get("client_id");
  if (!clientId || clientId.length > 2048) throw invalidRequest("The form names no app.");
  const revoked = await removeUserApp(c.env, posted.session, clientId);
  if (!revoked) return sessionGone(c);
  audit("user.app_removed", { sub: posted.session.sub, clientId, grants: revoked.length });
  return backHere(c, "app_removed");
}

const SID = /^[A-Za-z0-9_-]{22}$/;

/** OIDC Back-Channel Logout 1.0: the ended sessions' clients are told, off the request's path. */
async function announceEnded(
  c: AppContext,
  sub: string,
  ended: readonly SessionRecord[],
  reason: LogoutReason,
): Promise<void> {
  await Promise.all(
    ended.map(({ sid, clients }) =>
      announceLogout(c.env, c.get("config"), { sub, sid, clients }, reason),
    ),
  );
}

/** POST /account/sessions/end: one session (`sid`), every other (`which=others`), or all (`which=all`). */
export async function signOut(c: AppContext): Promise<Response> {
  const posted = await accountForm(c);
  if (!posted) return backHere(c);
  const { form, session } = posted;
  const which = form.get("which");
  const sid = form.get("sid");
  const target =
    which === "others" || which === "all"
      ? which
      : which === undefined && sid !== undefined && SID.test(sid)
        ? { sid }
        : undefined;
  if (!target) throw invalidRequest("The form names no session to sign out.");
  const ended = await c.env.USER.getByName(session.sub).endSessions(
    sessionRef(session),
    target,
    currentRequestId(),
  );
  if (!ended) return sessionGone(c);
  for (const record of ended)
    audit("session.ended", { sub: session.sub, reason: "account_page", clients: record.clients });
  await announceEnded(c, session.sub, ended, "logout");
  const thisOne = ended.some((record) => record.sid === session.sid);
  if (thisOne) clearSession(c);
  if (target === "all") return backHere(c, "signed_out_all");
  if (target === "others") return backHere(c, "signed_out_others");
  if (ended.length === 0) return backHere(c, "already_ended");
  return backHere(c, thisOne ? "signed_out_this" : "signed_out");
}

/**
 * POST /account/password: the current password, checked as a sign-in is
 * (the account's Username object counts a wrong one toward its lock-out,
 * and the address's SIGN_IN_LIMITER counts it as a failed sign-in), then
 * the new one set by the User object as an administrator's is: every
 * session ends (and with REVOKE_GRANTS_ON_PASSWORD_CHANGE every grant).
 * This browser is then signed in afresh, so the page stays usable.
 */
export async function changePassword(c: AppContext): Promise<Response> {
  const posted = await accountForm(c);
  if (!posted) return backHere(c);
  const { form, session } = posted;
  const user = c.env.USER.getByName(session.sub);
  // The page again if the form is refused (and the account's name, for the sign-in check).
  const overview = await user.accountOverview(sessionRef(session));
  if (!overview) return sessionGone(c);
  const { username } = overview;
  const refuse = (passwordError: string, status: number) =>
    renderAccount(c, session, overview, { passwordError }, status);

  const current = form.get("current_password") ?? "";
  const next = form.get("new_password") ?? "";
  if (!current || !next) return refuse("Enter your current password and a new one.", 400);
  const problem = passwordProblem(next);
  if (problem) return refuse(`The new password ${problem}.`, 400);
  if (next !== form.get("repeat_password"))
    return refuse("The new password and its repetition differ.", 400);

  const limited = await limitedSignIn(
    c,
    async () =>
      (await usernameObject(c.env, username)).login(
        current,
        await addressKey(c.env, clientAddress(c.req.raw)),
        currentRequestId(),
      ),
    (result) => result.ok,
  );
  if (limited.refused || limited.overLimit)
    return refuse("Too many sign-in attempts from your network. Wait a minute and try again.", 429);
  const { result } = limited;
  if (!result.ok) {
    if (result.reason === "locked") {
      const minutes = Math.ceil(result.retryAfter / 60);
      return refuse(
        `Too many failed attempts. Try again in ${minutes} minute${minutes > 1 ? "s" : ""}.`,
        429,
      );
    }
    if (result.reason === "blocked") return sessionGone(c);
    return refuse("The current password is incorrect.", 401);
  }
  if (result.sub !== session.sub) return sessionGone(c); // the name is another account's now

  const revokeGrants = c.get("config").revokeGrantsOnPasswordChange;
  const version = await user.setPassword(
    await hashPassword(next),
    revokeGrants,
    currentRequestId(),
  );
  if (version === undefined) return sessionGone(c);
  audit("user.password_changed", { sub: session.sub, grantsRevoked: revokeGrants });
  // Every session standing when the page was read ended with the change: their clients are told.
  await announceEnded(c, session.sub, overview.sessions, "password_changed");

  // The change ended this session too: a new one, checked against the new version.
  const now = nowSeconds();
  const expiresAt = now + c.get("config").loginSessionLifetime;
  const sid = await user.openSession(version, now, expiresAt * 1000, currentRequestId());
  if (!sid) {
    clearSession(c);
    return backHere(c, "password_changed_signed_out");
  }
  await writeSession(c, { sub: session.sub, sid, version, authTime: now, expiresAt });
  return backHere(c, revokeGrants ? "password_changed_grants" : "password_changed");
}
