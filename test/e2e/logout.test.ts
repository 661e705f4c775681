import * as openid from "openid-client";
import { describe, expect, it } from "vitest";
import { Browser } from "../support/browser";
import { REDIRECT_URI, registerClient, registerUser } from "../support/fixtures";
import { ISSUER } from "../support/http";
import { toWorker, userSignsInAndAllows } from "../support/relying-party";

/**
 * Issue #17's "must show", with openid-client as an application would use
 * it from discovery alone: code flow, RP-initiated logout (its
 * buildEndSessionUrl), then prompt=none is login_required; the refresh token
 * of the grant made without offline_access died at logout, the one with it
 * lives.
 */

const LOGGED_OUT = "https://app.example.test/logged-out";

describe("openid-client: sign in, log out, and what survives", () => {
  it("ends the session and its online grant at logout; prompt=none is then login_required; the offline grant lives", async () => {
    const registered = await registerClient({
      consent: "implicit",
      post_logout_redirect_uris: [LOGGED_OUT],
    });
    const user = await registerUser();
    const config = await openid.discovery(
      new URL(ISSUER),
      registered.client_id,
      undefined,
      openid.ClientSecretBasic(registered.client_secret as string),
      { [openid.customFetch]: toWorker },
    );
    config[openid.customFetch] = toWorker;
    expect(config.serverMetadata().end_session_endpoint).toBe(`${ISSUER}/logout`);
    const browser = new Browser();

    const signIn = async (scope: string, prompt?: string) => {
      const verifier = openid.randomPKCECodeVerifier();
      const state = openid.randomState();
      const url = openid.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope,
        code_challenge: await openid.calculatePKCECodeChallenge(verifier),
        code_challenge_method: "S256",
        state,
        ...(prompt ? { prompt } : {}),
      });
      return { url, verifier, state };
    };

    // 1. The code flow signs the user in; a second authorization in the same browser needs no password.
    const online = await signIn("openid profile");
    const callback = await userSignsInAndAllows(online.url, user, browser);
    const onlineTokens = await openid.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: online.verifier,
      expectedState: online.state,
    });
    const offline = await signIn("openid offline_access");
    const silentCallback = new URL(
      (await browser.get(offline.url.toString())).headers.get("Location") as string,
    );
    const offlineTokens = await openid.authorizationCodeGrant(config, silentCallback, {
      pkceCodeVerifier: offline.verifier,
      expectedState: offline.state,
    });
    expect(offlineTokens.claims()?.sid).toBe(onlineTokens.claims()?.sid);

    // 2. RP-initiated logout, as the library builds it.
    const logout = openid.buildEndSessionUrl(config, {
      id_token_hint: onlineTokens.id_token as string,
      post_logout_redirect_uri: LOGGED_OUT,
      state: "bye",
    });
    const out = await browser.get(logout.toString());
    expect(out.headers.get("Location")).toBe(`${LOGGED_OUT}?state=bye`);

    // 3. prompt=none: no session any more.
    const silent = await signIn("openid", "none");
    const refused = new URL(
      (await browser.get(silent.url.toString())).headers.get("Location") as string,
    );
    await expect(
      openid.authorizationCodeGrant(config, refused, {
        pkceCodeVerifier: silent.verifier,
        expectedState: silent.state,
      }),
    ).rejects.toMatchObject({ error: "login_required" });

    // 4. The grant without offline_access died with the session; the offline one lives.
    await expect(
      openid.refreshTokenGrant(config, onlineTokens.refresh_token as string),
    ).rejects.toMatchObject({ error: "invalid_grant" });
    const refreshed = await openid.refreshTokenGrant(config, offlineTokens.refresh_token as string);
    expect(refreshed.access_token).toBeTruthy();
  });
});
