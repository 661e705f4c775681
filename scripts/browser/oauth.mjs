/**
 * The OAuth side of the walks: the dev seed's demo credentials, PKCE, the
 * authorization request, and the token endpoint as a client calls it (Node's
 * fetch, outside the browser).
 */
import { createHash, randomBytes } from "node:crypto";
import { DESKTOP, openContext } from "./harness.mjs";

/** The dev seed's fixed credentials (src/dev/seed.ts). */
export const DEMO = {
  confidential: { clientId: "demo-confidential", secret: "demo-confidential-secret" },
  public: { clientId: "demo-public" },
  user: { username: "demo", password: "demo-password" },
  administrator: { username: "operator", password: "operator-password" },
  viewer: { username: "auditor", password: "auditor-password" },
  adminToken: "dev-admin-token",
};
export const SCOPES = ["openid", "profile", "email", "offline_access"];

const b64url = (bytes) => Buffer.from(bytes).toString("base64url");

export function pkce() {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash("sha256").update(verifier).digest());
  return { verifier, challenge };
}

export function authorizeUrl(origin, clientId, extra = {}) {
  const { verifier, challenge } = pkce();
  const state = b64url(randomBytes(12));
  const nonce = b64url(randomBytes(12));
  const url = new URL("/authorize", origin);
  for (const [k, v] of Object.entries({
    response_type: "code",
    client_id: clientId,
    redirect_uri: `${origin}/dev/callback`,
    scope: SCOPES.join(" "),
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...extra,
  })) {
    url.searchParams.set(k, v);
  }
  return { url: url.href, verifier, state, nonce };
}

export function jwtPayload(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));
}

/**
 * POST /token as a client does: HTTP Basic for a confidential client
 * (RFC 6749 §2.3.1), client_id in the body for a public one. Answers the
 * status and the JSON body.
 */
export async function tokenRequest(origin, client, params) {
  const headers = { "Content-Type": "application/x-www-form-urlencoded" };
  const body = new URLSearchParams(params);
  if (client.secret) {
    const basic = `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.secret)}`;
    headers.Authorization = `Basic ${Buffer.from(basic).toString("base64")}`;
  } else {
    body.set("client_id", client.clientId);
  }
  const res = await fetch(`${origin}/token`, { method: "POST", headers, body });
  return { status: res.status, body: await res.json() };
}

export const refresh = (origin, client, refreshToken) =>
  tokenRequest(origin, client, { grant_type: "refresh_token", refresh_token: refreshToken });

/**
 * The end user's half of the code flow, in a browser of their own: open
 * /authorize, sign in by label, allow on the consent page (when asked), land
 * on /dev/callback; then the client redeems the code at /token. Answers the
 * token response's body (it throws when any of it fails: a step's caller
 * records that).
 */
export async function signInAndAllow(browser, origin, user, client) {
  const { context, page, problems } = await openContext(browser, origin, {
    viewport: DESKTOP,
    colorScheme: "light",
  });
  try {
    const request = authorizeUrl(origin, client.clientId);
    await page.goto(request.url);
    await page.getByLabel("Username").fill(user.username);
    await page.getByLabel("Password").fill(user.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    const allow = page.getByRole("button", { name: "Allow", exact: true });
    await Promise.race([
      allow.waitFor().then(() => allow.click()),
      page.waitForURL((url) => url.pathname === "/dev/callback"),
    ]);
    await page.waitForURL((url) => url.pathname === "/dev/callback");
    const callback = new URL(page.url());
    if (callback.searchParams.get("state") !== request.state)
      throw new Error(`the callback's state is not the request's: ${page.url()}`);
    const code = callback.searchParams.get("code");
    if (!code) throw new Error(`no code at the callback: ${page.url()}`);
    const { status, body } = await tokenRequest(origin, client, {
      grant_type: "authorization_code",
      code,
      redirect_uri: `${origin}/dev/callback`,
      code_verifier: request.verifier,
    });
    if (status !== 200) throw new Error(`the code did not redeem: ${JSON.stringify(body)}`);
    if (problems.console.length || problems.foreign.length)
      throw new Error(`the sign-in pages misbehaved: ${JSON.stringify(problems)}`);
    return body;
  } finally {
    await context.close();
  }
}
