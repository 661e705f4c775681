import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { ClientDirectory } from "../../src/clients/directory";
import { authorizationCode, redeemCode } from "../support/authorize";
import {
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  registerUser,
  tokenRequest,
} from "../support/fixtures";
import { adminCall, call, fetchWith, json } from "../support/http";

/**
 * Clients never used expire: a client that registered itself and obtained no
 * token within REGISTERED_CLIENT_UNUSED_DAYS (wrangler.toml: 7) is deleted by
 * the client directory's alarm. Time is moved by editing the directory's
 * storage (a client's registration time, days back), then the alarm is run.
 * Every token a client obtains is noted (the token endpoint, off the hot
 * path; the families' live-grant notes), and a noted client stays.
 */

const OPEN = { REGISTRATION: "open" };
const INITIAL_ACCESS_TOKEN = "initial-access-token-0123456789abcdef";
const TOKEN = { REGISTRATION: "token", REGISTRATION_TOKEN: INITIAL_ACCESS_TOKEN };
const DAY = 86_400;

/** The one directory instance the service uses. */
const directory = () => env.CLIENT_DIRECTORY.getByName("directory");

interface Registered extends RegisteredClient {
  registration_access_token: string;
}

async function register(
  metadata: Record<string, unknown>,
  mode: Partial<Cloudflare.Env> = OPEN,
): Promise<Registered> {
  const res = await fetchWith(mode, "/register", {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      ...(mode === TOKEN ? { Authorization: `Bearer ${INITIAL_ACCESS_TOKEN}` } : {}),
    },
    body: JSON.stringify(metadata),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return json<Registered>(res);
}

const publicApp = {
  client_name: "Tried once",
  redirect_uris: [REDIRECT_URI],
  token_endpoint_auth_method: "none",
  grant_types: ["authorization_code", "refresh_token"],
  scope: "openid offline_access",
};

/** Moves a client's registration `days` back in the directory (the time the sweep goes by). */
async function registeredDaysAgo(clientId: string, days: number): Promise<void> {
  await runInDurableObject(directory(), (_: ClientDirectory, state) => {
    state.storage.sql.exec(
      "UPDATE clients SET created_at = created_at - ? WHERE client_id = ?",
      days * DAY,
      clientId,
    );
  });
}

async function exists(clientId: string): Promise<boolean> {
  const res = await adminCall("GET", `/admin/clients/${clientId}`);
  expect([200, 404]).toContain(res.status);
  return res.status === 200;
}

async function sweep(): Promise<void> {
  expect(await runDurableObjectAlarm(directory()), "the directory's alarm was scheduled").toBe(
    true,
  );
}

/** The token endpoint notes a use after answering: wait until the directory has it. */
const noted = (clientId: string) =>
  vi.waitFor(async () => expect(await directory().used(clientId)).toBe(true), { timeout: 5000 });

describe("self-registered clients that never obtained a token", () => {
  it("registering schedules the directory's alarm by the time the client could expire", async () => {
    const before = Date.now();
    await register(publicApp);
    const alarm = await runInDurableObject(directory(), (_: ClientDirectory, state) =>
      state.storage.getAlarm(),
    );
    expect(alarm).not.toBeNull();
    expect(alarm as number).toBeLessThanOrEqual(before + 7 * DAY * 1000 + 5000);
  });

  it("are deleted once REGISTERED_CLIENT_UNUSED_DAYS have passed: record, row, token; a younger one stays", async () => {
    const old = await register(publicApp);
    const young = await register(publicApp);
    await registeredDaysAgo(old.client_id, 8);
    await registeredDaysAgo(young.client_id, 6);
    const logged = vi.spyOn(console, "log");
    await sweep();
    expect(await exists(old.client_id)).toBe(false);
    expect(await env.CLIENTS.get(`client:${old.client_id}`)).toBeNull();
    const listed = await json<{ clients: { client_id: string }[] }>(
      await adminCall("GET", `/admin/clients?by=client_id&q=${old.client_id}`),
    );
    expect(listed.clients).toEqual([]);
    // Its registration access token died with it (RFC 7592: a 401 as for any unknown client).
    const managed = await fetchWith(OPEN, `/register/${old.client_id}`, {
      headers: { Authorization: `Bearer ${old.registration_access_token}` },
    });
    expect(managed.status).toBe(401);
    // The authorization endpoint no longer knows it.
    const authorize = await call(
      `/authorize?response_type=code&client_id=${old.client_id}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`,
    );
    expect(authorize.status).toBe(400);
    expect(await exists(young.client_id)).toBe(true);
    // An audit line with the client id and why, nothing else.
    const line = logged.mock.calls
      .map((args) => String(args[0]))
      .find((l) => l.includes('"client.expired"') && l.includes(old.client_id));
    expect(JSON.parse(line as string)).toMatchObject({
      event: "client.expired",
      clientId: old.client_id,
      reason: "never_used",
    });
    logged.mockRestore();
  });

  it("a client that went through the code flow is used, and stays", async () => {
    const client = await register(publicApp);
    const user = await registerUser();
    const { code, verifier } = await authorizationCode(client, user, {
      scope: "openid offline_access",
    });
    expect((await redeemCode(client, code, verifier)).status).toBe(200);
    await noted(client.client_id);
    await registeredDaysAgo(client.client_id, 30);
    await sweep();
    expect(await exists(client.client_id)).toBe(true);
  });

  it("a client that only used client_credentials (no family, noted by the token endpoint) stays", async () => {
    const client = await register(
      {
        client_name: "Nightly sync",
        grant_types: ["client_credentials"],
        token_endpoint_auth_method: "client_secret_basic",
        scope: "api:read",
      },
      TOKEN,
    );
    const res = await tokenRequest(client, { grant_type: "client_credentials" });
    expect(res.status).toBe(200);
    await noted(client.client_id);
    await registeredDaysAgo(client.client_id, 30);
    await sweep();
    expect(await exists(client.client_id)).toBe(true);
  });

  it("a refused token request is no use: the client still expires", async () => {
    const client = await register(publicApp);
    const refused = await tokenRequest(client, {
      grant_type: "authorization_code",
      code: "not-a-code",
      redirect_uri: REDIRECT_URI,
      code_verifier: "v".repeat(43),
    });
    expect(refused.status).toBe(400);
    await registeredDaysAgo(client.client_id, 8);
    await sweep();
    expect(await exists(client.client_id)).toBe(false);
  });

  it("a self-registered client an administrator changed is adopted: it stays though it never obtained a token", async () => {
    const client = await register(publicApp);
    const patched = await adminCall("PATCH", `/admin/clients/${client.client_id}`, {
      client_name: "Adopted by the operator",
    });
    expect(patched.status).toBe(200);
    await registeredDaysAgo(client.client_id, 30);
    await sweep();
    expect(await exists(client.client_id)).toBe(true);
  });

  it("an administrator's client never expires, used or not", async () => {
    const client = await registerClient();
    await register(publicApp); // makes sure an alarm is scheduled
    await registeredDaysAgo(client.client_id, 365);
    await sweep();
    expect(await exists(client.client_id)).toBe(true);
  });
});

describe("REGISTERED_CLIENT_UNUSED_DAYS", () => {
  it("a value that is not a whole number of days from 0 to 3650 refuses to run", async () => {
    for (const value of ["-1", "7.5", "3651", "seven"]) {
      const res = await fetchWith(
        { REGISTERED_CLIENT_UNUSED_DAYS: value },
        "/.well-known/openid-configuration",
      );
      expect(res.status, value).toBe(500);
      expect(((await res.json()) as { error_description: string }).error_description).toContain(
        "REGISTERED_CLIENT_UNUSED_DAYS",
      );
    }
  });
});
