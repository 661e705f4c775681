import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import type { TokenFamily } from "../../src/families/token-family";
import { REQUEST_ID_HEADER } from "../../src/http/request-id";
import { authorizationCode } from "../support/authorize";
import { authorizeUrl, Browser, codeFlow, pkce, signInAndAuthorize } from "../support/browser";
import {
  clientAuth,
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  registerUser,
} from "../support/fixtures";
import { ADMIN_TOKEN, call, formBody } from "../support/http";
import { familyIdOf, grantWithRefresh } from "../support/refresh";
import type { LogLine } from "../support/revocation";
import {
  capturingLogs,
  expectJsonError,
  failAfterWrites,
  familyStub,
  restoreWrites,
} from "../support/security";

/**
 * Every log line carries the id of the request it was written for: the
 * request's `cf-ray` (else a fresh id), which the response returns as
 * `X-Request-Id`, so a user can quote it and an operator find every line of
 * that request. Lines written inside Durable Objects carry it too: each call
 * that may log passes it along, since an object cannot see its caller's
 * request. An alarm, which no request caused, has an id of its own.
 *
 * One property over representative requests: each is sent with its own
 * cf-ray, every console line written while it is handled is captured, and
 * every one must be a JSON line whose requestId is that cf-ray and the
 * response's X-Request-Id. The Durable Objects run in this workerd process
 * and isolate, so their console is captured as well: each request names the
 * events it must have written, among them events only an object writes
 * (below), so the property can neither hold vacuously nor miss the objects.
 * An object does not inherit its caller's AsyncLocalStorage here either:
 * without the id passed to TokenFamily.refresh, its grace and reuse lines say
 * "none" and these tests fail (tried), so they prove the id is passed.
 */

/**
 * Events written only inside a Durable Object (every other event is written
 * by the Worker). Each is checked by some request below (see afterAll).
 */
const WRITTEN_IN_AN_OBJECT = [
  "refresh.grace_used", // TokenFamily.refresh
  "refresh.reuse_detected", // TokenFamily.refresh
  "code.reuse_detected", // TokenFamily.redeem
  "family.revoked", // TokenFamily, reached from the Worker or through the User object
  "revocation_publish_failed", // TokenFamily, on a request or in its alarm
  "user.login_failed", // Username.login
  "user.locked_out", // Username.login
  "signing_key.created", // SigningKeys
];

/** A ray id as Cloudflare's edge sets it: 16 hex digits and the data centre. */
function newRay(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return `${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}-TST`;
}

/** The events of the lines whose id was checked, for the afterAll below. */
const checked = new Set<unknown>();

/** A line carries `id`. */
function expectId(line: LogLine, id: string): void {
  expect(line.requestId, `${line.event} carries its request's id`).toBe(id);
  checked.add(line.event);
}

afterAll(() => {
  expect([...checked]).toEqual(expect.arrayContaining(WRITTEN_IN_AN_OBJECT));
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Handled {
  /** The cf-ray sent, or (none sent) the X-Request-Id answered. */
  id: string;
  res: Response;
  lines: LogLine[];
}

/** Every captured console line, each of which must be one JSON object. */
function parsed(raw: string[]): LogLine[] {
  return raw.map((text) => {
    let line: unknown;
    expect(
      () => {
        line = JSON.parse(text);
      },
      `a JSON line: ${text.slice(0, 200)}`,
    ).not.toThrow();
    return line as LogLine;
  });
}

/**
 * Sends one request with `ray` as its cf-ray (null: none) and keeps every
 * line written while it is handled.
 */
async function handled(
  path: string,
  init: RequestInit = {},
  ray: string | null = newRay(),
): Promise<Handled> {
  const headers = new Headers(init.headers);
  if (ray !== null) headers.set("cf-ray", ray);
  const { result: res, lines } = await capturingLogs(() => call(path, { ...init, headers }));
  return { id: ray ?? (res.headers.get(REQUEST_ID_HEADER) as string), res, lines: parsed(lines) };
}

function form(
  path: string,
  client: RegisteredClient | undefined,
  params: Record<string, string>,
): Promise<Handled> {
  const auth = client ? clientAuth(client) : { headers: {}, params: {} };
  return handled(path, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...auth.headers },
    body: formBody({ ...auth.params, ...params }),
  });
}

