import type { ClientRecord } from "../clients/model";
import type { ProviderConfig } from "../config";
import type { OAuthErrorCode, RedirectTarget } from "../errors";
import { issueAuthorizationCode, issuesRefreshToken } from "../grants/authorization-code";
import type { AppContext } from "../http/context";
import { nowSeconds } from "../lib/time";
import type { ResourceRecord } from "../resources/model";
import { findResource } from "../resources/registry";
import { clearSession, type LoginSession, readSession } from "../sessions/login-session";
import { renderPage } from "../ui/render";
import type { AuthorizationRequest } from "./authorization-request";
import { csrfToken, type Interaction, sealInteraction } from "./interaction";
import { ConsentPage } from "./pages/consent";
import { LoginPage } from "./pages/login";
import { answerClient } from "./response-mode";

/**
 * What happens once an authorization request is valid: sign the user in
 * (unless a session stands), ask for consent (unless already given, or the
 * client is first-party), then issue a code and send the browser back.
 */

export interface FlowState {
  /** The session just created by the login form (so prompt=login does not loop). */
  freshSession?: LoginSession;
  /** The user just allowed the request on the consent page. */
  consented?: boolean;
}

export async function continueAuthorization(
  c: AppContext,
  client: ClientRecord,
  request: AuthorizationRequest,
  flow: FlowState = {},
): Promise<Response> {
  const session = flow.freshSession ?? (await readSession(c));
  // OIDC Core §3.1.2.1: prompt=login, and max_age once exceeded (max_age=0 is
  // prompt=login), ask for a sign-in; one made for this very request satisfies them.
  // OIDC Core §3.1.2.1: with an id_token_hint, a session of another user does
  // not stand (prompt=none: login_required); the user may sign in as anyone.
  const mustLogin =
    !session ||
    (!flow.freshSession &&
      (request.prompt.includes("login") ||
        (request.expectedSub !== undefined && session.sub !== request.expectedSub) ||
        (request.maxAge !== undefined &&
          (request.maxAge === 0 || nowSeconds() - session.authTime > request.maxAge))));
  if (mustLogin) {
    if (request.prompt.includes("none"))
      return redirectError(c, request, "login_required", "The user is not signed in.");
    return renderLogin(c, client, request);
  }

  // OIDC Core §3.1.2.1: "If the End-User identified by the ID Token is not
  // the one logged in or is logged in by the request, then the Authorization
  // Server SHOULD return an error".
  if (request.expectedSub !== undefined && session.sub !== request.expectedSub) {
    return redirectError(
      c,
      request,
      "login_required",
      "The user who signed in is not the one the id_token_hint names.",
    );
  }

  const user = c.env.USER.getByName(session.sub);
  const account = await user.beginAuthorization(
    { sid: session.sid, version: session.version },
    client.client_id,
  );
  if (!account.ok) {
    clearSession(c);
    if (request.prompt.includes("none"))
      return redirectError(c, request, "login_required", "The user must sign in again.");
    return renderLogin(c, client, request);
  }

  // Read again: a resource deleted since the request was checked is no longer granted.
  const apis = await requestedApis(c.env, request);
  if (!apis) {
    return redirectError(
      c,
      request,
      "invalid_target",
      "A resource this request names is no longer registered here.",
    );
  }
  const asked = consentItems(client, c.get("config"), request);
  const consentNeeded =
    client.consent === "required" &&
    ((request.prompt.includes("consent") && !flow.consented) ||
      !asked.every((s) => account.consented.includes(s)));
  if (consentNeeded) {
    if (request.prompt.includes("none")) {
      return redirectError(
        c,
        request,
        "consent_required",
        "The user has not allowed this request.",
      );
    }
    return renderPage(
      c,
      <ConsentPage
        clientName={client.client_name}
        {...(client.registration
          ? {
              selfRegistered: {
                destination: redirectDestination(request.redirectUri),
                ...(client.registration.via === "metadata_document"
                  ? { describedAt: new URL(client.client_id).host }
                  : {}),
              },
            }
          : {})}
        username={account.username}
        scopes={consentScopes(client, c.get("config"), request.scope)}
        apis={apis.map((api) => ({ name: api.name, identifier: api.identifier }))}
        interaction={await sealInteraction(c.env, flow.freshSession ? signedIn(request) : request)}
        csrf={await csrfToken(c)}
      />,
    );
  }

  const config = c.get("config");
  const code = await issueAuthorizationCode(c.env, config, {
    client,
    sub: session.sub,
    session: { sid: session.sid, version: session.version },
    sessionEndsAt: session.expiresAt * 1000,
    authTime: session.authTime,
    scope: request.scope,
    redirectUri: request.redirectUri,
    ...(request.codeChallenge ? { codeChallenge: request.codeChallenge } : {}),
    ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
    ...(request.dpopJkt !== undefined ? { dpopJkt: request.dpopJkt } : {}),
    resources: apis,
  });
  if (!code) {
    // The session ended since it was read (a password change, a block, a deletion).
    clearSession(c);
    return renderLogin(c, client, request);
  }
  return answerClient(c, request, { code, state: request.state });
}

