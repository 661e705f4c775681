import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  CLIENT_TABLE,
  type ClientDirectory,
  type ClientDirectoryPage,
  type ClientEntry,
  type ClientQuery,
} from "../../src/clients/directory";
import { MAX_PAGE, pageStatement, searchKey } from "../../src/lib/directory-query";

/**
 * The client directory object on its own: its orders and search, paging
 * without gaps or repeats, a page that stays one index seek at 20,000 rows,
 * and the live-grant count that families report to it (idempotent, and
 * deaf to a late "live" after an "ended"). Each test uses an instance of its
 * own (the service uses one fixed instance; the class is the same).
 */

const directory = () => env.CLIENT_DIRECTORY.getByName(`test-${crypto.randomUUID()}`);

let counter = 0;
function entry(overrides: Partial<ClientEntry> = {}): ClientEntry {
  counter++;
  return {
    client_id: `id-${String(counter).padStart(6, "0")}-${crypto.randomUUID().slice(0, 8)}`,
    client_name: `Client ${counter}`,
    client_type: "confidential",
    token_endpoint_auth_method: "client_secret_basic",
    grant_types: ["authorization_code", "refresh_token"],
    self_registered: false,
    created_at: 1_700_000_000,
    updated_at: 1_700_000_000,
    ...overrides,
  };
}

const query = (q: Partial<ClientQuery> = {}): ClientQuery => ({
  by: "name",
  prefix: "",
  limit: MAX_PAGE,
  ...q,
});

async function everyPage(
  stub: DurableObjectStub<ClientDirectory>,
  q: Partial<ClientQuery>,
): Promise<string[]> {
  const ids: string[] = [];
  let page: ClientDirectoryPage = await stub.page(query(q));
  ids.push(...page.clients.map((c) => c.client_id));
  while (page.next) {
    page = await stub.page(query({ ...q, after: page.next }));
    ids.push(...page.clients.map((c) => c.client_id));
  }
  return ids;
}

describe("rows", () => {
  it("a put shows the client as given, with no grants; a second put replaces it; remove drops it", async () => {
    const stub = directory();
    const client = entry({ client_name: "Billing", self_registered: true });
    await stub.put(client);
    const [listed] = (await stub.page(query())).clients;
    expect(listed).toMatchObject({ ...client, live_grants: 0 });
    await stub.put({ ...client, client_name: "Invoices", grant_types: ["client_credentials"] });
    expect((await stub.page(query({ prefix: "billing" }))).clients).toEqual([]);
    const renamed = await stub.page(query({ prefix: "invoices" }));
    expect(renamed.clients.map((c) => [c.client_name, c.grant_types])).toEqual([
      ["Invoices", ["client_credentials"]],
    ]);
    await stub.remove(client.client_id);
    expect((await stub.page(query())).clients).toEqual([]);
  });

  it("finds by name prefix in any case (NFKC), and by client_id prefix exactly", async () => {
    const stub = directory();
    const a = entry({ client_name: "Äpfel Shop", client_id: "AbC-1" });
    const b = entry({ client_name: "äpfel cart", client_id: "abc-2" });
    const c = entry({ client_name: "Pears", client_id: "xyz-3" });
    for (const e of [a, b, c]) await stub.put(e);
    const names = async (q: Partial<ClientQuery>) =>
      (await stub.page(query(q))).clients.map((x) => x.client_name);
    expect(await names({ prefix: searchKey("ÄPFEL") })).toEqual(["äpfel cart", "Äpfel Shop"]);
    expect(await names({ prefix: searchKey("pe") })).toEqual(["Pears"]);
    expect(await names({ by: "client_id", prefix: "AbC" })).toEqual(["Äpfel Shop"]);
    expect(await names({ by: "client_id", prefix: "abc" })).toEqual(["äpfel cart"]);
    expect(await names({ by: "client_id" })).toEqual(["Äpfel Shop", "äpfel cart", "Pears"]);
  });

  it("pages through many clients with equal names without a gap or a repeat, in either order", async () => {
    const stub = directory();
    const all = Array.from({ length: 57 }, (_, i) => entry({ client_name: `Same ${i % 3}` }));
    for (const e of all) await stub.put(e);
    for (const by of ["name", "client_id"] as const) {
      for (const limit of [1, 7, 100]) {
        const ids = await everyPage(stub, { by, limit });
        expect(ids).toHaveLength(all.length);
        expect(new Set(ids).size).toBe(all.length);
      }
    }
    const byName = await everyPage(stub, { limit: 5 });
    const expected = [...all]
      .sort((x, y) =>
        x.client_name === y.client_name
          ? x.client_id < y.client_id
            ? -1
            : 1
          : x.client_name < y.client_name
            ? -1
            : 1,
      )
      .map((e) => e.client_id);
    expect(byName).toEqual(expected);
  });
});

