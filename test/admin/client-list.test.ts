import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  type ClientDirectory,
  type ClientSummary,
  clientDirectory,
} from "../../src/clients/directory";
import { codeFlow } from "../support/browser";
import {
  registerClient,
  registerPublicClient,
  registerUser,
  revokeRequest,
} from "../support/fixtures";
import { adminCall, fetchWith, json } from "../support/http";
import { familyIdOf, grantWithRefresh, refreshOk, refreshRefused } from "../support/refresh";
import { expectJsonError } from "../support/security";

/**
 * GET /admin/clients?q=&by=&limit=&cursor=: the operator lists and searches
 * clients, from the client directory. Every change made through the admin
 * API or self-registration shows in the list as soon as the call returns; a
 * row a crash left behind is repaired when a listing finds it; each client
 * says how many live grants it has. Each test names its clients under a
 * prefix of its own, since other tests create clients too.
 */

interface Page {
  clients: ClientSummary[];
  next_cursor?: string;
}

const SUMMARY_FIELDS = [
  "client_id",
  "client_name",
  "client_type",
  "created_at",
  "grant_types",
  "live_grants",
  "self_registered",
  "token_endpoint_auth_method",
  "updated_at",
].sort();

const newPrefix = () => `cl${crypto.randomUUID().slice(0, 8)}`;

