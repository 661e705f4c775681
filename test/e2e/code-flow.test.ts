import { createLocalJWKSet, decodeJwt, type JSONWebKeySet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { Browser, codeFlow } from "../support/browser";
import { introspect, registerClient, registerUser, tokenRequest } from "../support/fixtures";
import { call, ISSUER } from "../support/http";

describe("the authorization code flow, through the real pages", () => {
  it("signs in, asks consent, and issues access, refresh and ID tokens", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const tokens = await codeFlow(client, user, { nonce: "n-0S6_WzA2Mj" });

    expect(tokens.token_type).toBe("Bearer");
    expect(tokens.scope).toBe("openid profile offline_access");
    expect(tokens.refresh_token).toMatch(/^rt1\./);
    const idToken = decodeJwt(tokens.id_token as string);
    expect(idToken).toMatchObject({
      iss: ISSUER,
      sub: user.id,
      aud: client.client_id,
      nonce: "n-0S6_WzA2Mj",
    });

    const refreshed = await tokenRequest(client, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
    });
    expect(refreshed.status).toBe(200);

    const info = await call("/userinfo", {
      headers: { Authorization: `Bearer ${tokens.access_token}` },
    });
    expect(await info.json()).toMatchObject({ sub: user.id, preferred_username: user.username });
    expect(await introspect(client, tokens.access_token)).toMatchObject({
      active: true,
      sub: user.id,
    });
  });

  it("skips the password on a second authorization in the same browser", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const browser = new Browser();
    await codeFlow(client, user, { browser });
    expect(browser.hasCookie("__Host-ets_session")).toBe(true);
    const second = await codeFlow(
      client,
      { ...user, password: "not needed any more" },
      { browser },
    );
    expect(second.access_token).toBeTruthy();
  });

  it("signs access tokens that verify against the published JWKS", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const tokens = await codeFlow(client, user);
    const jwks = await (await call("/jwks")).json<JSONWebKeySet>();
    const { payload, protectedHeader } = await jwtVerify(
      tokens.access_token,
      createLocalJWKSet(jwks),
      {
        issuer: ISSUER,
        typ: "at+jwt",
      },
    );
    expect(protectedHeader.kid).toBeTruthy();
    expect(payload).toMatchObject({ client_id: client.client_id, sub: user.id });
  });
});
