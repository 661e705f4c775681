import { lookUpClient } from "../clients/lookup";
import type { ClientRecord } from "../clients/model";
import { invalidRequest } from "../errors";
import type { AppContext } from "../http/context";
import { audit, currentRequestId } from "../log";
import type { Params } from "../params";
import { PATHS } from "../paths";
import { clearSession, type LoginSession, readSession } from "../sessions/login-session";
import { announceLogout } from "../sessions/logout-announcement";
import { verifyOwnJwt } from "../tokens/jwt";
import { renderPage } from "../ui/render";
import { csrfToken, csrfValid } from "./interaction";
import { LoggedOutPage, LogoutQuestionPage } from "./pages/logout";
import { browserRequestParams } from "./request-params";

/**
 * OpenID Connect RP-Initiated Logout 1.0: the end_session_endpoint.
 *
 * §2: "The OP SHOULD ask the End-User whether to log out of the OP as well.
 * ... If the End-User says "yes", then the OP MUST log out the End-User."
 * We ask whenever the request cannot be tied to the session in this browser:
 * no id_token_hint, or one for another user or another session. A request
 * whose id_token_hint names this very session (its `sub` and `sid`) ends it
 * without a question.
 *
 * Ending the session ends it in the user's object (src/users/user.ts): the
 * cookie is then worthless everywhere, and the grants that belong to the
 * session (made without offline_access) are revoked. The session's clients
 * that registered a backchannel_logout_uri are sent a logout token by a
 * LogoutDelivery object (src/sessions/logout-announcement.ts), not by this
 * request, which only schedules them.
 */

interface LogoutRequest {
  client?: ClientRecord;
  /** The user and session an id_token_hint names. */
  hint?: { sub: string; sid?: string };
  /** A registered post_logout_redirect_uri, matched exactly. */
  redirectUri?: string;
  state?: string;
}

const CARRIED = ["id_token_hint", "client_id", "post_logout_redirect_uri", "state"] as const;

/** The request's own parameters, to carry through a question page or a redirect. */
function carriedParams(params: Params): Record<string, string> {
  return Object.fromEntries(
    CARRIED.flatMap((name) => {
      const value = params.get(name);
      return value === undefined ? [] : [[name, value]];
    }),
  );
}

async function logoutRequest(c: AppContext, params: Params): Promise<LogoutRequest> {
  const config = c.get("config");
  const request: LogoutRequest = {};
  const token = params.get("id_token_hint");
  if (token !== undefined) {
    // §2: "the OP MUST validate that it was the issuer of the ID Token"; it may have expired
    // ("The OP need not be ... the ID Token might be expired" — the user may have been away).
    const claims = await verifyOwnJwt(c.env, config, token, "JWT", { expiredOk: true });
    if (!claims || typeof claims.sub !== "string" || typeof claims.aud !== "string")
      throw invalidRequest("The id_token_hint is not an ID token issued here.");
    request.hint = {
      sub: claims.sub,
      ...(typeof claims.sid === "string" ? { sid: claims.sid } : {}),
    };
    // §2: "When both client_id and id_token_hint are present, the OP MUST verify that the
    // Client Identifier matches the one used when issuing the ID Token."
    const named = params.get("client_id");
    if (named !== undefined && named !== claims.aud)
      throw invalidRequest("The client_id is not the one the id_token_hint was issued to.");
    const client = await lookUpClient(c.env, config, claims.aud);
    if (client) request.client = client;
  } else {
    const named = params.get("client_id");
    const client = named === undefined ? undefined : await lookUpClient(c.env, config, named);
    if (named !== undefined && !client)
      throw invalidRequest("The client_id is not registered here.");
    if (client) request.client = client;
  }
  const redirectUri = params.get("post_logout_redirect_uri");
  if (redirectUri !== undefined) {
    // §3: "The OP MUST NOT perform post-logout redirection if the post_logout_redirect_uri
    // value supplied does not exactly match one of the previously registered
    // post_logout_redirect_uris values", and §2: it needs the client identified.
    if (!request.client)
      throw invalidRequest(
        "A post_logout_redirect_uri needs the client, named by id_token_hint or client_id.",
      );
    if (!(request.client.post_logout_redirect_uris ?? []).includes(redirectUri))
      throw invalidRequest("The post_logout_redirect_uri is not one the client registered.");
    request.redirectUri = redirectUri;
  }
  const state = params.get("state");
  if (state !== undefined) {
    if (state.length > 2048) throw invalidRequest("The state is longer than 2048 characters.");
    request.state = state;
  }
  return request;
}

/**
 * Ends this browser's login session in the user's object (its session-bound
 * grants die there), and tells its clients (Back-Channel Logout 1.0, off this
 * request's path). Also when another sign-in replaces it in this browser.
 */
export async function endBrowserSession(
  c: AppContext,
  session: Pick<LoginSession, "sub" | "sid">,
  clientId?: string,
): Promise<void> {
  const ended = await c.env.USER.getByName(session.sub).endSession(session.sid, currentRequestId());
  audit("session.ended", {
    sub: session.sub,
    reason: "logout",
    ...(clientId ? { clientId } : {}),
    clients: ended?.clients ?? [],
  });
  if (ended)
    await announceLogout(
      c.env,
      c.get("config"),
      { sub: session.sub, sid: session.sid, clients: ended.clients },
      "logout",
    );
}

export async function endSession(c: AppContext): Promise<Response> {
  const params = await browserRequestParams(c);
  const request = await logoutRequest(c, params);
  const decision = c.req.method === "POST" ? params.get("decision") : undefined;
  if (decision !== undefined) {
    // The answer to our own question page: its CSRF token must come with it.
    if (!(await csrfValid(c, params.get("csrf"))) || !["sign_out", "stay"].includes(decision))
      throw invalidRequest("This form has expired or was altered. Sign out again from the app.");
  }
  const session = await readSession(c);
  if (decision === "stay") return renderPage(c, <LoggedOutPage signedOut={false} />);
  // §2 lets the client POST the request from its own site, and a browser sends no SameSite=Lax
  // cookie with a cross-site POST: without this, the session would survive a logout that looked
  // done. Sent on as a top-level GET, which carries the cookie.
  if (c.req.method === "POST" && decision === undefined && !session) {
    const again = new URLSearchParams(carriedParams(params));
    return c.redirect(`${PATHS.endSession}?${again}`, 303);
  }

  const tied =
    session !== undefined &&
    request.hint !== undefined &&
    request.hint.sub === session.sub &&
    request.hint.sid === session.sid;
  if (session && !tied && decision !== "sign_out") {
    return renderPage(
      c,
      <LogoutQuestionPage
        carried={carriedParams(params)}
        csrf={await csrfToken(c)}
        clientName={request.client?.client_name}
      />,
    );
  }
  if (session) await endBrowserSession(c, session, request.client?.client_id);
  clearSession(c);
  if (request.redirectUri) {
    const to = new URL(request.redirectUri);
    if (request.state !== undefined) to.searchParams.set("state", request.state);
    return c.redirect(to.toString(), c.req.method === "GET" ? 302 : 303);
  }
  return renderPage(c, <LoggedOutPage signedOut={session !== undefined} />);
}