async function list(params: Record<string, string | number>): Promise<Page> {
  const query = new URLSearchParams(
    Object.entries(params).map(([k, v]) => [k, String(v)] as [string, string]),
  );
  const res = await adminCall("GET", `/admin/clients?${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  const page = await json<Page>(res);
  for (const client of page.clients) expect(Object.keys(client).sort()).toEqual(SUMMARY_FIELDS);
  return page;
}

async function everyPage(params: Record<string, string | number>): Promise<ClientSummary[]> {
  const clients: ClientSummary[] = [];
  let page = await list(params);
  clients.push(...page.clients);
  while (page.next_cursor) {
    page = await list({ ...params, cursor: page.next_cursor });
    clients.push(...page.clients);
  }
  return clients;
}

const names = (clients: ClientSummary[]) => clients.map((c) => c.client_name);

/** The directory's row of a client, straight from the object (not through the listing's repair). */
async function row(clientId: string): Promise<ClientSummary | undefined> {
  const page = await clientDirectory(env).page({
    by: "client_id",
    prefix: clientId,
    limit: 1,
  });
  return page.clients.find((c) => c.client_id === clientId);
}

/** Test setup: the row was written long ago (beyond the listing's KV settle window). */
const ageRow = (clientId: string) =>
  runInDurableObject(clientDirectory(env), (_i: ClientDirectory, state) => {
    state.storage.sql.exec("UPDATE clients SET written_at = 0 WHERE client_id = ?", clientId);
  });

/** Polls the listing until the client's live_grants is `count` (families report after answering). */
async function expectLiveGrants(clientId: string, count: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const [found] = (await list({ by: "client_id", q: clientId })).clients;
    if (found?.live_grants === count) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  const [found] = (await list({ by: "client_id", q: clientId })).clients;
  expect(found?.live_grants).toBe(count);
}

describe("what the list shows", () => {
  it("a created client at once, as a summary: no secret, key or redirect URI", async () => {
    const p = newPrefix();
    const client = await registerClient({ client_name: `${p} Web` });
    const publicApp = await registerPublicClient({ client_name: `${p} SPA` });
    const page = await list({ q: p });
    expect(page.clients).toEqual([
      {
        client_id: publicApp.client_id,
        client_name: `${p} SPA`,
        client_type: "public",
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
        self_registered: false,
        created_at: publicApp.created_at,
        updated_at: publicApp.updated_at,
        live_grants: 0,
      },
      expect.objectContaining({
        client_id: client.client_id,
        client_name: `${p} Web`,
        client_type: "confidential",
        token_endpoint_auth_method: "client_secret_basic",
      }),
    ]);
    expect(JSON.stringify(page)).not.toMatch(/secret"|redirect|jwks|hash/i);
  });

  it("a renamed client under its new name at once, and a deleted one no more", async () => {
    const p = newPrefix();
    const client = await registerClient({ client_name: `${p} old` });
    const renamed = await adminCall("PATCH", `/admin/clients/${client.client_id}`, {
      client_name: `${p} new`,
    });
    expect(renamed.status).toBe(200);
    expect(names((await list({ q: `${p} old` })).clients)).toEqual([]);
    expect(names((await list({ q: `${p} NEW` })).clients)).toEqual([`${p} new`]);
    expect((await adminCall("DELETE", `/admin/clients/${client.client_id}`)).status).toBe(204);
    expect((await list({ q: p })).clients).toEqual([]);
    expect(await row(client.client_id)).toBeUndefined();
  });

  it("a self-registered client (RFC 7591) at once, marked as such", async () => {
    const p = newPrefix();
    const res = await fetchWith({ REGISTRATION: "open" }, "/register", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        client_name: `${p} MCP`,
        redirect_uris: ["https://app.example.test/callback"],
        token_endpoint_auth_method: "none",
      }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const { client_id } = await json<{ client_id: string }>(res);
    expect((await list({ q: p })).clients).toEqual([
      expect.objectContaining({ client_id, self_registered: true, client_type: "public" }),
    ]);
  });
});

describe("search and paging", () => {
  it("by name prefix in any case (the default), and by client_id prefix exactly", async () => {
    const p = newPrefix();
    const a = await registerClient({ client_name: `${p} Äpfel` });
    await registerClient({ client_name: `${p} Birnen` });
    expect(names((await list({ q: `${p.toUpperCase()} äPFEL` })).clients)).toEqual([`${p} Äpfel`]);
    expect(names((await list({ q: `${p} b`, by: "name" })).clients)).toEqual([`${p} Birnen`]);
    const byId = await list({ by: "client_id", q: a.client_id.slice(0, 12) });
    expect(byId.clients.map((c) => c.client_id)).toContain(a.client_id);
    for (const c of byId.clients)
      expect(c.client_id.startsWith(a.client_id.slice(0, 12))).toBe(true);
  });

  it("pages through without a gap or a repeat while clients are being created", async () => {
    const p = newPrefix();
    const first = [];
    for (let i = 0; i < 12; i++) first.push(await registerClient({ client_name: `${p} ${i % 4}` }));
    const seen: ClientSummary[] = [];
    let page = await list({ q: p, limit: 5 });
    seen.push(...page.clients);
    while (page.next_cursor) {
      // Created between two pages: none of the others repeats or goes missing.
      await registerClient({ client_name: `${p} ${seen.length}` });
      page = await list({ q: p, limit: 5, cursor: page.next_cursor });
      seen.push(...page.clients);
    }
    const ids = seen.map((c) => c.client_id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const client of first) expect(ids).toContain(client.client_id);
    const keys = seen.map((c) => `${c.client_name.toLowerCase()}\u0000${c.client_id}`);
    expect(keys).toEqual([...keys].sort());
    // One at a time, the pages are the one-page listing cut up.
    const whole = (await list({ q: p, limit: 100 })).clients.map((c) => c.client_id);
    expect((await everyPage({ q: p, limit: 1 })).map((c) => c.client_id)).toEqual(whole);
  });
});

describe("bad parameters are 400 invalid_request, naming the parameter", () => {
  it.each([
    ["an unknown parameter", "?name=x", "name"],
    ["a parameter given twice", "?q=a&q=b", "q"],
    ["an unknown order", "?by=secret", "by"],
    ["a limit of 0", "?limit=0", "limit"],
    ["a limit over 100", "?limit=101", "limit"],
    ["a limit that is not a number", "?limit=1e1", "limit"],
    ["a forged cursor", "?cursor=bm90LWEtY3Vyc29y", "cursor"],
    ["a q over 200 characters", `?q=${"a".repeat(201)}`, "q"],
  ])("%s", async (_what, query, parameter) => {
    const res = await adminCall("GET", `/admin/clients${query}`);
    const body = await expectJsonError(res, 400, "invalid_request");
    expect(body.error_description).toContain(parameter);
  });

  it("a cursor of another query: another q, another order, or the user listing", async () => {
    const p = newPrefix();
    for (let i = 0; i < 3; i++) await registerClient({ client_name: `${p} ${i}` });
    const { next_cursor } = await list({ q: p, limit: 1 });
    expect(next_cursor).toBeTruthy();
    const users = await json<{ next_cursor?: string }>(
      await adminCall("GET", "/admin/users?limit=1"),
    );
    for (const query of [
      `?q=other&cursor=${next_cursor}`,
      `?by=client_id&q=${p}&cursor=${next_cursor}`,
      ...(users.next_cursor ? [`?cursor=${users.next_cursor}`] : []),
    ]) {
      const res = await adminCall("GET", `/admin/clients${query}`);
      const body = await expectJsonError(res, 400, "invalid_request");
      expect(body.error_description).toContain("cursor");
    }
  });
});

describe("a crash between the registry's two writes", () => {
  const directoryDown = (failing: "put" | "remove") => {
    const real = env.CLIENT_DIRECTORY;
    return Object.create(real, {
      getByName: {
        value: (name: string) => {
          const stub = real.getByName(name);
          return {
            put: failing === "put" ? () => Promise.reject(new Error("injected")) : stub.put,
            remove:
              failing === "remove" ? () => Promise.reject(new Error("injected")) : stub.remove,
          };
        },
      },
    }) as typeof real;
  };

  it("directory unwritable: the client is not created (503, nothing in KV), never a client without a row", async () => {
    const p = newPrefix();
    const res = await fetchWith({ CLIENT_DIRECTORY: directoryDown("put") }, "/admin/clients", {
      method: "POST",
      headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        client_name: `${p} lost`,
        redirect_uris: ["https://app.example.test/callback"],
      }),
    });
    await expectJsonError(res, 503, "temporarily_unavailable");
    const keys = await env.CLIENTS.list<{ client_name: string }>({ prefix: "client:" });
    expect(keys.keys.filter((k) => k.metadata?.client_name === `${p} lost`)).toEqual([]);
  });

  it("a row whose client is gone is listed while KV may still be on its way, then dropped and removed", async () => {
    const p = newPrefix();
    const client = await registerClient({ client_name: `${p} ghost` });
    const res = await fetchWith(
      { CLIENT_DIRECTORY: directoryDown("remove") },
      `/admin/clients/${client.client_id}`,
      { method: "DELETE", headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` } },
    );
    expect(res.status).toBe(204); // the client is gone; the row is left behind
    expect(await row(client.client_id)).toBeDefined();
    expect(names((await list({ q: p })).clients)).toEqual([`${p} ghost`]);
    await ageRow(client.client_id);
    expect((await list({ q: p })).clients).toEqual([]);
    expect(await row(client.client_id)).toBeUndefined();
  });

  it("a row that differs from its record shows the record, and is written again from it", async () => {
    const p = newPrefix();
    const client = await registerClient({ client_name: `${p} before` });
    // The record changed and its row did not (as a crash after KV's write would leave it).
    const key = `client:${client.client_id}`;
    const record = (await env.CLIENTS.get<Record<string, unknown>>(key, "json")) ?? {};
    await env.CLIENTS.put(key, JSON.stringify({ ...record, client_name: `${p} after` }));
    await ageRow(client.client_id);
    expect(names((await list({ q: p })).clients)).toEqual([`${p} after`]);
    expect((await row(client.client_id))?.client_name).toBe(`${p} after`);
    expect(names((await list({ q: `${p} before` })).clients)).toEqual([]);
  });
});

