import { expect } from "vitest";
import { adminCall, json } from "./http";

/** Registers APIs (RFC 8707 resources) through the admin API, as an operator would. */

export interface RegisteredResource {
  identifier: string;
  name: string;
  scope: string;
  access_token_lifetime: number | null;
  require_sender_constrained: boolean;
  created_at: number;
  updated_at: number;
}

let counter = 0;

/** A fresh identifier per call, so tests never share a registration. */
export const newIdentifier = (label = "api"): string =>
  `https://${label}-${Date.now().toString(36)}${(counter++).toString(36)}.example.test/`;

export async function registerResource(
  overrides: Record<string, unknown> = {},
): Promise<RegisteredResource> {
  const res = await adminCall("POST", "/admin/resources", {
    identifier: newIdentifier(),
    name: "Calendar API",
    scope: "calendar:read",
    ...overrides,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return json<RegisteredResource>(res);
}

/** The admin path of a resource: its identifier as one percent-encoded segment. */
export const resourcePath = (identifier: string): string =>
  `/admin/resources/${encodeURIComponent(identifier)}`;
