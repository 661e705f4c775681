import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { BenchEnv } from "../../../bench/worker/env";
import worker from "../../../bench/worker/index";
import { ADMIN_TOKEN, ISSUER, json } from "../../support/http";

/**
 * The directory benchmark's routes (bench/worker/directory.ts): the rows
 * its fill writes are the ones bench/directory.mjs searches for, and they go
 * through the production classes' own `put`, so they list like real ones.
 */

const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

async function bench(path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(new URL(path, ISSUER), init), env as BenchEnv, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const fill = (kind: string, from: number, count: number) =>
  bench("/bench/directory/fill", {
    method: "POST",
    headers: { ...admin, "Content-Type": "application/json" },
    body: JSON.stringify({ kind, from, count }),
  });

describe("the directory fill", () => {
  it("writes users the admin listing finds, and clients the bench page finds", async () => {
    expect((await fill("users", 0, 100)).status).toBe(200);
    expect((await fill("clients", 0, 100)).status).toBe(200);
    const users = await json<{ users: { username: string }[] }>(
      await bench("/admin/users?q=user-00005", { headers: admin }),
    );
    expect(users.users.map((u) => u.username)).toEqual(
      Array.from({ length: 10 }, (_, i) => `user-00005${i}`),
    );
    const clients = await json<{ clients: { client_id: string }[]; next_cursor?: string }>(
      await bench("/bench/directory/clients?q=app%2000005", { headers: admin }),
    );
    expect(clients.clients.map((c) => c.client_id)).toEqual(
      Array.from({ length: 10 }, (_, i) => `bench-00005${i}`),
    );
  });

  it("needs the admin token, and refuses a batch over 10,000", async () => {
    expect((await bench("/bench/directory/fill", { method: "POST" })).status).toBe(401);
    expect((await fill("users", 0, 10_001)).status).toBe(400);
  });
});
