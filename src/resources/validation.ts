import { LIMITS } from "../config";
import {
  asObject,
  fieldError,
  type JsonObject,
  optionalBoolean,
  optionalInteger,
  optionalString,
  rejectUnknown,
} from "../lib/json-fields";
import { parseScope } from "../scope";
import { identifierProblem } from "./identifier";
import type { ResourceRecord } from "./model";

/**
 * Turns an admin request body into a resource (create) or a changed resource
 * (update), refusing unknown fields with a 400 that names the field. The
 * identifier is the resource's name in every URL and token: set on create,
 * never changed (a changed `aud` would strand every token and grant).
 */

const FIELDS = [
  "identifier",
  "name",
  "scope",
  "access_token_lifetime",
  "require_sender_constrained",
] as const;

const PROVIDER_SCOPES = ["openid", "profile", "email", "offline_access"];

/** The resource as the admin API shows it. */
export interface ResourceView {
  identifier: string;
  name: string;
  scope: string;
  access_token_lifetime: number | null;
  require_sender_constrained: boolean;
  created_at: number;
  updated_at: number;
}

export function resourceView(resource: ResourceRecord): ResourceView {
  return {
    identifier: resource.identifier,
    name: resource.name,
    scope: resource.scopes.join(" "),
    access_token_lifetime: resource.access_token_lifetime ?? null,
    require_sender_constrained: resource.require_sender_constrained,
    created_at: resource.created_at,
    updated_at: resource.updated_at,
  };
}

export type ResourceDraft = Omit<ResourceRecord, "created_at" | "updated_at">;

export function validateResource(body: unknown, existing?: ResourceRecord): ResourceDraft {
  const input = asObject(body);
  rejectUnknown(input, FIELDS);
  if (existing && "identifier" in input && input.identifier !== existing.identifier) {
    throw fieldError(
      "identifier",
      "cannot be changed (tokens and grants name it); register a new resource instead",
    );
  }
  const base: JsonObject = existing ? { ...resourceView(existing) } : {};
  const merged: JsonObject = { ...base, ...input };

  const identifier = merged.identifier;
  if (typeof identifier !== "string" || identifier.length === 0)
    throw fieldError("identifier", "is required (the URI clients send as resource)");
  const problem = identifierProblem(identifier);
  if (problem) throw fieldError("identifier", problem);

  const name = optionalString(merged, "name");
  if (!name) throw fieldError("name", "is required");

  let scopes: string[] = [];
  if (merged.scope !== undefined && merged.scope !== "") {
    if (typeof merged.scope !== "string")
      throw fieldError("scope", "must be a space-separated string");
    const parsed = parseScope(merged.scope);
    if (!parsed) throw fieldError("scope", "must be scope tokens (RFC 6749 section 3.3)");
    // A resource's scopes are kept out of other tokens (src/resources/scopes.ts):
    // the provider's own must stay in every one (openid decides the ID token).
    if (parsed.some((s) => PROVIDER_SCOPES.includes(s)))
      throw fieldError(
        "scope",
        `${PROVIDER_SCOPES.join(", ")} belong to the provider, not to a resource`,
      );
    scopes = parsed;
  }

  const access_token_lifetime = optionalInteger(
    merged,
    "access_token_lifetime",
    60,
    LIMITS.maxAccessTokenLifetime,
  );
  const require_sender_constrained = optionalBoolean(merged, "require_sender_constrained") ?? false;
  return {
    identifier,
    name,
    scopes,
    ...(access_token_lifetime !== undefined ? { access_token_lifetime } : {}),
    require_sender_constrained,
  };
}
