import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { createMiddleware } from "hono/factory";
import { lookUpClient } from "../clients/lookup";
import { allowsGrant, type ClientRecord, DEVICE_CODE_GRANT } from "../clients/model";
import { LIMITS } from "../config";
import { invalidRequest, OAuthError } from "../errors";
import type { AppContext, AppEnv } from "../http/context";
import { endpoint } from "../http/endpoint";
import { readForm } from "../http/form";
import { clientAddress, limitedSignIn } from "../http/rate-limits";
import { randomBytes, toHex } from "../lib/bytes";
import { nowSeconds } from "../lib/time";
import { currentRequestId, logError } from "../log";
import type { Params } from "../params";
import { ACCOUNT_FORMS, PATHS } from "../paths";
import { clearSession, readSession, writeSession } from "../sessions/login-session";
import { renderPage } from "../ui/render";
import { normalizeUsername, USERNAME } from "../users/model";
import { addressKey, usernameObject } from "../users/username";
import { accountPage, changePassword, removeApp, signOut } from "./account";
import { stillAllowed, validateAuthorizationRequest } from "./authorization-request";
import { continueDevice, deviceDenied, deviceEntered, deviceEntry } from "./device";
import {
  consentItems,
  consentScopes,
  continueAuthorization,
  type FlowState,
  redirectError,
  renderLogin,
} from "./flow";
import {
  type AccountInteraction,
  type ClientInteraction,
  csrfValid,
  isAccountInteraction,
  isDeviceInteraction,
  openInteraction,
} from "./interaction";
import { endBrowserSession, endSession } from "./logout";
import { ErrorPage } from "./pages/error";
import { StartPage } from "./pages/start";
import { browserRequestParams } from "./request-params";

/**
 * The browser side: /authorize (GET and POST, OIDC Core §3.1.2.1), and the
 * login and consent forms it shows; logout, the device verification page and
 * the user's own account page. A sub-app with its own error mapping:
 * errors here are pages or redirects, never JSON.
 */

const cannotContinue = "This sign-in request cannot continue";

/**
 * This surface's half of the one error mapping. An error that carries a
 * redirect target goes back to the client (RFC 6749 §4.1.2.1); any other is
 * a page, since the redirect URI is not known to be safe (or the problem is
 * ours to show). Server errors are logged with an id and never detailed.
 */
function pageError(error: unknown, c: AppContext): Response | Promise<Response> {
  if (error instanceof OAuthError && error.redirectTo)
    return redirectError(c, error.redirectTo, error.code, error.description);
  if (error instanceof OAuthError && error.status < 500) {
    return renderPage(
      c,
      <ErrorPage title={cannotContinue} description={error.description} />,
      error.status,
    );
  }
  const errorId = toHex(randomBytes(8));
  logError("unhandled_exception", error, { errorId, path: c.req.path });
  return renderPage(
    c,
    <ErrorPage
      title="Something went wrong"
      description={`An unexpected error occurred (error id ${errorId}). Please try again.`}
    />,
    500,
  );
}

async function authorizeRequest(c: AppContext): Promise<Response> {
  const { client, request } = await validateAuthorizationRequest(
    c.env,
    c.get("config"),
    await browserRequestParams(c),
  );
  return continueAuthorization(c, client, request);
}

const expired = () =>
  invalidRequest(
    "This form has expired or was altered. Go back to the application and start again.",
  );

/** A form of the login and consent pages, opened: the account page's sign-in has no client. */
type Resumed =
  | { form: Params; request: AccountInteraction; client?: undefined }
  | { form: Params; request: ClientInteraction; client: ClientRecord };

/**
 * A login or consent form, posted back: its CSRF token, the authorization
 * request it carries (signed, unexpired), and the client as it is registered
 * now. A form opened before an administrator changed the client must not
 * deliver a code the current registration would refuse (a redirect URI
 * removed since, a scope or the code flow taken away): that is shown on a
 * page, never redirected, since the redirect URI may no longer be the
 * client's. The account page's sign-in has no client.
 */
async function resumed(c: AppContext): Promise<Resumed> {
  const form = await readForm(c.req.raw, LIMITS.maxFormBytes);
  if (!(await csrfValid(c, form.get("csrf")))) throw expired();
  const request = await openInteraction(c.env, form.get("interaction"));
  if (!request) throw expired();
  if (isAccountInteraction(request)) return { form, request };
  const client = await lookUpClient(c.env, c.get("config"), request.clientId);
  if (!client) throw expired();
  const allowed = isDeviceInteraction(request)
    ? allowsGrant(client, DEVICE_CODE_GRANT) &&
      request.scope.every((s) => client.scopes.includes(s))
    : stillAllowed(client, request);
  if (!allowed) {
    throw invalidRequest(
      "The application's registration has changed since this page was opened. Go back to the application and start again.",
    );
  }
  return { form, request, client };
}

/**
 * The next step after a sign-in, of whichever flow the form belongs to: a
 * redirect's, a device's (./device.tsx), or back to the account page.
 */
const continueFlow = (
  c: AppContext,
  resumed: Resumed,
  flow: FlowState,
): Promise<Response> | Response => {
  if (!resumed.client) return c.redirect(PATHS.account, 303);
  const { client, request } = resumed;
  return isDeviceInteraction(request)
    ? continueDevice(c, client, request, flow)
    : continueAuthorization(c, client, request, flow);
};