/**
 * What the user is asked to allow: the requested scopes, and "offline
 * access" whenever a refresh token will be issued even though the app did not
 * ask for offline_access, so that the page never hides that the app keeps
 * access while the user is away.
 */
export function consentScopes(
  client: ClientRecord,
  config: ProviderConfig,
  scope: readonly string[],
): string[] {
  return issuesRefreshToken(client, config, scope) && !scope.includes("offline_access")
    ? [...scope, "offline_access"]
    : [...scope];
}

/**
 * What the user allows and the User object remembers per client: the
 * scopes, and each resource (RFC 8707 §2.1: the server "might use this data
 * to inform the user about the resources the client is going to access on
 * their behalf"), so a request for an API the user has not allowed yet asks
 * again.
 */
export function consentItems(
  client: ClientRecord,
  config: ProviderConfig,
  request: AuthorizationRequest,
): string[] {
  const resources = (request.resources ?? []).map((identifier) => `resource:${identifier}`);
  return [...consentScopes(client, config, request.scope), ...resources];
}

/** The request's resources as registered now, or undefined when one is gone. */
async function requestedApis(
  env: Env,
  request: AuthorizationRequest,
): Promise<ResourceRecord[] | undefined> {
  const records = await Promise.all(
    (request.resources ?? []).map((identifier) => findResource(env, identifier)),
  );
  return records.every((r) => r !== undefined) ? records : undefined;
}

/**
 * The request as the consent form carries it after a sign-in made for it:
 * without prompt=login, max_age and the id_token_hint's user, so that answering the consent page does
 * not send the user back to the login form.
 */
function signedIn(request: AuthorizationRequest): AuthorizationRequest {
  const { maxAge: _done, expectedSub: _named, ...rest } = request;
  return { ...rest, prompt: rest.prompt.filter((p) => p !== "login") };
}

/**
 * The login page for an interaction: a client's (`client`), or the account
 * page's (`client` undefined, see ./account.tsx).
 */
export async function renderLogin(
  c: AppContext,
  client: ClientRecord | undefined,
  request: Interaction,
  problem?: { error: string; username?: string; status: number },
  notice?: string,
): Promise<Response> {
  return renderPage(
    c,
    <LoginPage
      clientName={client?.client_name}
      interaction={await sealInteraction(c.env, request)}
      csrf={await csrfToken(c)}
      {...(problem ? { error: problem.error } : {})}
      {...(problem?.username ? { username: problem.username } : {})}
      {...(notice ? { notice } : {})}
    />,
    problem?.status ?? 200,
  );
}

/** RFC 6749 §4.1.2.1: the error goes back to the (already validated) redirect URI. */
export function redirectError(
  c: AppContext,
  target: Pick<AuthorizationRequest, "redirectUri" | "state"> & Partial<RedirectTarget>,
  error: OAuthErrorCode,
  description: string,
): Promise<Response> {
  return answerClient(c, target, { error, error_description: description, state: target.state });
}

/** A redirect URI as a person can check it: its host, or a native app's private-use scheme. */
function redirectDestination(uri: string): string {
  const url = new URL(uri);
  return url.host || url.protocol.slice(0, -1);
}
