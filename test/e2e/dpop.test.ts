import { decodeJwt } from "jose";
import * as oauth from "oauth4webapi";
import * as openid from "openid-client";
import { describe, expect, it } from "vitest";
import {
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  registerPublicClient,
  registerUser,
} from "../support/fixtures";
import { ISSUER } from "../support/http";
import { storedFamily } from "../support/refresh";
import { throughWorker, toWorker, userSignsInAndAllows } from "../support/relying-party";

/**
 * DPoP (RFC 9449) as applications use it: the two certified relying-party
 * libraries, configured from discovery alone, with their own DPoP handles,
 * their own nonce retries and their own proofs. Their fetch is routed to the
 * Worker's fetch handler (workerd has no network here).
 */

/** oauth4webapi's documented pattern: on use_dpop_nonce, the handle has the nonce; repeat once. */
async function withNonceRetry<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (oauth.isDPoPNonceError(error)) return attempt();
    throw error;
  }
}

describe("oauth4webapi with DPoP, from discovery alone", () => {
  async function setUp(registered: RegisteredClient) {
    const issuer = new URL(ISSUER);
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...throughWorker }),
    );
    expect(as.dpop_signing_alg_values_supported).toContain("ES256");
    const client: oauth.Client = { client_id: registered.client_id };
    const auth = registered.client_secret
      ? oauth.ClientSecretBasic(registered.client_secret)
      : oauth.None();
    return { as, client, auth };
  }

  it("code flow, three refreshes and userinfo, all bound to the app's key, with the nonce retry", async () => {
    const registered = await registerPublicClient({ consent: "implicit" });
    const user = await registerUser();
    const { as, client, auth } = await setUp(registered);
    const keyPair = await oauth.generateKeyPair("ES256");
    const DPoP = oauth.DPoP(client, keyPair);

    const verifier = oauth.generateRandomCodeVerifier();
    const url = new URL(as.authorization_endpoint as string);
    const state = oauth.generateRandomState();
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      scope: "openid offline_access",
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
    }).toString();
    const params = oauth.validateAuthResponse(
      as,
      client,
      await userSignsInAndAllows(url, user),
      state,
    );

    let nonceErrors = 0;
    const tokens = await (async () => {
      const redeem = async () =>
        oauth.processAuthorizationCodeResponse(
          as,
          client,
          await oauth.authorizationCodeGrantRequest(
            as,
            client,
            auth,
            params,
            REDIRECT_URI,
            verifier,
            {
              DPoP,
              ...throughWorker,
            },
          ),
        );
      try {
        return await redeem();
      } catch (error) {
        expect(oauth.isDPoPNonceError(error)).toBe(true);
        nonceErrors++;
        return redeem();
      }
    })();
    expect(nonceErrors).toBe(1);
    expect(tokens.token_type).toBe("dpop");
    const jkt = (decodeJwt(tokens.access_token).cnf as { jkt: string }).jkt;
    expect(await storedFamily(tokens.refresh_token as string)).toMatchObject({ jkt });

    let refreshToken = tokens.refresh_token as string;
    let accessToken = tokens.access_token;
    for (let i = 0; i < 3; i++) {
      const next = await withNonceRetry(async () =>
        oauth.processRefreshTokenResponse(
          as,
          client,
          await oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, {
            DPoP,
            ...throughWorker,
          }),
        ),
      );
      expect(next.token_type).toBe("dpop");
      expect(next.refresh_token).not.toBe(refreshToken);
      refreshToken = next.refresh_token as string;
      accessToken = next.access_token;
    }

    const info = await withNonceRetry(async () =>
      oauth.processUserInfoResponse(
        as,
        client,
        user.id,
        await oauth.userInfoRequest(as, client, accessToken, { DPoP, ...throughWorker }),
      ),
    );
    expect(info.sub).toBe(user.id);

    // The bound refresh token without a proof, or with a proof by another key: refused.
    await expect(
      oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, throughWorker),
      ),
    ).rejects.toMatchObject({ error: "invalid_grant" });
    const thief = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
    await expect(
      withNonceRetry(async () =>
        oauth.processRefreshTokenResponse(
          as,
          client,
          await oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, {
            DPoP: thief,
            ...throughWorker,
          }),
        ),
      ),
    ).rejects.toMatchObject({ error: "invalid_grant" });
    // Neither consumed it: the app refreshes once more.
    const last = await withNonceRetry(async () =>
      oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, {
          DPoP,
          ...throughWorker,
        }),
      ),
    );
    expect(last.refresh_token).toBeTruthy();
  });
});

