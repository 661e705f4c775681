import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { BenchEnv } from "../../../bench/worker/env";
import worker from "../../../bench/worker/index";
import { clientAuth, registerClient } from "../../support/fixtures";
import { ADMIN_TOKEN, fetchWith, formBody, ISSUER, json } from "../../support/http";

/**
 * The benchmark's worker (bench/worker/index.ts): the real app with the
 * benchmark's routes mounted at /bench, run here as bench/server.mjs runs it
 * (its own entry, so TOKEN_FAMILY serves the bench's TokenFamily, and
 * BENCH_FLOOR bound). What the benchmark reads from it must be true. That the
 * production worker has none of it: ../production.test.ts, ../bundle.test.mjs.
 */

const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

/** Calls the bench worker's fetch handler with the test env (its bindings). */
async function bench(path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(new URL(path, ISSUER), init), env as BenchEnv, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

async function seed(clientId: string, count: number): Promise<string[]> {
  const res = await bench("/bench/families", {
    method: "POST",
    headers: { ...admin, "Content-Type": "application/json" },
    body: JSON.stringify({ client_id: clientId, sub: "bench-user", scope: "api:read", count }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await json<{ refresh_tokens: string[] }>(res)).refresh_tokens;
}

async function refreshed(
  client: Awaited<ReturnType<typeof registerClient>>,
  token: string,
  countAs?: string,
): Promise<string> {
  const auth = clientAuth(client);
  const res = await bench("/token", {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      ...auth.headers,
      ...(countAs ? { "x-bench-count": countAs } : {}),
    },
    body: formBody({ ...auth.params, grant_type: "refresh_token", refresh_token: token }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await json<{ refresh_token: string }>(res)).refresh_token;
}

interface StorageSize {
  databaseBytes: number;
  stateBytes: number;
  keys: number;
}

async function storageOf(token: string): Promise<StorageSize> {
  const familyId = token.split(".")[1];
  const res = await bench(`/bench/families/${familyId}/storage`, { headers: admin });
  expect(res.status).toBe(200);
  return json<StorageSize>(res);
}

describe("the benchmark's routes", () => {
  it("run behind the real app's global middleware, and every other path is the production app's", async () => {
    // /bench/noop measures the app's fixed cost: the header limits and the
    // config run for it as for any endpoint, and errors map the same way.
    const noop = await bench("/bench/noop");
    expect(noop.status).toBe(200);
    expect(await noop.json()).toStrictEqual({ ok: true });
    const oversized = await bench("/bench/noop", { headers: { "x-big": "a".repeat(9 * 1024) } });
    expect(oversized.status).toBe(400);
    expect(await oversized.json()).toMatchObject({ error: "invalid_request" });
    const unknown = await bench("/bench/nothing");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: "not_found" });
    const fromBench = await bench("/.well-known/openid-configuration");
    const fromProduction = await fetchWith({}, "/.well-known/openid-configuration");
    expect(fromBench.status).toBe(200);
    expect(await fromBench.json()).toStrictEqual(await fromProduction.json());
  });

  it("measure the floors: one BENCH_FLOOR call and an ES256 access token, which the verify floor accepts with no Durable Object call", async () => {
    expect((await bench("/bench/floor?key=warm-up")).status).toBe(200); // the key ring, once
    const kind = `floor-${crypto.randomUUID()}`;
    const floor = await bench("/bench/floor?key=floor-test", {
      headers: { "x-bench-count": kind },
    });
    expect(floor.status).toBe(200);
    const { token } = await json<{ token: string }>(floor);
    const verify = (bearer: string) =>
      bench("/bench/verify-floor", {
        headers: { Authorization: `Bearer ${bearer}`, "x-bench-count": `${kind}-verify` },
      });
    expect(await (await verify(token)).json()).toStrictEqual({ active: true });
    expect(await (await verify(`${token}x`)).json()).toStrictEqual({ active: false });
    const counters = await json<Record<string, Record<string, unknown>>>(
      await bench("/bench/counters", { headers: admin }),
    );
    expect(counters[kind]).toStrictEqual({
      requests: 1,
      doCalls: 1,
      kvReads: 0,
      kvWrites: 0,
      calls: { "BENCH_FLOOR.touch": 1 },
    });
    expect(counters[`${kind}-verify`]).toMatchObject({ requests: 2, doCalls: 0, kvWrites: 0 });
  });

  it("need the admin token to seed families or read the counters", async () => {
    for (const [method, path] of [
      ["POST", "/bench/families"],
      ["GET", "/bench/families/0/storage"],
      ["GET", "/bench/counters"],
      ["DELETE", "/bench/counters"],
    ] as const) {
      const res = await bench(path, { method });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
  });

  it("seed active families whose refresh tokens the token endpoint accepts and rotates", async () => {
    const client = await registerClient({ scope: "api:read" });
    const tokens = await seed(client.client_id, 3);
    expect(tokens).toHaveLength(3);
    for (const token of tokens) {
      expect(token).toMatch(/^rt1\.[0-9a-f]{64}\./);
      const next = await refreshed(client, token);
      expect(next).not.toBe(token);
      await refreshed(client, next);
    }
  });

  it("count one Durable Object call and no KV write per refresh, and one KV read for the first only (the isolate remembers the client)", async () => {
    const client = await registerClient({ scope: "api:read" });
    let [token] = await seed(client.client_id, 1);
    const kind = `refresh-${client.client_id}`;
    // Uncounted: this isolate reads the revoked signing keys now, if its last read is
    // REVOCATION_CACHE_SECONDS old (one KV read per isolate per period, not per request).
    expect((await bench("/bench/floor?key=warm-up")).status).toBe(200);
    for (let i = 0; i < 3; i++) token = await refreshed(client, token as string, kind);
    const counters = await json<Record<string, Record<string, unknown>>>(
      await bench("/bench/counters", { headers: admin }),
    );
    expect(counters[kind]).toStrictEqual({
      requests: 3,
      doCalls: 3,
      kvReads: 1,
      kvWrites: 0,
      calls: { "CLIENTS.get": 1, "TOKEN_FAMILY.refresh": 3 },
    });
  });

  it("profile the floor with the token endpoint's real steps: a wrong secret or a tampered token is refused as /token would, and the family is untouched", async () => {
    const client = await registerClient({ scope: "api:read" });
    const [token] = (await seed(client.client_id, 1)) as [string];
    const floorWith = (secret: string, refreshToken: string) =>
      bench("/bench/floor?with=auth,codec,log", {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          ...clientAuth({ ...client, client_secret: secret }).headers,
        },
        body: formBody({ grant_type: "refresh_token", refresh_token: refreshToken }),
      });
    const wrongSecret = await floorWith(`${client.client_secret}x`, token);
    expect(wrongSecret.status).toBe(401);
    expect((await json<{ error: string }>(wrongSecret)).error).toBe("invalid_client");
    const last = token.at(-1) === "A" ? "B" : "A";
    const tampered = await floorWith(
      client.client_secret as string,
      `${token.slice(0, -1)}${last}`,
    );
    expect(tampered.status).toBe(400);
    expect((await json<{ error: string }>(tampered)).error).toBe("invalid_request");
    // The steps decode the token; only /token rotates it.
    expect(await refreshed(client, token)).not.toBe(token);
  });

  it("show a family's storage no larger after 60 rotations than after one", async () => {
    const client = await registerClient({ scope: "api:read" });
    let [token] = (await seed(client.client_id, 1)) as [string];
    token = await refreshed(client, token);
    const afterOne = await storageOf(token);
    for (let i = 0; i < 59; i++) token = await refreshed(client, token);
    const afterMany = await storageOf(token);
    expect(afterMany.keys).toBe(afterOne.keys);
    expect(afterMany.databaseBytes).toBe(afterOne.databaseBytes);
    // Only the two stored generation numbers grow, by a digit each.
    expect(afterMany.stateBytes - afterOne.stateBytes).toBeLessThanOrEqual(2);
  });
});
