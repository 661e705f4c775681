import { describe, expect, it } from "vitest";
import { authorizationCode, expectTokenError, userinfo } from "../support/authorize";
import type { TokenSet } from "../support/browser";
import {
  answerOnPage,
  approve,
  DEVICE_GRANT,
  deviceCodes,
  deviceState,
  expired,
  poll,
  registerDeviceClient,
  requestDeviceCodes,
  waitedInterval,
} from "../support/device";
import { introspect, registerClient, registerUser } from "../support/fixtures";
import { adminCall, call, DESCRIPTION_CHARSET, ISSUER, json } from "../support/http";
import { refreshOk, refreshRefused } from "../support/refresh";

/**
 * The device authorization grant (RFC 8628), from the device's side: the
 * device authorization endpoint (§3.1, §3.2) and the polls of the token
 * endpoint (§3.4, §3.5), with the user answering on the real pages.
 */

const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;

describe("the device authorization endpoint (RFC 8628 §3.1, §3.2)", () => {
  it("answers a public client with a device code, a short user code, the verification URIs, expires_in and interval, never cached", async () => {
    const client = await registerDeviceClient();
    const res = await requestDeviceCodes(client, { scope: "openid profile" });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const codes = await json<Record<string, unknown>>(res);
    expect(codes.device_code).toMatch(/^dc1\.[0-9a-f]{64}\./);
    expect(codes.user_code).toMatch(USER_CODE);
    expect(codes.verification_uri).toBe(`${ISSUER}/device`);
    expect(codes.verification_uri_complete).toBe(
      `${ISSUER}/device?user_code=${codes.user_code as string}`,
    );
    expect(codes.expires_in).toBe(600);
    expect(codes.interval).toBe(5);
    const state = await deviceState(codes.device_code as string);
    expect(state).toMatchObject({
      status: "device",
      device: { clientId: client.client_id, scope: ["openid", "profile"], interval: 5 },
      decision: { kind: "waiting" },
    });
    // The family stores the device code's hash, never the code or the user code.
    expect(JSON.stringify(state)).not.toContain((codes.device_code as string).split(".")[2]);
    expect(JSON.stringify(state)).not.toContain((codes.user_code as string).replace("-", ""));
  });

  it("each request gets codes of its own", async () => {
    const client = await registerDeviceClient();
    const all = await Promise.all(Array.from({ length: 5 }, () => deviceCodes(client)));
    expect(new Set(all.map((c) => c.user_code)).size).toBe(5);
    expect(new Set(all.map((c) => c.device_code)).size).toBe(5);
  });

  it("authenticates a confidential client as the token endpoint does", async () => {
    const client = await registerDeviceClient({
      token_endpoint_auth_method: "client_secret_basic",
    });
    expect((await requestDeviceCodes(client)).status).toBe(200);
    await expectTokenError(
      await requestDeviceCodes({ ...client, client_secret: "not-the-secret" }),
      "invalid_client",
      401,
    );
  });

  it("refuses a client not registered for the device grant (unauthorized_client), a scope it may not have (invalid_scope), and a resource", async () => {
    const codeClient = await registerClient({ token_endpoint_auth_method: "none" });
    await expectTokenError(await requestDeviceCodes(codeClient), "unauthorized_client");
    const client = await registerDeviceClient({ scope: "openid profile" });
    await expectTokenError(await requestDeviceCodes(client, { scope: "email" }), "invalid_scope");
    await expectTokenError(
      await requestDeviceCodes(client, { resource: "https://api.example.test" }),
      "invalid_target",
    );
  });

  it("is in discovery: device_authorization_endpoint, and the grant type in grant_types_supported (RFC 8628 §4)", async () => {
    const doc = await json<Record<string, unknown>>(
      await call("/.well-known/openid-configuration"),
    );
    expect(doc.device_authorization_endpoint).toBe(`${ISSUER}/device_authorization`);
    expect(doc.grant_types_supported).toContain(DEVICE_GRANT);
  });
});

