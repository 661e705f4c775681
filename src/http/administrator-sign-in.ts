import { administrators } from "../administrators/administrators";
import {
  ADMINISTRATOR_NAME,
  normalizeAdministratorName,
  type SignInResult,
} from "../administrators/model";
import { audit, currentRequestId, securityEvent } from "../log";
import { burnPasswordCheck, type PasswordHash, verifyPassword } from "../users/passwords";
import { addressKey } from "../users/username";
import { type AnyContext, clientAddress, type LimitedSignIn, limitedSignIn } from "./rate-limits";

/** A sign-in's outcome, with the console session it opened when one was asked for. */
export type AdministratorSignIn = SignInResult & { session?: { id: string; csrf: string } };

/**
 * An administrator's sign-in, from the console's form or an admin API
 * request's Basic credentials: under the same per-address sign-in rate limit
 * as end users' (README, "Rate limits"); then the Administrators object
 * counts the attempt against the name's lock-out and hands out the stored
 * hash; the password is checked here, in the Worker (PBKDF2 would hold up
 * the one object every console request uses), and a success is confirmed by
 * the object against the hash it still has.
 */
export async function signInAdministrator(
  c: AnyContext,
  rawName: string,
  password: string,
  openSession: boolean,
): Promise<LimitedSignIn<AdministratorSignIn>> {
  const normalized = normalizeAdministratorName(rawName);
  return limitedSignIn(
    c,
    async (): Promise<AdministratorSignIn> => {
      // A name that cannot exist is counted and costs a hash all the same, so timing tells nothing.
      const username = ADMINISTRATOR_NAME.test(normalized) ? normalized : " ";
      const address = await addressKey(c.env, clientAddress(c.req.raw));
      const team = administrators(c.env);
      const start = await team.beginSignIn(username, address);
      if (!start.ok) {
        audit("administrator.login_failed", { reason: "locked" });
        return start;
      }
      let right = false;
      if (start.hash === null) await burnPasswordCheck(password);
      else right = await verifyPassword(password, JSON.parse(start.hash) as PasswordHash);
      const result: AdministratorSignIn = right
        ? await team.completeSignIn(
            username,
            address,
            start.hash as string,
            openSession,
            currentRequestId(),
          )
        : { ok: false, reason: "invalid" };
      if (!result.ok) {
        audit("administrator.login_failed", { reason: "invalid", failures: start.failures });
        if (start.locks) securityEvent("administrator.locked_out", { failures: start.failures });
      }
      return result;
    },
    (result) => result.ok,
  );
}