describe("live grants", () => {
  it("count each family once however often it reports, and stop counting when it ends", async () => {
    const stub = directory();
    const client = entry();
    await stub.put(client);
    await stub.noteGrant("f1", client.client_id, true);
    await stub.noteGrant("f1", client.client_id, true);
    await stub.noteGrant("f2", client.client_id, true);
    expect(await stub.liveGrants(client.client_id)).toBe(2);
    expect((await stub.page(query())).clients[0]?.live_grants).toBe(2);
    await stub.noteGrant("f1", client.client_id, false);
    await stub.noteGrant("f1", client.client_id, false);
    expect(await stub.liveGrants(client.client_id)).toBe(1);
    // A late "live" of an ended family does not count it again.
    await stub.noteGrant("f1", client.client_id, true);
    expect(await stub.liveGrants(client.client_id)).toBe(1);
    await stub.noteGrant("f2", client.client_id, false);
    expect(await stub.liveGrants(client.client_id)).toBe(0);
  });

  it("an end that overtakes its start leaves the family uncounted", async () => {
    const stub = directory();
    await stub.noteGrant("early-end", "client-x", false);
    await stub.noteGrant("early-end", "client-x", true);
    expect(await stub.liveGrants("client-x")).toBe(0);
  });

  it("are per client", async () => {
    const stub = directory();
    await stub.noteGrant("g1", "one", true);
    await stub.noteGrant("g2", "two", true);
    await stub.noteGrant("g3", "two", true);
    expect([await stub.liveGrants("one"), await stub.liveGrants("two")]).toEqual([1, 2]);
  });
});

describe("at 20,000 clients", () => {
  it("a page is one index seek (EXPLAIN QUERY PLAN: SEARCH, no SCAN, no sort) in both orders", async () => {
    const stub = directory();
    const ROWS = 20_000;
    const id = (i: number) => `c${String((i * 7_919) % ROWS).padStart(6, "0")}`;
    await runInDurableObject(stub, (instance: ClientDirectory, state) => {
      state.storage.transactionSync(() => {
        for (let i = 0; i < ROWS; i++)
          instance.put(
            entry({ client_id: id(i), client_name: `App ${String(i).padStart(6, "0")}` }),
          );
      });
    });
    const queries: ClientQuery[] = [
      query({ limit: 20 }),
      query({ limit: 20, after: { key: "app 012345", id: id(12_345) } }),
      query({ limit: 20, prefix: "app 0123" }),
      query({ by: "client_id", limit: 20 }),
      query({ by: "client_id", limit: 20, prefix: "c0199" }),
      query({ by: "client_id", limit: 20, after: { key: "c010000", id: "c010000" } }),
    ];
    const plans = await runInDurableObject(stub, (_instance, state) =>
      queries.map((q) => {
        const { sql, bindings } = pageStatement(CLIENT_TABLE, q);
        return state.storage.sql
          .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, ...bindings)
          .toArray()
          .map((row) => row.detail);
      }),
    );
    queries.forEach((q, i) => {
      const detail = (plans[i] as string[]).join(" ");
      const index = q.by === "name" ? "INDEX clients_by_name" : "PRIMARY KEY";
      expect(detail, JSON.stringify(q)).toMatch(new RegExp(`^SEARCH clients USING ${index} \\(`));
      expect(detail).not.toMatch(/SCAN|TEMP B-TREE/);
    });
    const deep = await stub.page(queries[5] as ClientQuery);
    expect(deep.clients.map((c) => c.client_id)).toEqual(
      Array.from({ length: 20 }, (_, k) => `c${String(10_001 + k).padStart(6, "0")}`),
    );
  }, 120_000);
});