function admin(method: string, path: string, body?: unknown): Promise<Handled> {
  return handled(path, {
    method,
    headers: {
      Authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

/**
 * The property: the response names the request's id, the request wrote at
 * least `events`, and every line it wrote carries its id. Returns the lines.
 */
function expectEveryLineCarriesItsId(request: Handled, events: string[]): LogLine[] {
  expect(request.res.headers.get(REQUEST_ID_HEADER)).toBe(request.id);
  expect(request.lines.map((line) => line.event)).toEqual(expect.arrayContaining(events));
  for (const line of request.lines) expectId(line, request.id);
  return request.lines;
}

/** A browser whose every request is sent with its own cf-ray, and kept with the lines it caused. */
class TracedBrowser extends Browser {
  readonly requests: Handled[] = [];

  override async request(path: string, init: RequestInit = {}): Promise<Response> {
    const id = newRay();
    const headers = new Headers(init.headers);
    headers.set("cf-ray", id);
    const { result: res, lines } = await capturingLogs(() =>
      super.request(path, { ...init, headers }),
    );
    this.requests.push({ id, res, lines: parsed(lines) });
    return res;
  }
}

const refreshWith = (client: RegisteredClient, token: string) =>
  form("/token", client, { grant_type: "refresh_token", refresh_token: token });

const refreshTokenOf = async (request: Handled): Promise<string> => {
  expect(request.res.status, await request.res.clone().text()).toBe(200);
  return ((await request.res.json()) as { refresh_token: string }).refresh_token;
};

describe("every log line carries its request's id (cf-ray), the Durable Objects' lines included", () => {
  it("the browser flow: a failed sign-in (in the Username object), sign-in, consent, and the code redeemed", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const browser = new TracedBrowser();
    const { verifier, challenge } = await pkce();
    const page = await (await browser.get(authorizeUrl(client, { challenge }))).text();
    const failed = await browser.submit(page, {
      username: user.username,
      password: "not the password",
    });
    expect(failed.status).toBe(401);
    const failedSignIn = browser.requests.at(-1);
    const redirect = await signInAndAuthorize(browser, client, user, { challenge });
    const code = redirect.searchParams.get("code") as string;
    const redeemed = await form("/token", client, {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    });

    expect(browser.requests.length).toBeGreaterThanOrEqual(5); // authorize, login ×2, authorize, consent
    for (const request of browser.requests) {
      expectEveryLineCarriesItsId(request, request === failedSignIn ? ["user.login_failed"] : []);
    }
    expectEveryLineCarriesItsId(redeemed, ["token.issued"]);
  });

  it("sign-ins refused until the name is locked for the address: user.login_failed, user.locked_out", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const browser = new TracedBrowser();
    let page = await (await browser.get(authorizeUrl(client))).text();
    const attempts: Handled[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await browser.submit(page, { username: user.username, password: `wrong ${i}` });
      expect(res.status).toBe(401);
      attempts.push(browser.requests.at(-1) as Handled);
      page = await res.text();
    }
    for (const request of browser.requests) expectEveryLineCarriesItsId(request, []);
    for (const attempt of attempts) expectEveryLineCarriesItsId(attempt, ["user.login_failed"]);
    expectEveryLineCarriesItsId(attempts.at(-1) as Handled, ["user.locked_out"]);
  });

  it("refresh, a retry within the grace window, and reuse after the successor was used (the family's lines)", async () => {
    const grant = await grantWithRefresh({ client: { refresh_token: { grace_seconds: 30 } } });
    const rotated = await refreshWith(grant.client, grant.refreshToken);
    const successor = await refreshTokenOf(rotated);
    const retried = await refreshWith(grant.client, grant.refreshToken);
    expect(await refreshTokenOf(retried)).toBe(successor);
    await refreshTokenOf(await refreshWith(grant.client, successor));
    const reused = await refreshWith(grant.client, grant.refreshToken);
    expect(reused.res.status).toBe(400);

    expectEveryLineCarriesItsId(rotated, ["token.refreshed"]);
    expectEveryLineCarriesItsId(retried, ["refresh.grace_used", "token.refreshed"]);
    expectEveryLineCarriesItsId(reused, ["refresh.reuse_detected", "family.revoked"]);
  });

  it("a code redeemed twice: code.reuse_detected and family.revoked, written by the family", async () => {
    const client = await registerClient({ consent: "implicit" });
    const { code, verifier } = await authorizationCode(client, await registerUser());
    const redeem = () =>
      form("/token", client, {
        grant_type: "authorization_code",
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
      });
    const first = await redeem();
    const second = await redeem();
    expect(second.res.status).toBe(400);

    expectEveryLineCarriesItsId(first, ["token.issued"]);
    expectEveryLineCarriesItsId(second, ["code.reuse_detected", "family.revoked"]);
  });

  it("/revoke with a refresh token (in the family) and with an access token", async () => {
    const grant = await grantWithRefresh();
    const byAccessToken = await form("/revoke", grant.client, {
      token: grant.tokens.access_token,
    });
    const byRefreshToken = await form("/revoke", grant.client, { token: grant.refreshToken });

    expectEveryLineCarriesItsId(byAccessToken, ["access_token.revoked"]);
    expectEveryLineCarriesItsId(byRefreshToken, ["family.revoked"]);
  });

  it("admin actions that reach families through the User object: one grant, all grants, a password, a block, a deletion", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const browser = new Browser();
    const liveGrant = async () =>
      familyIdOf((await codeFlow(client, user, { browser })).refresh_token as string);

    const one = await admin("DELETE", `/admin/users/${user.id}/grants/${await liveGrant()}`);
    await liveGrant();
    const all = await admin("DELETE", `/admin/users/${user.id}/grants`);
    await liveGrant();
    const password = await admin("PUT", `/admin/users/${user.id}/password`, {
      password: "another long passphrase",
    });
    user.password = "another long passphrase";
    await liveGrant();
    const block = await admin("POST", `/admin/users/${user.id}/block`);
    await admin("POST", `/admin/users/${user.id}/unblock`);
    await liveGrant();
    const deletion = await admin("DELETE", `/admin/users/${user.id}`);

    expectEveryLineCarriesItsId(one, ["grant.revoked", "family.revoked"]);
    expectEveryLineCarriesItsId(all, ["grants.revoked", "family.revoked"]);
    expectEveryLineCarriesItsId(password, ["user.password_set", "family.revoked"]);
    expectEveryLineCarriesItsId(block, ["user.blocked", "family.revoked"]);
    expectEveryLineCarriesItsId(deletion, ["user.deleted", "family.revoked"]);
  });

  it("admin key actions: the keys they create are logged inside the SigningKeys object", async () => {
    const rotated = await admin("POST", "/admin/keys/rotate");
    const { kid } = (await rotated.res.clone().json()) as { kid: string };
    const revokedKey = await admin("POST", `/admin/keys/${kid}/revoke`);

    expectEveryLineCarriesItsId(rotated, ["signing_key.rotated", "signing_key.created"]);
    expectEveryLineCarriesItsId(revokedKey, ["signing_key.revoked", "signing_key.created"]);
  });

  it("a refused admin token: admin.auth_failed", async () => {
    const refused = await handled("/admin/clients", {
      headers: { Authorization: "Bearer not-the-admin-token" },
    });
    expect(refused.res.status).toBe(401);
    expectEveryLineCarriesItsId(refused, ["admin.auth_failed"]);
  });

  it("a 500: the error line with its error id, and what the objects wrote before the fault; then the user's alarm finishes with an id of its own", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const browser = new Browser();
    const families: string[] = [];
    for (let i = 0; i < 2; i++) {
      families.push(
        familyIdOf((await codeFlow(client, user, { browser })).refresh_token as string),
      );
    }
    await failAfterWrites(familyStub(families[1] as string));
    const block = await admin("POST", `/admin/users/${user.id}/block`);
    await expectJsonError(block.res.clone(), 500, "server_error");
    const lines = expectEveryLineCarriesItsId(block, ["family.revoked", "unhandled_exception"]);
    const errorId = /error id ([0-9a-f]{16})/.exec(await block.res.text())?.[1];
    expect(lines.find((line) => line.event === "unhandled_exception")?.errorId).toBe(errorId);

    // No request: the user's alarm revokes the family the fault left, under its own id.
    await restoreWrites(familyStub(families[1] as string));
    const userObject = env.USER.getByName(user.id);
    const alarm = await capturingLogs(() => runDurableObjectAlarm(userObject));
    expect(alarm.result).toBe(true);
    const alarmLines = parsed(alarm.lines);
    expect(alarmLines).toContainEqual(
      expect.objectContaining({ event: "family.revoked", familyId: families[1] }),
    );
    for (const line of alarmLines) {
      expectId(line, `alarm:User:${env.USER.idFromName(user.id).toString()}`);
    }
  });
});

