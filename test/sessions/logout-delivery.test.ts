import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import type { Delivery } from "../../src/sessions/logout-deliveries";
import { RETRY } from "../../src/sessions/logout-deliveries";
import { logoutDeliveryObject } from "../../src/sessions/logout-delivery";
import { Browser, codeFlow } from "../support/browser";
import { eventsOnceStored } from "../support/events";
import {
  type RegisteredClient,
  registerClient,
  registerUser,
  type TestUser,
} from "../support/fixtures";
import { adminCall, call, ISSUER, json } from "../support/http";

/**
 * OpenID Connect Back-Channel Logout 1.0 (src/sessions/): when a login
 * session ends at /logout, every client the session authorized that
 * registered a backchannel_logout_uri is POSTed a signed logout token by the
 * session's LogoutDelivery object, off the request's path, and retried with
 * back-off while it fails. The receiving relying party is a second Worker
 * (test/fixtures/logout-receiver, bound as BACKCHANNEL_LOGOUT_FETCHER).
 */

const receiver = (env as unknown as { BACKCHANNEL_LOGOUT_FETCHER: Fetcher })
  .BACKCHANNEL_LOGOUT_FETCHER;

let counter = 0;
/** A back-channel logout URI of this test's own (the receiver keeps what it got per URL). */
const receiverUri = () => `https://rp.example.test/backchannel/${Date.now()}-${counter++}`;

interface Received {
  method: string;
  contentType: string | null;
  body: string;
}

async function received(uri: string): Promise<Received[]> {
  const res = await receiver.fetch(
    `https://receiver.test/__received?url=${encodeURIComponent(uri)}`,
  );
  return (await res.json<{ requests: Received[] }>()).requests;
}

