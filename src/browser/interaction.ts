import { getCookie, setCookie } from "hono/cookie";
import type { AppContext } from "../http/context";
import { fromBase64Url, randomToken, timingSafeEqual, toBase64Url, utf8 } from "../lib/bytes";
import { serverKeys } from "../server-keys";
import type { AuthorizationRequest } from "./authorization-request";

/**
 * RFC 8628 §3.3: a device authorization the user is answering, as the login
 * and consent forms carry it (the same forms as an authorization request's).
 */
export interface DeviceInteraction {
  kind: "device";
  /** The family the user code named. */
  familyId: string;
  clientId: string;
  scope: string[];
  /** As typed, normalized: the consent page shows it to be checked against the device (§3.3.1). */
  userCode: string;
}

/**
 * The user's own account page (./account.tsx): a sign-in for no client,
 * after which the browser goes back to the page. It has no consent step.
 */
export interface AccountInteraction {
  kind: "account";
}

/**
 * What the login and consent forms carry: an authorization request, a
 * device authorization, or the account page's sign-in.
 */
export type Interaction = AuthorizationRequest | DeviceInteraction | AccountInteraction;

/** The interactions made for a client (the account page's is not). */
export type ClientInteraction = AuthorizationRequest | DeviceInteraction;

export const isDeviceInteraction = (i: Interaction): i is DeviceInteraction =>
  "kind" in i && i.kind === "device";

export const isAccountInteraction = (i: Interaction): i is AccountInteraction =>
  "kind" in i && i.kind === "account";

/**
 * State carried by the login and consent forms.
 *
 * - The authorization request travels in a hidden field, HMAC-signed with an
 *   expiry, so a page can resume it without server-side storage and nobody
 *   can alter it on the way.
 * - CSRF: a random value in an HttpOnly SameSite=Lax cookie, and in each form
 *   its HMAC. A cross-site page can neither read the cookie nor compute the
 *   HMAC. (Hono's Origin check runs in front of the form endpoints too.)
 */

const INTERACTION_LIFETIME_MS = 10 * 60_000;
/**
 * RFC 6265bis §4.1.3.2: a "__Host-" cookie is Secure, for the whole site and
 * this host only, so no sibling subdomain can plant or shadow it. Browsers
 * treat http://localhost as secure, so this holds under `npm run dev` too.
 */
const CSRF_COOKIE = "__Host-ets_csrf";

async function mac(env: Env, purpose: string, data: string): Promise<string> {
  const key = (await serverKeys(env)).csrf;
  return toBase64Url(
    new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8(`${purpose}:${data}`))),
  );
}

async function macMatches(
  env: Env,
  purpose: string,
  data: string,
  presented: string,
): Promise<boolean> {
  return timingSafeEqual(utf8(await mac(env, purpose, data)), utf8(presented));
}

export async function sealInteraction(env: Env, request: Interaction): Promise<string> {
  const body = toBase64Url(
    utf8(JSON.stringify({ r: request, exp: Date.now() + INTERACTION_LIFETIME_MS })),
  );
  return `${body}.${await mac(env, "interaction", body)}`;
}

export async function openInteraction(
  env: Env,
  sealed: string | undefined,
): Promise<Interaction | undefined> {
  if (!sealed || sealed.length > 16_384) return undefined;
  const [body, tag, extra] = sealed.split(".");
  if (!body || !tag || extra !== undefined || !(await macMatches(env, "interaction", body, tag)))
    return undefined;
  const bytes = fromBase64Url(body);
  if (!bytes) return undefined;
  const { r, exp } = JSON.parse(new TextDecoder().decode(bytes)) as {
    r: Interaction;
    exp: number;
  };
  return exp > Date.now() ? r : undefined;
}

/** The CSRF token for this browser's forms, creating its cookie on first use. */
export async function csrfToken(c: AppContext): Promise<string> {
  let nonce = getCookie(c, CSRF_COOKIE);
  if (!nonce || nonce.length > 64) {
    nonce = randomToken();
    setCookie(c, CSRF_COOKIE, nonce, {
      httpOnly: true,
      secure: true,
      sameSite: "Lax",
      path: "/",
    });
  }
  return mac(c.env, "csrf", nonce);
}

export async function csrfValid(c: AppContext, presented: string | undefined): Promise<boolean> {
  const nonce = getCookie(c, CSRF_COOKIE);
  if (!nonce || !presented) return false;
  return macMatches(c.env, "csrf", nonce, presented);
}