describe("the request id", () => {
  it("without a cf-ray: a fresh id per request, answered as X-Request-Id and carried by every line", async () => {
    const grant = await grantWithRefresh();
    const noRay = (token: string) =>
      handled(
        "/revoke",
        {
          method: "POST",
          headers: {
            "Content-Type": "application/x-www-form-urlencoded",
            ...clientAuth(grant.client).headers,
          },
          body: formBody({ token }),
        },
        null,
      );
    const a = await noRay(grant.tokens.access_token);
    const b = await noRay(grant.refreshToken);

    expect(a.id).toMatch(UUID);
    expect(b.id).toMatch(UUID);
    expect(a.id).not.toBe(b.id);
    expectEveryLineCarriesItsId(a, ["access_token.revoked"]);
    expectEveryLineCarriesItsId(b, ["family.revoked"]);
  });

  it("a cf-ray that is not shaped like a ray id is not taken: a fresh id instead", async () => {
    for (const ray of ['a"b', "a b", "a\\b", "x".repeat(65), "{}"]) {
      const res = await call("/nowhere", { headers: { "cf-ray": ray } });
      expect(res.headers.get(REQUEST_ID_HEADER), ray).toMatch(UUID);
    }
  });

  it("is on every response: 404, 405, a redirect, and readable by browser apps (CORS)", async () => {
    const ray = newRay();
    const headers = { "cf-ray": ray };
    expect((await call("/nowhere", { headers })).headers.get(REQUEST_ID_HEADER)).toBe(ray);
    expect((await call("/token", { headers })).headers.get(REQUEST_ID_HEADER), "405").toBe(ray);
    const client = await registerClient();
    const authorize = await call(authorizeUrl(client, { prompt: "none" }), {
      headers,
      redirect: "manual",
    });
    expect(authorize.status).toBe(302);
    expect(authorize.headers.get(REQUEST_ID_HEADER)).toBe(ray);
    const jwks = await call("/jwks", {
      headers: { ...headers, Origin: "https://app.example.test" },
    });
    expect(jwks.headers.get("access-control-expose-headers")).toMatch(/x-request-id/i);
  });

  it("parallel requests never mix their ids, in the Worker or in the families", async () => {
    const grants = await Promise.all(
      Array.from({ length: 6 }, () =>
        grantWithRefresh({ client: { refresh_token: { grace_seconds: 0 } } }),
      ),
    );
    const rays = new Map<string, string>(); // family id → the ray of its request
    const { lines } = await capturingLogs(() =>
      Promise.all(
        grants.flatMap((grant) => {
          const ray = newRay();
          rays.set(grant.familyId, ray);
          // Both refreshes of one family carry one ray: the winner rotates, the loser is reuse.
          const send = () =>
            call("/token", {
              method: "POST",
              headers: {
                "Content-Type": "application/x-www-form-urlencoded",
                "cf-ray": ray,
                ...clientAuth(grant.client).headers,
              },
              body: formBody({ grant_type: "refresh_token", refresh_token: grant.refreshToken }),
            });
          return [send(), send()];
        }),
      ),
    );
    const withFamily = parsed(lines).filter((line) => typeof line.familyId === "string");
    expect(withFamily.map((line) => line.event)).toEqual(
      expect.arrayContaining(["token.refreshed", "refresh.reuse_detected", "family.revoked"]),
    );
    for (const line of withFamily) expectId(line, rays.get(line.familyId as string) as string);
  });
});