async function login(c: AppContext): Promise<Response> {
  const opened = await resumed(c);
  const { form, request, client } = opened;

  const username = normalizeUsername(form.get("username") ?? "");
  const password = form.get("password") ?? "";
  const again = (error: string, status: number) =>
    renderLogin(c, client, request, { error, status, ...(username ? { username } : {}) });
  if (!username || !password) return again("Enter your username and password.", 400);
  if (!USERNAME.test(username)) return again("The username or password is incorrect.", 401);
  // Checked before any object or password hash is touched; only failures count (README, "Rate limits").
  const limited = await limitedSignIn(
    c,
    async () =>
      (await usernameObject(c.env, username)).login(
        password,
        await addressKey(c.env, clientAddress(c.req.raw)),
        currentRequestId(),
      ),
    (result) => result.ok,
  );
  if (limited.refused || limited.overLimit) {
    return again("Too many sign-in attempts from your network. Wait a minute and try again.", 429);
  }
  const { result } = limited;
  if (!result.ok) {
    switch (result.reason) {
      case "locked":
        return again(
          `Too many failed attempts. Try again in ${Math.ceil(result.retryAfter / 60)} minute${result.retryAfter > 60 ? "s" : ""}.`,
          429,
        );
      case "blocked":
        return again("This account is blocked. Contact your administrator.", 403);
      default:
        return again("The username or password is incorrect.", 401);
    }
  }
  // A sign-in replaces this browser's session: the old one ends (and its grants with it) rather
  // than living on, unreachable by logout, until it expires.
  const previous = await readSession(c);
  if (previous) await endBrowserSession(c, previous);
  const now = nowSeconds();
  const expiresAt = now + c.get("config").loginSessionLifetime;
  // The session is a record in the account's object first (logout ends it there), then a cookie.
  const sid = await c.env.USER.getByName(result.sub).openSession(
    result.sessionVersion,
    now,
    expiresAt * 1000,
    currentRequestId(),
  );
  if (!sid) return again("The account changed while you signed in. Sign in again.", 409);
  const session = {
    sub: result.sub,
    sid,
    version: result.sessionVersion,
    authTime: now,
    expiresAt,
  };
  await writeSession(c, session);
  return continueFlow(c, opened, { freshSession: session });
}

async function consent(c: AppContext): Promise<Response> {
  const resumedForm = await resumed(c);
  // The account page's sign-in asks no consent: a form that says otherwise was altered.
  if (!resumedForm.client) throw expired();
  const { form, request, client } = resumedForm;
  const decision = form.get("decision");
  if (decision === "deny") {
    if (!isDeviceInteraction(request))
      return redirectError(c, request, "access_denied", "The user denied the request.");
    // A device's request is answered only by a signed-in user: a stranger holding the code
    // (from the login page's form) must not deny it for the user it was meant for.
    if (!(await readSession(c))) return renderLogin(c, client, request);
    return deviceDenied(c, client, request);
  }
  if (decision === "switch_user") {
    // "Not you?": this browser's session ends (and its grants with it); the same request
    // goes on with a sign-in by whoever is at the browser.
    const current = await readSession(c);
    if (current) await endBrowserSession(c, current);
    clearSession(c);
    return renderLogin(c, client, request);
  }
  if (decision !== "allow") throw invalidRequest("The consent form was not answered.");
  const session = await readSession(c);
  if (!session) return renderLogin(c, client, request);
  const user = c.env.USER.getByName(session.sub);
  const config = c.get("config");
  const allowed = isDeviceInteraction(request)
    ? consentScopes(client, config, request.scope)
    : consentItems(client, config, request);
  if (!(await user.grantConsent(session, client.client_id, allowed)))
    return renderLogin(c, client, request);
  return continueFlow(c, resumedForm, { consented: true });
}

/** Hono's Origin / Sec-Fetch-Site check: a refusal is this surface's error, so a page. */
const sameOriginOnly = csrf();

const fromOurPages = createMiddleware<AppEnv>(async (c, next) => {
  try {
    await sameOriginOnly(c, async () => {});
  } catch {
    throw new OAuthError("access_denied", "This form was not sent from this site's own page.", {
      status: 403,
    });
  }
  await next();
});

/** The browser side as a sub-app, mounted at the root by the app. */
export function browserApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  endpoint(app, "/", {
    GET: (c) => renderPage(c, <StartPage issuer={c.get("config").issuer} />),
  });
  endpoint(app, PATHS.authorization, { GET: authorizeRequest, POST: authorizeRequest });
  // Form posts must come from our own pages (Origin check), on top of the CSRF token.
  endpoint(app, PATHS.login, { POST: [fromOurPages, login] });
  endpoint(app, PATHS.consent, { POST: [fromOurPages, consent] });
  // RP-Initiated Logout §2: GET and POST, the POST from the client's own page (no Origin check:
  // a logout is carried out only when tied to the session, or after the user's confirmation).
  endpoint(app, PATHS.endSession, { GET: endSession, POST: endSession });
  // RFC 8628 §3.3: the verification page (the code, then this login and consent).
  endpoint(app, PATHS.deviceVerification, {
    GET: deviceEntry,
    POST: [fromOurPages, deviceEntered],
  });
  // The user's own account page; its forms behind the same Origin check and CSRF token.
  endpoint(app, PATHS.account, { GET: accountPage });
  endpoint(app, ACCOUNT_FORMS.removeApp, { POST: [fromOurPages, removeApp] });
  endpoint(app, ACCOUNT_FORMS.signOut, { POST: [fromOurPages, signOut] });
  endpoint(app, ACCOUNT_FORMS.password, { POST: [fromOurPages, changePassword] });
  app.onError(pageError);
  return app;
}