describe("openid-client with DPoP, from discovery alone", () => {
  it("code flow (its own nonce retry), refreshes and userinfo; a proofless or foreign-key refresh is refused", async () => {
    const registered = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const config = await openid.discovery(
      new URL(ISSUER),
      registered.client_id,
      undefined,
      openid.ClientSecretBasic(registered.client_secret as string),
      { [openid.customFetch]: toWorker },
    );
    config[openid.customFetch] = toWorker;
    const DPoP = openid.getDPoPHandle(config, await openid.randomDPoPKeyPair("ES256"));

    const verifier = openid.randomPKCECodeVerifier();
    const state = openid.randomState();
    const url = openid.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: "openid profile offline_access",
      code_challenge: await openid.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
    });
    const callback = await userSignsInAndAllows(url, user);
    const tokens = await openid.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: verifier, expectedState: state },
      undefined,
      { DPoP },
    );
    expect(tokens.token_type).toBe("dpop");
    expect(tokens.claims()?.sub).toBe(user.id);

    let refreshToken = tokens.refresh_token as string;
    let accessToken = tokens.access_token;
    for (let i = 0; i < 3; i++) {
      const next = await openid.refreshTokenGrant(config, refreshToken, undefined, { DPoP });
      expect(next.token_type).toBe("dpop");
      refreshToken = next.refresh_token ?? refreshToken;
      accessToken = next.access_token;
    }
    const info = await openid.fetchUserInfo(config, accessToken, user.id, { DPoP });
    expect(info.sub).toBe(user.id);

    // Userinfo will not take the bound token as a bearer token.
    await expect(openid.fetchUserInfo(config, accessToken, user.id)).rejects.toBeTruthy();
  });

  it("a public client's bound refresh token, presented with another key, is refused", async () => {
    const registered = await registerPublicClient({ consent: "implicit" });
    const user = await registerUser();
    const config = await openid.discovery(
      new URL(ISSUER),
      registered.client_id,
      undefined,
      openid.None(),
      {
        [openid.customFetch]: toWorker,
      },
    );
    config[openid.customFetch] = toWorker;
    const DPoP = openid.getDPoPHandle(config, await openid.randomDPoPKeyPair("ES256"));
    const verifier = openid.randomPKCECodeVerifier();
    const state = openid.randomState();
    const url = openid.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: "openid offline_access",
      code_challenge: await openid.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
    });
    const tokens = await openid.authorizationCodeGrant(
      config,
      await userSignsInAndAllows(url, user),
      { pkceCodeVerifier: verifier, expectedState: state },
      undefined,
      { DPoP },
    );
    const other = openid.getDPoPHandle(config, await openid.randomDPoPKeyPair("ES256"));
    await expect(
      openid.refreshTokenGrant(config, tokens.refresh_token as string, undefined, { DPoP: other }),
    ).rejects.toMatchObject({ error: "invalid_grant" });
    await expect(
      openid.refreshTokenGrant(config, tokens.refresh_token as string),
    ).rejects.toMatchObject({
      error: "invalid_grant",
    });
    const next = await openid.refreshTokenGrant(config, tokens.refresh_token as string, undefined, {
      DPoP,
    });
    expect(next.token_type).toBe("dpop");
  });
});