describe("lines no request caused", () => {
  it("the family's alarm retrying a failed KV publication: alarm:TokenFamily:<family id>", async () => {
    const grant = await grantWithRefresh();
    const stub = familyStub(grant.familyId);
    // The revocation list refuses the family's next two writes.
    let refusals = 2;
    await runInDurableObject(stub, (instance: TokenFamily) => {
      const own = instance as unknown as { env: Cloudflare.Env };
      const real = own.env.REVOCATIONS;
      const failing = Object.create(real, {
        put: {
          value: (...args: Parameters<KVNamespace["put"]>) =>
            refusals-- > 0 ? Promise.reject(new Error("injected KV outage")) : real.put(...args),
        },
      }) as KVNamespace;
      own.env = { ...own.env, REVOCATIONS: failing };
    });

    // Called directly, the object's lines carry the id it is given, after an await too.
    const ray = newRay();
    const revoked = await capturingLogs(() => stub.revoke("admin", ray));
    expect(revoked.result).toBe(true);
    const revokedLines = parsed(revoked.lines);
    expect(revokedLines.map((line) => line.event)).toEqual([
      "family.revoked",
      "revocation_publish_failed",
    ]);
    for (const line of revokedLines) expectId(line, ray);

    const alarm = await capturingLogs(() => runDurableObjectAlarm(stub));
    expect(alarm.result).toBe(true);
    const alarmLines = parsed(alarm.lines);
    expect(alarmLines.map((line) => line.event)).toEqual(["revocation_publish_failed"]);
    for (const line of alarmLines) expectId(line, `alarm:TokenFamily:${grant.familyId}`);
  });
});
