import { isDevelopment } from "../config";
import { sha256, timingSafeEqual } from "../lib/bytes";

/** Known only to `wrangler dev`: a deployed worker has no admin token until ADMIN_TOKEN is set. */
export const DEVELOPMENT_ADMIN_TOKEN = "dev-admin-token";

/**
 * The ADMIN_TOKEN secret (README, "Administrators"): it acts as an admin at
 * the admin API, and it lets the first administrator be created at the
 * console's setup page. Undefined when it is not set (outside development).
 */
export function adminToken(env: Env): string | undefined {
  return env.ADMIN_TOKEN || (isDevelopment(env) ? DEVELOPMENT_ADMIN_TOKEN : undefined);
}

/** Compared in constant time: hashing first makes it so whatever the lengths. */
export async function isAdminToken(expected: string, presented: string): Promise<boolean> {
  return timingSafeEqual(await sha256(presented), await sha256(expected));
}
