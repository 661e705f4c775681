import type { ProviderConfig, Rotation } from "../config";
import type { ClientRecord } from "./model";

/**
 * A client's refresh-token policy: its own settings over the provider
 * defaults (wrangler vars), resolved into a shape with no contradictions.
 */
export type RefreshPolicy =
  | { issue: false }
  | {
      issue: true;
      /** "rotate": a new token on each refresh. "reuse": the same token keeps working. */
      rotation: Rotation;
      /** With "reuse": whether the refresh response repeats the token (false: ForgeRock's toggle off). */
      returnOnRefresh: boolean;
      graceSeconds: number;
      /** The grace window applies only to bound families (to a DPoP key or a certificate; public clients). */
      graceNeedsBinding: boolean;
      absoluteLifetime: number;
      idleLifetime: number;
      requireOfflineAccess: boolean;
    };

export function refreshPolicy(client: ClientRecord, config: ProviderConfig): RefreshPolicy {
  const own = client.refresh_token;
  const defaults = config.refresh;
  const absoluteLifetime = own.absolute_lifetime ?? defaults.absoluteLifetime;
  const issue = (own.issue ?? defaults.issue) && absoluteLifetime > 0; // Curity: a lifetime of 0 means none
  if (!issue || !client.grant_types.includes("refresh_token")) return { issue: false };
  const lifetimes = {
    absoluteLifetime,
    idleLifetime: own.idle_lifetime ?? defaults.idleLifetime,
    requireOfflineAccess: own.require_offline_access ?? defaults.requireOfflineAccess,
  };
  if (client.credential.method === "none") {
    // RFC 9700 §4.14.2: "refresh tokens for public clients MUST be
    // sender-constrained or use refresh token rotation". A public client's
    // always rotate, whatever the provider defaults say. The grace window
    // hands the successor to whoever shows the previous token, and an unbound
    // token is a public client's only credential, so a copied one would follow
    // the family: the window is off unless the client's own settings turn it
    // on, and then applies only to families bound to a DPoP key (RFC 9449 §5)
    // or a TLS client certificate (RFC 8705 §4), whose retries only the key's
    // holder can prove.
    return {
      issue: true,
      rotation: "rotate",
      returnOnRefresh: true,
      graceSeconds: own.grace_seconds ?? 0,
      graceNeedsBinding: true,
      ...lifetimes,
    };
  }
  const issueOnRefresh = own.issue_on_refresh ?? true;
  return {
    issue: true,
    rotation: issueOnRefresh ? (own.rotation ?? defaults.rotation) : "reuse",
    returnOnRefresh: issueOnRefresh,
    graceSeconds: own.grace_seconds ?? defaults.graceSeconds,
    graceNeedsBinding: false,
    ...lifetimes,
  };
}

export function accessTokenLifetime(client: ClientRecord, config: ProviderConfig): number {
  return client.access_token_lifetime ?? config.accessTokenLifetime;
}
