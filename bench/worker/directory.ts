import { Hono } from "hono";
import { requireAdmin } from "../../src/admin/auth";
import {
  CLIENT_ORDERS,
  type ClientOrder,
  clientDirectory,
  ClientDirectory as ProductionClientDirectory,
} from "../../src/clients/directory";
import { invalidRequest } from "../../src/errors";
import { decodeCursor, encodeCursor, searchKey } from "../../src/lib/directory-query";
import { UserDirectory as ProductionUserDirectory, userDirectory } from "../../src/users/directory";
import type { BenchAppEnv } from "./env";

/**
 * The directory benchmark's part of the bench worker (bench/directory.mjs
 * drives it): the production directory classes, each with one method that
 * writes synthetic rows straight into the object in one transaction, through
 * the class's own `put` (100,000 real accounts would take hours of PBKDF2),
 * and two admin routes:
 *
 * - POST /bench/directory/fill {kind: "users"|"clients", from, count}: rows
 *   from..from+count-1 (deterministic: see `benchUser`, `benchClient`).
 * - GET /bench/directory/clients?by=&q=&limit=&cursor=: one page straight
 *   from the client directory object, without the admin listing's read-back
 *   of each row from KV (the synthetic clients have no KV record).
 */

export const benchUsername = (i: number) => `user-${String(i).padStart(6, "0")}`;
/** A fixed address per user whose order is not the username order (7919 and 1,000,003 are coprime). */
export const benchEmail = (i: number) =>
  `mail-${String((i * 7_919) % 1_000_003).padStart(7, "0")}@example.test`;
export const benchSub = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
export const benchClientName = (i: number) => `App ${String(i).padStart(6, "0")}`;
export const benchClientId = (i: number) => `bench-${String(i).padStart(6, "0")}`;

export class UserDirectory extends ProductionUserDirectory {
  benchFill(from: number, count: number): number {
    this.ctx.storage.transactionSync(() => {
      for (let i = from; i < from + count; i++) {
        this.put(
          {
            id: benchSub(i),
            username: benchUsername(i),
            name: `User ${i}`,
            email: benchEmail(i),
            email_verified: false,
            blocked: false,
            created_at: 1_700_000_000,
            updated_at: 1_700_000_000,
          },
          1,
        );
      }
    });
    return count;
  }
}

export class ClientDirectory extends ProductionClientDirectory {
  benchFill(from: number, count: number): number {
    this.ctx.storage.transactionSync(() => {
      for (let i = from; i < from + count; i++) {
        this.put({
          client_id: benchClientId(i),
          client_name: benchClientName(i),
          client_type: "confidential",
          token_endpoint_auth_method: "client_secret_basic",
          grant_types: ["authorization_code", "refresh_token"],
          self_registered: false,
          created_at: 1_700_000_000,
          updated_at: 1_700_000_000,
        });
      }
    });
    return count;
  }
}

const MAX_FILL = 10_000;

export function directoryRoutes(): Hono<BenchAppEnv> {
  const app = new Hono<BenchAppEnv>();
  app.use("*", requireAdmin);
  app.post("/fill", async (c) => {
    const { kind, from, count } = await c.req.json<{ kind: string; from: number; count: number }>();
    if (!Number.isSafeInteger(from) || from < 0 || !Number.isSafeInteger(count))
      throw invalidRequest("from and count must be whole numbers");
    if (count < 1 || count > MAX_FILL) throw invalidRequest(`count must be 1 to ${MAX_FILL}`);
    // The bench worker's bindings serve the classes above (bench/worker/index.ts).
    if (kind === "users") {
      const stub = userDirectory(c.env) as unknown as DurableObjectStub<UserDirectory>;
      return c.json({ filled: await stub.benchFill(from, count) });
    }
    if (kind === "clients") {
      const stub = clientDirectory(c.env) as unknown as DurableObjectStub<ClientDirectory>;
      return c.json({ filled: await stub.benchFill(from, count) });
    }
    throw invalidRequest("kind must be users or clients");
  });
  app.get("/clients", async (c) => {
    const by = (c.req.query("by") ?? "name") as ClientOrder;
    if (!CLIENT_ORDERS.includes(by)) throw invalidRequest("by must be name or client_id");
    const q = c.req.query("q") ?? "";
    const prefix = by === "name" ? searchKey(q) : q;
    const raw = c.req.query("cursor");
    const cursor = raw === undefined ? undefined : decodeCursor(raw, CLIENT_ORDERS);
    if (raw !== undefined && cursor?.by !== by)
      throw invalidRequest("cursor is not one of this order");
    const page = await clientDirectory(c.env).page({
      by,
      prefix,
      limit: Number(c.req.query("limit") ?? 20),
      ...(cursor ? { after: cursor.after } : {}),
    });
    return c.json({
      clients: page.clients,
      ...(page.next ? { next_cursor: encodeCursor(by, page.next) } : {}),
    });
  });
  return app;
}
