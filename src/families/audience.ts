import type { PresentedProofs } from "./binding";
import type { Grant, Refusal } from "./model";

/**
 * Which resource an access token from this grant is for (RFC 8707 §2.2),
 * decided inside the family's transition, so that a refusal changes nothing.
 *
 * "In the case of a refresh_token or authorization_code grant type request,
 * such policy may limit the acceptable resources to those that were
 * originally granted by the resource owner or a subset thereof": a named
 * resource must be one of the grant's. Without one, the grant's only resource
 * when it has exactly one; else none, and the token gets the operator's
 * default audience (DEFAULT_AUDIENCE).
 */
export type Audience =
  | { ok: true; resource?: string }
  | { ok: false; reason: Refusal; resource?: string };

/**
 * `chooses`: whether the family may pick the grant's only resource itself
 * (a code redemption, where the resource was checked at authorization a
 * minute ago). A refresh may come long after; there the family names the
 * resource back instead (`target_unchecked`), for the Worker to check its
 * registration as it is now and ask again naming it.
 */
export function audienceOf(
  grant: Grant,
  requested: string | undefined,
  proofs: PresentedProofs,
  chooses = true,
): Audience {
  const granted = grant.resources ?? [];
  if (requested !== undefined && !granted.includes(requested))
    return { ok: false, reason: "target_not_granted" };
  if (requested === undefined && granted.length === 1 && !chooses)
    return { ok: false, reason: "target_unchecked", resource: granted[0] as string };
  const resource = requested ?? (granted.length === 1 ? granted[0] : undefined);
  if (resource === undefined) return { ok: true };
  const proven = proofs.proofJkt !== undefined || proofs.certX5t !== undefined;
  if (!proven && grant.senderConstrained?.includes(resource) === true)
    return { ok: false, reason: "target_needs_binding" };
  return { ok: true, resource };
}

/**
 * What a transition's answer carries of it: the grant (always), and the
 * resource the token is for, when there is one.
 */
export const resourceField = (
  grant: Grant,
  audience: Audience,
): { grant: Grant; resource?: string } => ({
  grant,
  ...(audience.ok && audience.resource !== undefined ? { resource: audience.resource } : {}),
});

/** A refused audience as a transition's answer: the reason, and the resource to check, if any. */
export const audienceRefusalOf = (
  audience: Extract<Audience, { ok: false }>,
): { ok: false; reason: Refusal; resource?: string } => ({
  ok: false,
  reason: audience.reason,
  ...(audience.resource !== undefined ? { resource: audience.resource } : {}),
});
