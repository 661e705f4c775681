import { administrators } from "../administrators/administrators";
import { type ClientRecord, DEVICE_CODE_GRANT } from "../clients/model";
import { readClient, saveClient } from "../clients/registry";
import { hashClientSecret } from "../clients/secrets";
import { nowSeconds } from "../lib/time";
import { currentRequestId, logError } from "../log";
import { createUser } from "../users/accounts";
import { hashPassword } from "../users/passwords";
import { usernameObject } from "../users/username";

/**
 * The development seed: two demo clients, a demo user and two demo
 * administrators (an admin and a viewer), created on the
 * first request under `wrangler dev` (ENVIRONMENT=development) and never in a
 * deployed worker. Their credentials are fixed and public (README, "Quick
 * start"); real clients get server-generated secrets from the admin API.
 */
export const DEMO = {
  confidential: { clientId: "demo-confidential", secret: "demo-confidential-secret" },
  public: { clientId: "demo-public" },
  user: { username: "demo", password: "demo-password" },
  /** The console's (and admin API's Basic) demo administrators: one may change, one may look. */
  administrator: { username: "operator", password: "operator-password" },
  viewer: { username: "auditor", password: "auditor-password" },
} as const;

const redirectUris = (origin: string) => [
  `${origin}/dev/callback`,
  "http://localhost:8787/dev/callback",
  "http://127.0.0.1:8787/dev/callback",
];

let seeded: Promise<void> | undefined;

export function ensureDevSeed(env: Env, origin: string, scopes: readonly string[]): Promise<void> {
  seeded ??= seed(env, origin, scopes).catch((error) => {
    seeded = undefined; // try again on the next request
    logError("dev_seed_failed", error);
  });
  return seeded;
}

async function seed(env: Env, origin: string, scopes: readonly string[]): Promise<void> {
  const now = nowSeconds();
  const base = {
    redirect_uris: [...new Set(redirectUris(origin))],
    scopes: [...scopes],
    refresh_token: {},
    id_token_signed_response_alg: "RS256" as const,
    consent: "required" as const,
    resource_server: false,
    created_at: now,
    updated_at: now,
  };
  const clients: ClientRecord[] = [
    {
      ...base,
      client_id: DEMO.confidential.clientId,
      client_name: "Demo Confidential App",
      credential: {
        method: "client_secret_basic",
        secretHash: await hashClientSecret(DEMO.confidential.secret),
      },
      grant_types: ["authorization_code", "refresh_token", "client_credentials"],
    },
    {
      ...base,
      client_id: DEMO.public.clientId,
      client_name: "Demo Public App",
      credential: { method: "none" },
      // The device flow too (README, "Devices without a browser"): a CLI or a TV is a public client.
      grant_types: ["authorization_code", "refresh_token", DEVICE_CODE_GRANT],
    },
  ];
  for (const client of clients) {
    if (!(await readClient(env, client.client_id))) await saveClient(env, client);
  }
  const demo = await (await usernameObject(env, DEMO.user.username)).owner();
  // Woken, a demo account kept from before the user directory lists itself there.
  if (demo) await env.USER.getByName(demo).view();
  else {
    await createUser(env, {
      username: DEMO.user.username,
      password: await hashPassword(DEMO.user.password),
      name: "Demo User",
      email: "demo@example.com",
      email_verified: true,
    });
  }
  const team = administrators(env);
  if ((await team.count()) === 0) {
    const requestId = currentRequestId();
    const { administrator, viewer } = DEMO;
    await team.bootstrap(
      administrator.username,
      await hashPassword(administrator.password),
      requestId,
    );
    await team.create(viewer.username, "viewer", await hashPassword(viewer.password), requestId);
  }
}
