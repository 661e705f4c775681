/** Access tokens are always ES256; ID tokens are RS256 (the interoperable default) or ES256. */
export const SIGNING_ALGS = ["ES256", "RS256"] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
export const ACCESS_TOKEN_ALG: SigningAlg = "ES256";

/** A key as the admin API and console list it (times in seconds; never the private key). */
export interface SigningKeyState {
  kid: string;
  /** Unknown for a revoked key: only its kid is kept. */
  alg: SigningAlg | null;
  state: "next" | "current" | "retiring" | "revoked";
  created_at: number | null;
  activates_at: number | null;
  /**
   * When it leaves the JWKS as things stand: its successor's activation plus
   * the retention (longer than any token it signed lives); null for the last
   * key of its line, which has no successor yet.
   */
  published_until: number | null;
}
