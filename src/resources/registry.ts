import { isolateCacheSettings } from "../config";
import { OAuthError } from "../errors";
import { cachePerBinding } from "../lib/isolate-cache";
import { logError } from "../log";
import type { ResourceRecord } from "./model";

/**
 * The resource registry, in KV beside the clients (the CLIENTS namespace,
 * keys `resource:<identifier>`): read on the authorize and token paths,
 * written only by the admin API. The same bounds as the client registry: an
 * isolate reuses a record it read for CLIENT_CACHE_SECONDS, and KV takes
 * about 60 seconds more to reach other locations (README, "Consistency
 * bounds").
 */

const PREFIX = "resource:";
const key = (identifier: string) => `${PREFIX}${identifier}`;

/** KV keys are at most 512 bytes; identifiers are ASCII (URL serialization), so this leaves room. */
export const MAX_IDENTIFIER_LENGTH = 400;

const recent = cachePerBinding<Readonly<ResourceRecord>>(1000);

const plausible = (identifier: string) =>
  identifier.length > 0 && identifier.length <= MAX_IDENTIFIER_LENGTH;

/** The resource, as the hot paths see it: from this isolate's memory for CLIENT_CACHE_SECONDS, else KV. */
export async function findResource(
  env: Env,
  identifier: string,
): Promise<ResourceRecord | undefined> {
  if (!plausible(identifier)) return undefined;
  const ttl = isolateCacheSettings(env).clientSeconds * 1000;
  const cache = recent(env.CLIENTS);
  const known = ttl > 0 ? cache.get(identifier) : undefined;
  if (known) return known;
  const resource = await readResource(env, identifier);
  if (resource && ttl > 0) cache.set(identifier, Object.freeze(resource), Date.now() + ttl);
  return resource;
}

/** The resource as KV has it now, for the admin API. */
export async function readResource(
  env: Env,
  identifier: string,
): Promise<ResourceRecord | undefined> {
  if (!plausible(identifier)) return undefined;
  try {
    return (await env.CLIENTS.get<ResourceRecord>(key(identifier), "json")) ?? undefined;
  } catch (error) {
    logError("resource_registry_unreadable", error);
    throw new OAuthError(
      "temporarily_unavailable",
      "The resource registry cannot be read right now; retry shortly.",
      { headers: { "Retry-After": "5" } },
    );
  }
}

export async function saveResource(env: Env, resource: ResourceRecord): Promise<void> {
  await env.CLIENTS.put(key(resource.identifier), JSON.stringify(resource), {
    metadata: { name: resource.name },
  });
  recent(env.CLIENTS).delete(resource.identifier);
}

export async function deleteResource(env: Env, identifier: string): Promise<boolean> {
  if (!(await readResource(env, identifier))) return false;
  await env.CLIENTS.delete(key(identifier));
  recent(env.CLIENTS).delete(identifier);
  return true;
}

export interface ResourcePage {
  resources: { identifier: string; name: string }[];
  cursor?: string;
}

export async function listResources(env: Env, cursor?: string, limit = 100): Promise<ResourcePage> {
  const page = await env.CLIENTS.list<{ name: string }>({
    prefix: PREFIX,
    limit,
    ...(cursor ? { cursor } : {}),
  });
  return {
    resources: page.keys.map((k) => ({
      identifier: k.name.slice(PREFIX.length),
      name: k.metadata?.name ?? "",
    })),
    ...(page.list_complete ? {} : { cursor: page.cursor }),
  };
}
