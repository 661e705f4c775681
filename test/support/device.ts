import { expect } from "vitest";
import type { FamilyState } from "../../src/families/model";
import { isConsentPage, isLoginPage } from "./authorize";
import { Browser } from "./browser";
import {
  clientAuth,
  type RegisteredClient,
  registerClient,
  type TestUser,
  tokenRequest,
} from "./fixtures";
import { json, postForm } from "./http";
import { rewriteFamily, storedFamily } from "./refresh";

/**
 * The device authorization grant (RFC 8628) as a device and its user drive
 * it: the device asks /device_authorization for its codes and polls /token;
 * the user types the code at /device, signs in and answers the consent page.
 */

export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

/** A device client: public (a TV app has no secret) unless `overrides` says otherwise. */
export const registerDeviceClient = (overrides: Record<string, unknown> = {}) =>
  registerClient({
    client_name: "Living Room TV",
    redirect_uris: [],
    grant_types: [DEVICE_GRANT, "refresh_token"],
    token_endpoint_auth_method: "none",
    ...overrides,
  });

export interface DeviceCodes {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** POST /device_authorization, authenticated as `client` (RFC 8628 §3.1). */
export function requestDeviceCodes(
  client: RegisteredClient,
  params: Record<string, string | undefined> = {},
): Promise<Response> {
  const auth = clientAuth(client);
  return postForm("/device_authorization", { ...auth.params, ...params }, auth.headers);
}

export async function deviceCodes(
  client: RegisteredClient,
  params: Record<string, string | undefined> = {},
): Promise<DeviceCodes> {
  const res = await requestDeviceCodes(client, params);
  expect(res.status, await res.clone().text()).toBe(200);
  return json<DeviceCodes>(res);
}

/** One poll of the token endpoint with the device code (RFC 8628 §3.4). */
export const poll = (client: RegisteredClient, deviceCode: string): Promise<Response> =>
  tokenRequest(client, { grant_type: DEVICE_GRANT, device_code: deviceCode });

/** The family id a device code carries (`dc1.<family id>.<…>`). */
export const deviceFamilyId = (deviceCode: string): string => deviceCode.split(".")[1] as string;

export const deviceState = (deviceCode: string): Promise<FamilyState | undefined> =>
  storedFamily(deviceFamilyId(deviceCode));

/**
 * Test setup, not a mock: moves the device's last poll back by its interval,
 * as if the device had waited, so a test need not sleep 5 seconds.
 */
export const waitedInterval = (deviceCode: string): Promise<void> =>
  rewriteFamily(deviceFamilyId(deviceCode), (state) =>
    state.status === "device" && state.device.lastPolledAt !== undefined
      ? {
          ...state,
          device: {
            ...state.device,
            lastPolledAt: state.device.lastPolledAt - state.device.interval * 1000,
          },
        }
      : state,
  );

/** Test setup: the device authorization's expiry moved into the past. */
export const expired = (deviceCode: string): Promise<void> =>
  rewriteFamily(deviceFamilyId(deviceCode), (state) =>
    state.status === "device"
      ? { ...state, device: { ...state.device, expiresAt: Date.now() - 1 } }
      : state,
  );

/** Types `typed` at /device; returns the page after it (login, consent, or the entry page again). */
export async function enterUserCode(browser: Browser, typed: string): Promise<Response> {
  const entry = await browser.get("/device");
  expect(entry.status).toBe(200);
  return browser.submit(await entry.text(), { user_code: typed });
}

/**
 * The user's whole part: the code at /device, the sign-in when asked, and
 * the answer on the consent page (which must show the code). Returns the last page.
 */
export async function answerOnPage(
  user: TestUser,
  userCode: string,
  decision: "allow" | "deny" = "allow",
  browser = new Browser(),
): Promise<{ res: Response; html: string; browser: Browser }> {
  let res = await enterUserCode(browser, userCode);
  let html = await res.text();
  if (isLoginPage(html)) {
    res = await browser.submit(html, { username: user.username, password: user.password });
    html = await res.text();
  }
  expect(isConsentPage(html), html.slice(0, 400)).toBe(true);
  expect(html).toContain(userCode);
  res = await browser.submit(html, { decision });
  html = await res.text();
  return { res, html, browser };
}

/** Approves on the page and checks the page says so. */
export async function approve(user: TestUser, userCode: string, browser?: Browser): Promise<void> {
  const { res, html } = await answerOnPage(user, userCode, "allow", browser);
  expect(res.status, html.slice(0, 400)).toBe(200);
  expect(html).toContain("Device connected");
}
