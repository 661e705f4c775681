import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { clientAuth, registerClient } from "../support/fixtures";
import { ADMIN_TOKEN, call, formBody, json } from "../support/http";
import { fetchWith } from "../support/revocation";

/**
 * The benchmark's routes (src/routes/bench.ts) exist only when the worker
 * runs with BENCH_ROUTES=true, which only bench/run.mjs sets. Here: that they
 * are absent otherwise, and that what the benchmark reads from them is true.
 */

const bench = { ...env, BENCH_ROUTES: "true" };
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

async function seed(clientId: string, count: number): Promise<string[]> {
  const res = await fetchWith(bench, "/bench/families", {
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
  const res = await fetchWith(bench, "/token", {
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
  const res = await fetchWith(bench, `/bench/families/${familyId}/storage`, { headers: admin });
  expect(res.status).toBe(200);
  return json<StorageSize>(res);
}

describe("the benchmark's routes", () => {
  it("do not exist unless BENCH_ROUTES is true: every /bench path answers 404", async () => {
    for (const [method, path] of [
      ["GET", "/bench/noop"],
      ["GET", "/bench/floor"],
      ["GET", "/bench/verify-floor"],
      ["POST", "/bench/families"],
      ["GET", "/bench/counters"],
    ] as const) {
      const res = await call(path, { method, headers: admin });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.json()).toMatchObject({ error: "not_found" });
    }
  });

  it("need the admin token to seed families or read the counters, even in bench mode", async () => {
    for (const [method, path] of [
      ["POST", "/bench/families"],
      ["GET", "/bench/counters"],
    ] as const) {
      const res = await fetchWith(bench, path, { method });
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
    for (let i = 0; i < 3; i++) token = await refreshed(client, token as string, kind);
    const counters = await json<Record<string, Record<string, unknown>>>(
      await fetchWith(bench, "/bench/counters", { headers: admin }),
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
      fetchWith(bench, "/bench/floor?with=auth,codec,log", {
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
