import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { findClient, readClient } from "../../src/clients/registry";
import { clientCredentialsGrant, type RegisteredClient, registerClient } from "../support/fixtures";
import { adminCall, basic, fetchWith, formBody, json } from "../support/http";
import { sleep } from "../support/revocation";

/**
 * The client registry (src/clients/registry.ts): KV, with each isolate
 * reusing a record it read for CLIENT_CACHE_SECONDS (README, "Consistency
 * bounds"). "Another location" below is a change written straight to KV, as
 * the admin API running elsewhere would: this isolate is not told of it.
 */

const serviceClient = () =>
  registerClient({ grant_types: ["client_credentials"], redirect_uris: [], scope: "api:read" });

const changedElsewhere = (clientId: string) => env.CLIENTS.delete(`client:${clientId}`);

/** A client_credentials request, with the worker's vars replaced by `vars`. */
function tokenCall(client: RegisteredClient, vars: Partial<Cloudflare.Env>): Promise<Response> {
  return fetchWith(vars, "/token", {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Authorization: basic(client.client_id, client.client_secret as string),
    },
    body: formBody({ grant_type: "client_credentials" }),
  });
}

async function expectInvalidClient(res: Response): Promise<void> {
  expect(res.status).toBe(401);
  expect(await json(res)).toMatchObject({ error: "invalid_client" });
}

describe("the client registry (src/clients/registry.ts)", () => {
  it("lets an isolate reuse a client for CLIENT_CACHE_SECONDS, then reads KV again", async () => {
    const client = await serviceClient(); // registered, never read yet
    const oneSecond = { CLIENT_CACHE_SECONDS: "1" };
    expect((await tokenCall(client, oneSecond)).status).toBe(200); // read now, kept 1 s

    await changedElsewhere(client.client_id);
    expect((await tokenCall(client, oneSecond)).status, "within the bound").toBe(200);
    await sleep(1100);
    await expectInvalidClient(await tokenCall(client, oneSecond));
  });

  it("reads KV on every request when CLIENT_CACHE_SECONDS is 0", async () => {
    const { client } = await clientCredentialsGrant();
    const never = { CLIENT_CACHE_SECONDS: "0" };
    expect((await tokenCall(client, never)).status).toBe(200);
    await changedElsewhere(client.client_id);
    await expectInvalidClient(await tokenCall(client, never));
  });

  it("applies a change made through this isolate at once, whatever it remembered", async () => {
    const { client } = await clientCredentialsGrant();
    const aMinute = { CLIENT_CACHE_SECONDS: "60" };
    expect((await tokenCall(client, aMinute)).status).toBe(200);

    const rotated = await adminCall("POST", `/admin/clients/${client.client_id}/secret`);
    const { client_secret } = await json<{ client_secret: string }>(rotated);
    await expectInvalidClient(await tokenCall(client, aMinute));
    expect((await tokenCall({ ...client, client_secret }, aMinute)).status).toBe(200);

    expect((await adminCall("DELETE", `/admin/clients/${client.client_id}`)).status).toBe(204);
    await expectInvalidClient(await tokenCall({ ...client, client_secret }, aMinute));
  });

  it("never remembers an unknown client, so a new one works at once", async () => {
    const clientId = `new-${crypto.randomUUID()}`;
    expect(await findClient(env, clientId)).toBeUndefined();
    const { client } = await clientCredentialsGrant();
    const record = await readClient(env, client.client_id);
    await env.CLIENTS.put(`client:${clientId}`, JSON.stringify({ ...record, client_id: clientId }));
    expect((await findClient(env, clientId))?.client_id).toBe(clientId);
  });

  it("hands out a frozen record, so no request can change what the next one sees", async () => {
    const { client } = await clientCredentialsGrant();
    const found = await findClient(env, client.client_id);
    expect(Object.isFrozen(found)).toBe(true);
    expect(Object.isFrozen(found?.credential)).toBe(true);
    expect(Object.isFrozen(found?.grant_types)).toBe(true);
  });

  it("gives the admin API what KV has now, never a remembered copy", async () => {
    const { client } = await clientCredentialsGrant();
    expect(await findClient(env, client.client_id)).toBeDefined();
    await changedElsewhere(client.client_id);
    expect(await readClient(env, client.client_id)).toBeUndefined();
    expect((await adminCall("GET", `/admin/clients/${client.client_id}`)).status).toBe(404);
  });
});