/** The requests `uri` got, once there are at least `count` (the delivery is not the request's). */
async function receivedOnce(uri: string, count = 1, timeoutMs = 5_000): Promise<Received[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const requests = await received(uri);
    if (requests.length >= count || Date.now() > deadline) return requests;
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function failNext(uri: string, count: number, status: number): Promise<void> {
  await receiver.fetch("https://receiver.test/__fail", {
    method: "POST",
    body: JSON.stringify({ url: uri, count, status }),
  });
}

const backchannelClient = (uri?: string) =>
  registerClient({ consent: "implicit", ...(uri ? { backchannel_logout_uri: uri } : {}) });

/** Signs `user` in to each client in one browser: one session. */
async function session(user: TestUser, clients: RegisteredClient[], browser = new Browser()) {
  let idToken = "";
  for (const c of clients)
    idToken = (await codeFlow(c, user, { browser, scope: "openid" })).id_token as string;
  return { browser, idToken, sid: decodeJwt(idToken).sid as string };
}

async function logOut(browser: Browser, idToken: string): Promise<Response> {
  const res = await browser.get(`/logout?${new URLSearchParams({ id_token_hint: idToken })}`);
  expect(res.status).toBe(200);
  expect(await res.text()).toContain("You have signed out");
  return res;
}

const tokenOf = (request: Received): string =>
  new URLSearchParams(request.body).get("logout_token") as string;

async function verifyLogoutToken(token: string, audience: string) {
  const jwks = createLocalJWKSet(await json(await call("/jwks")));
  return jwtVerify(token, jwks, { issuer: ISSUER, audience, typ: "logout+jwt" });
}

/** The deliveries still owed for a session, once their attempts reach `attempts`. */
async function pendingAfter(sub: string, sid: string, attempts: number): Promise<Delivery[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const pending = await logoutDeliveryObject(env, sub, sid).pending();
    if (pending.every((d) => d.attempts >= attempts) || Date.now() > deadline) return pending;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("back-channel logout", () => {
  it("is announced in discovery", async () => {
    const metadata = await json(await call("/.well-known/openid-configuration"));
    expect(metadata.backchannel_logout_supported).toBe(true);
    expect(metadata.backchannel_logout_session_supported).toBe(true);
  });

  it("POSTs the client a logout token that verifies against our JWKS, with every claim §2.4 requires and no nonce", async () => {
    const uri = receiverUri();
    const c = await backchannelClient(uri);
    const user = await registerUser();
    const { browser, idToken, sid } = await session(user, [c]);
    await logOut(browser, idToken);

    const [request, ...more] = await receivedOnce(uri);
    expect(more).toEqual([]);
    // §2.5: a form POST whose one parameter is logout_token.
    expect(request?.method).toBe("POST");
    expect(request?.contentType).toBe("application/x-www-form-urlencoded");
    expect([...new URLSearchParams(request?.body).keys()]).toEqual(["logout_token"]);
    const token = tokenOf(request as Received);

    const { payload, protectedHeader } = await verifyLogoutToken(token, c.client_id);
    expect(protectedHeader.typ).toBe("logout+jwt");
    // Signed as the client's ID tokens are (RS256 unless it asked otherwise).
    expect(protectedHeader.alg).toBe(decodeProtectedHeader(idToken).alg);
    expect(payload).toEqual({
      iss: ISSUER,
      aud: c.client_id,
      sub: user.id,
      sid,
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      events: { "http://schemas.openid.net/event/backchannel-logout": {} },
    });
    expect(payload).not.toHaveProperty("nonce");
    const { iat, exp } = payload as { iat: number; exp: number };
    expect(exp - iat).toBeGreaterThan(0);
    expect(exp - iat).toBeLessThanOrEqual(120);

    // Recorded in the security events: who was told, on which attempt, the answer; never the token.
    const [event] = await eventsOnceStored({ type: "logout.delivered", client_id: c.client_id });
    expect(event).toMatchObject({
      sub: user.id,
      client_id: c.client_id,
      details: { sid, attempt: 1, status: 200, reason: "logout" },
    });
    expect(JSON.stringify(event)).not.toContain(token.split(".")[2]);
  });

  it("sends a token that passes for no other: not an id_token_hint at /logout", async () => {
    const uri = receiverUri();
    const c = await backchannelClient(uri);
    const user = await registerUser();
    const first = await session(user, [c]);
    await logOut(first.browser, first.idToken);
    const [request] = await receivedOnce(uri);
    const second = await session(user, [c]);
    const res = await second.browser.get(
      `/logout?${new URLSearchParams({ id_token_hint: tokenOf(request as Received) })}`,
    );
    expect(res.status).toBe(400);
    expect(second.browser.hasCookie("__Host-ets_session")).toBe(true);
  });

  it("retries a failing receiver with back-off until it answers 200, the same jti each time, every attempt a security event", async () => {
    const uri = receiverUri();
    await failNext(uri, 2, 503);
    const c = await backchannelClient(uri);
    const user = await registerUser();
    const { browser, idToken, sid } = await session(user, [c]);
    const before = Date.now();
    await logOut(browser, idToken);

    // The first attempt is the alarm's, at once; the next is due 5 s later, then 10 s.
    const [afterOne] = await pendingAfter(user.id, sid, 1);
    expect(afterOne?.attempts).toBe(1);
    expect(afterOne?.dueAt).toBeGreaterThanOrEqual(before + RETRY.firstDelayMs);
    const stub = logoutDeliveryObject(env, user.id, sid);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const [afterTwo] = await stub.pending();
    expect(afterTwo?.attempts).toBe(2);
    expect((afterTwo?.dueAt ?? 0) - Date.now()).toBeGreaterThan(RETRY.firstDelayMs);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.pending()).toEqual([]);
    expect(await runDurableObjectAlarm(stub)).toBe(false); // nothing left: no alarm

    const requests = await received(uri);
    expect(requests).toHaveLength(3);
    const tokens = await Promise.all(
      requests.map(async (r) => (await verifyLogoutToken(tokenOf(r), c.client_id)).payload),
    );
    expect(new Set(tokens.map((t) => t.jti)).size).toBe(1);

    const failed = await eventsOnceStored(
      { type: "logout.delivery_failed", client_id: c.client_id },
      2,
    );
    expect(
      failed.map((e) => e.details).sort((a, b) => Number(a.attempt) - Number(b.attempt)),
    ).toMatchObject([
      { attempt: 1, status: 503, retryInSeconds: 5 },
      { attempt: 2, status: 503, retryInSeconds: 10 },
    ]);
    const [done] = await eventsOnceStored({ type: "logout.delivered", client_id: c.client_id });
    expect(done?.details).toMatchObject({ attempt: 3, status: 200 });
  });

  it("counts a redirect as a failure and never follows it; a 204 is a success", async () => {
    const uri = receiverUri();
    await failNext(uri, 1, 302);
    const c = await backchannelClient(uri);
    const user = await registerUser();
    const { browser, idToken, sid } = await session(user, [c]);
    await logOut(browser, idToken);
    expect((await pendingAfter(user.id, sid, 1))[0]?.attempts).toBe(1);
    expect(await received("https://elsewhere.test/")).toEqual([]);
    await failNext(uri, 1, 204); // "failing" with 204: the answer §2.8 also counts as success
    expect(await runDurableObjectAlarm(logoutDeliveryObject(env, user.id, sid))).toBe(true);
    expect(await logoutDeliveryObject(env, user.id, sid).pending()).toEqual([]);
    const [done] = await eventsOnceStored({ type: "logout.delivered", client_id: c.client_id });
    expect(done?.details).toMatchObject({ attempt: 2, status: 204 });
  });

  it(`gives up after ${RETRY.maxAttempts} attempts, and says so in the security events`, async () => {
    const uri = receiverUri();
    await failNext(uri, 1000, 500);
    const c = await backchannelClient(uri);
    const user = await registerUser();
    const { browser, idToken, sid } = await session(user, [c]);
    await logOut(browser, idToken);
    await pendingAfter(user.id, sid, 1);
    const stub = logoutDeliveryObject(env, user.id, sid);
    for (let attempt = 2; attempt <= RETRY.maxAttempts; attempt++)
      expect(await runDurableObjectAlarm(stub), `attempt ${attempt}`).toBe(true);
    expect(await stub.pending()).toEqual([]);
    expect(await received(uri)).toHaveLength(RETRY.maxAttempts);
    const [abandoned] = await eventsOnceStored({
      type: "logout.delivery_abandoned",
      client_id: c.client_id,
    });
    expect(abandoned).toMatchObject({
      level: "warn",
      details: { attempt: RETRY.maxAttempts, status: 500 },
    });
  });

  it("tells only the session's clients, and only those that registered a URI", async () => {
    const [told, otherSession, untold] = [receiverUri(), receiverUri(), receiverUri()];
    const inSession = await backchannelClient(told);
    const elsewhere = await backchannelClient(otherSession);
    const withoutUri = await backchannelClient();
    const user = await registerUser();
    const mine = await session(user, [inSession, withoutUri]);
    await session(user, [elsewhere]); // the same user, another browser: another session

    await logOut(mine.browser, mine.idToken);
    expect(await receivedOnce(told)).toHaveLength(1);
    const pending = await pendingAfter(user.id, mine.sid, 1);
    expect(pending).toEqual([]); // one delivery was owed, and it is made
    expect(await received(otherSession)).toEqual([]);
    expect(await received(untold)).toEqual([]);
    const events = await eventsOnceStored({ sub: user.id, type: "logout.delivered" });
    expect(events.map((e) => e.client_id)).toEqual([inSession.client_id]);
    expect(withoutUri.backchannel_logout_uri).toBeNull();
  });

  const endings: [string, (user: TestUser) => Promise<Response>, string][] = [
    [
      "a password change",
      (u) =>
        adminCall("PUT", `/admin/users/${u.id}/password`, { password: "a brand new passphrase" }),
      "password_changed",
    ],
    ["a block", (u) => adminCall("POST", `/admin/users/${u.id}/block`), "user_blocked"],
    ["a deletion", (u) => adminCall("DELETE", `/admin/users/${u.id}`), "user_deleted"],
  ];
  for (const [what, end, reason] of endings) {
    it(`tells the clients of every session that ${what} ends`, async () => {
      const [first, second] = [receiverUri(), receiverUri()];
      const a = await backchannelClient(first);
      const b = await backchannelClient(second);
      const user = await registerUser();
      const one = await session(user, [a]);
      const two = await session(user, [b]);
      const res = await end(user);
      expect(res.status, await res.clone().text()).toBeLessThan(300);
      const [toA] = await receivedOnce(first);
      const [toB] = await receivedOnce(second);
      expect((await verifyLogoutToken(tokenOf(toA as Received), a.client_id)).payload.sid).toBe(
        one.sid,
      );
      expect((await verifyLogoutToken(tokenOf(toB as Received), b.client_id)).payload.sid).toBe(
        two.sid,
      );
      const events = await eventsOnceStored({ sub: user.id, type: "logout.delivered" }, 2);
      expect(events.map((e) => e.details.reason)).toEqual([reason, reason]);
    });
  }
});
