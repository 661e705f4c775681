import { expect } from "vitest";
import { adminCall, basic, json, postForm } from "./http";

/** Registers clients and users through the admin API, as an operator would. */

export interface RegisteredClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
  [field: string]: unknown;
}

export const REDIRECT_URI = "https://app.example.test/callback";

export async function registerClient(
  overrides: Record<string, unknown> = {},
): Promise<RegisteredClient> {
  const res = await adminCall("POST", "/admin/clients", {
    client_name: "Test App",
    redirect_uris: [REDIRECT_URI],
    grant_types: ["authorization_code", "refresh_token"],
    scope: "openid profile email offline_access api:read api:write",
    ...overrides,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return json<RegisteredClient>(res);
}

export const registerPublicClient = (overrides: Record<string, unknown> = {}) =>
  registerClient({ token_endpoint_auth_method: "none", ...overrides });

export interface TestUser {
  id: string;
  username: string;
  password: string;
}

let counter = 0;

export async function registerUser(overrides: Record<string, unknown> = {}): Promise<TestUser> {
  const username = `user${Date.now().toString(36)}${(counter++).toString(36)}`;
  const password = "correct horse battery staple";
  const res = await adminCall("POST", "/admin/users", {
    username,
    password,
    name: "Test User",
    email: `${username}@example.test`,
    email_verified: true,
    ...overrides,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const user = await json<{ id: string; username: string }>(res);
  return {
    id: user.id,
    username: user.username,
    password: (overrides.password as string) ?? password,
  };
}

/** Client authentication for a token/revoke/introspect request: Basic for confidential clients. */
export function clientAuth(client: RegisteredClient): {
  headers: Record<string, string>;
  params: Record<string, string>;
} {
  return client.client_secret
    ? { headers: { Authorization: basic(client.client_id, client.client_secret) }, params: {} }
    : { headers: {}, params: { client_id: client.client_id } };
}

export function tokenRequest(
  client: RegisteredClient,
  params: Record<string, string | undefined>,
): Promise<Response> {
  const auth = clientAuth(client);
  return postForm("/token", { ...auth.params, ...params }, auth.headers);
}

export function revokeRequest(
  client: RegisteredClient,
  params: Record<string, string | undefined>,
): Promise<Response> {
  const auth = clientAuth(client);
  return postForm("/revoke", { ...auth.params, ...params }, auth.headers);
}

export async function introspect(
  client: RegisteredClient,
  token: string,
): Promise<Record<string, unknown>> {
  const auth = clientAuth(client);
  const res = await postForm("/introspect", { ...auth.params, token }, auth.headers);
  expect(res.status).toBe(200);
  return json(res);
}

/** A confidential client registered for client_credentials only, and a token it was issued. */
export async function clientCredentialsGrant(): Promise<{
  client: RegisteredClient;
  accessToken: string;
}> {
  const client = await registerClient({
    grant_types: ["client_credentials"],
    redirect_uris: [],
    scope: "api:read",
  });
  const res = await tokenRequest(client, { grant_type: "client_credentials" });
  expect(res.status, await res.clone().text()).toBe(200);
  return { client, accessToken: ((await res.json()) as { access_token: string }).access_token };
}