describe("live_grants: a client's grants that hold refresh tokens", () => {
  it("counts a grant once its code is redeemed, keeps it across refreshes, and drops it when revoked", async () => {
    const grant = await grantWithRefresh({ client: { client_name: `${newPrefix()} g` } });
    const id = grant.client.client_id;
    await expectLiveGrants(id, 1);
    const next = await refreshOk(grant.client, grant.refreshToken);
    const second = await grantWithRefresh();
    await expectLiveGrants(id, 1); // another client's grant is not this one's
    expect(second.client.client_id).not.toBe(id);
    const revoked = await revokeRequest(grant.client, { token: next.refresh_token });
    expect(revoked.status).toBe(200);
    await expectLiveGrants(id, 0);
  });

  it("drops a family revoked for refresh-token reuse", async () => {
    const grant = await grantWithRefresh({ client: { refresh_token: { grace_seconds: 0 } } });
    await expectLiveGrants(grant.client.client_id, 1);
    await refreshOk(grant.client, grant.refreshToken);
    await refreshRefused(grant.client, grant.refreshToken); // reuse: the family is revoked
    await expectLiveGrants(grant.client.client_id, 0);
    expect(familyIdOf(grant.refreshToken)).toBe(grant.familyId);
  });

  it("counts every one of many grants created in parallel", async () => {
    const client = await registerClient({ consent: "implicit" });
    await Promise.all(
      Array.from({ length: 5 }, async () =>
        codeFlow(client, await registerUser(), { scope: "openid offline_access" }),
      ),
    );
    await expectLiveGrants(client.client_id, 5);
  });
});