describe("polling the token endpoint (RFC 8628 §3.4, §3.5)", () => {
  it("end to end: authorization_pending, slow_down (the interval raised by 5 s and kept), the user's approval, the tokens, and a refresh", async () => {
    const client = await registerDeviceClient();
    const user = await registerUser();
    const codes = await deviceCodes(client, { scope: "openid profile offline_access" });

    await expectTokenError(await poll(client, codes.device_code), "authorization_pending");
    // Again at once, before the 5 s interval: slow_down, and 10 s from now on.
    const slow = await expectTokenError(await poll(client, codes.device_code), "slow_down");
    expect(slow.error_description).toMatch(DESCRIPTION_CHARSET);
    expect(await deviceState(codes.device_code)).toMatchObject({ device: { interval: 10 } });
    await expectTokenError(await poll(client, codes.device_code), "slow_down");
    expect(await deviceState(codes.device_code)).toMatchObject({ device: { interval: 15 } });
    // Having waited the (raised) interval: pending again, and the interval stays raised.
    await waitedInterval(codes.device_code);
    await expectTokenError(await poll(client, codes.device_code), "authorization_pending");
    expect(await deviceState(codes.device_code)).toMatchObject({ device: { interval: 15 } });

    await approve(user, codes.user_code);
    await waitedInterval(codes.device_code);
    const res = await poll(client, codes.device_code);
    expect(res.status, await res.clone().text()).toBe(200);
    const tokens = await json<TokenSet>(res);
    expect(tokens.token_type).toBe("Bearer");
    expect(tokens.scope).toBe("openid profile offline_access");
    expect(tokens.refresh_token).toMatch(/^rt1\./);
    expect(tokens.id_token).toBeTruthy();
    const me = await json<{ sub: string }>(await userinfo(tokens.access_token));
    expect(me.sub).toBe(user.id);

    // A public client's refresh tokens rotate (its policy), as from a code.
    const refreshed = await refreshOk(client, tokens.refresh_token as string);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    await refreshRefused(client, tokens.refresh_token);
  });

  it("refresh tokens follow the client's policy: none without the refresh_token grant type", async () => {
    const client = await registerDeviceClient({ grant_types: [DEVICE_GRANT] });
    const user = await registerUser();
    const codes = await deviceCodes(client, { scope: "openid" });
    await approve(user, codes.user_code);
    const res = await poll(client, codes.device_code);
    expect(res.status).toBe(200);
    expect((await json<TokenSet>(res)).refresh_token).toBeUndefined();
  });

  it("denied on the page: access_denied, and it stays so", async () => {
    const client = await registerDeviceClient();
    const user = await registerUser();
    const codes = await deviceCodes(client);
    const { html } = await answerOnPage(user, codes.user_code, "deny");
    expect(html).toContain("Request denied");
    await expectTokenError(await poll(client, codes.device_code), "access_denied");
    await expectTokenError(await poll(client, codes.device_code), "access_denied");
  });

  it("expired: expired_token, even once the user had approved", async () => {
    const client = await registerDeviceClient();
    const user = await registerUser();
    const codes = await deviceCodes(client);
    await approve(user, codes.user_code);
    await expired(codes.device_code);
    await expectTokenError(await poll(client, codes.device_code), "expired_token");
  });

  it("reused: a device code redeemed once is invalid_grant, and the tokens it gave are revoked", async () => {
    // Confidential, so that it may introspect its tokens.
    const client = await registerDeviceClient({
      token_endpoint_auth_method: "client_secret_basic",
    });
    const user = await registerUser();
    const codes = await deviceCodes(client, { scope: "openid offline_access" });
    await approve(user, codes.user_code);
    const tokens = await json<TokenSet>(await poll(client, codes.device_code));
    expect(await introspect(client, tokens.refresh_token as string)).toMatchObject({
      active: true,
    });
    const again = await expectTokenError(await poll(client, codes.device_code), "invalid_grant");
    expect(again.error_description).toMatch(/already used/);
    expect(await deviceState(codes.device_code)).toMatchObject({
      status: "revoked",
      reason: "device_code_reuse",
    });
    await refreshRefused(client, tokens.refresh_token);
    expect(await introspect(client, tokens.access_token)).toEqual({ active: false });
  });

  it("wrong client: another client's device code is invalid_grant and changes nothing for its own client", async () => {
    const client = await registerDeviceClient();
    const other = await registerDeviceClient();
    const user = await registerUser();
    const codes = await deviceCodes(client);
    const refused = await expectTokenError(await poll(other, codes.device_code), "invalid_grant");
    expect(refused.error_description).toMatch(/another client/);
    await expectTokenError(await poll(client, codes.device_code), "authorization_pending");
    await approve(user, codes.user_code);
    await expectTokenError(await poll(other, codes.device_code), "invalid_grant");
    expect((await poll(client, codes.device_code)).status).toBe(200);
  });

  it("parallel polls of one approved device code: exactly one token response, never two grants", async () => {
    const client = await registerDeviceClient();
    const user = await registerUser();
    const codes = await deviceCodes(client, { scope: "openid offline_access" });
    await approve(user, codes.user_code);
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        poll(client, codes.device_code).then(async (r) => ({
          status: r.status,
          body: await r.json(),
        })),
      ),
    );
    const won = results.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    for (const r of results.filter((o) => o.status !== 200))
      expect((r.body as { error: string }).error).toBe("invalid_grant");
  });

  it("a device code is only a device code: not an authorization code, a refresh token, or a forgery", async () => {
    const client = await registerDeviceClient({
      grant_types: ["authorization_code", "refresh_token", DEVICE_GRANT],
      redirect_uris: ["https://app.example.test/callback"],
    });
    const user = await registerUser();
    const { code } = await authorizationCode(client, user);
    await expectTokenError(await poll(client, code), "invalid_grant");
    const codes = await deviceCodes(client);
    const tampered = `${codes.device_code.slice(0, -2)}${codes.device_code.endsWith("A") ? "B" : "A"}A`;
    await expectTokenError(await poll(client, tampered), "invalid_grant");
    await refreshRefused(client, codes.device_code);
    await expectTokenError(await poll(client, "not-a-code"), "invalid_grant");
    // Untouched by all of that.
    await expectTokenError(await poll(client, codes.device_code), "authorization_pending");
  });

  it("a client that lost the device grant since is unauthorized_client at its next poll", async () => {
    const client = await registerDeviceClient();
    const codes = await deviceCodes(client);
    await adminCall("PATCH", `/admin/clients/${client.client_id}`, {
      grant_types: ["authorization_code", "refresh_token"],
      redirect_uris: ["https://app.example.test/callback"],
    });
    await expectTokenError(await poll(client, codes.device_code), "unauthorized_client");
  });
});
