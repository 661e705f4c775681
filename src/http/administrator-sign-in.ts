import { administrators } from "../administrators/administrators";
import {
  ADMINISTRATOR_NAME,
  normalizeAdministratorName,
  type SignInResult,
} from "../administrators/model";
import { currentRequestId } from "../log";
import { addressKey } from "../users/username";
import { type AnyContext, clientAddress, type LimitedSignIn, limitedSignIn } from "./rate-limits";

/** A sign-in's outcome, with the console session it opened when one was asked for. */
export type AdministratorSignIn = SignInResult & { session?: { id: string; csrf: string } };

/**
 * An administrator's sign-in, from the console's form or an admin API
 * request's Basic credentials: under the same per-address sign-in rate limit
 * as end users' (README, "Rate limits"), then the account's lock-out and
 * password check in the Administrators object (src/administrators/).
 */
export async function signInAdministrator(
  c: AnyContext,
  rawName: string,
  password: string,
  openSession: boolean,
): Promise<LimitedSignIn<AdministratorSignIn>> {
  const username = normalizeAdministratorName(rawName);
  return limitedSignIn(
    c,
    async (): Promise<AdministratorSignIn> => {
      // A name that cannot exist still costs a hash, so timing tells nothing.
      const name = ADMINISTRATOR_NAME.test(username) ? username : " ";
      return administrators(c.env).signIn(
        name,
        password,
        await addressKey(c.env, clientAddress(c.req.raw)),
        openSession,
        currentRequestId(),
      );
    },
    (result) => result.ok,
  );
}
