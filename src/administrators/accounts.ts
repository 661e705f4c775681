import { OAuthError } from "../errors";
import {
  asObject,
  fieldError,
  optionalEnum,
  optionalString,
  rejectUnknown,
} from "../lib/json-fields";
import { adminAction, currentRequestId } from "../log";
import { hashPassword, passwordProblem } from "../users/passwords";
import { type AdministratorChange, administrators } from "./administrators";
import {
  ADMIN_TOKEN_ACTOR,
  ADMINISTRATOR_NAME,
  ADMINISTRATOR_ROLES,
  type AdministratorView,
  normalizeAdministratorName,
} from "./model";

/**
 * What may be done to administrator accounts, whichever surface asks (the
 * admin API's /admin/administrators, the console's Administrators page, the
 * console's first-run setup): bodies in the admin API's JSON shape, checked
 * here once.
 */

const RESERVED_ACTORS: readonly string[] = [ADMIN_TOKEN_ACTOR.username, "admin"];

const notFound = () => new OAuthError("not_found", "There is no administrator with this name.");
const lastAdmin = () =>
  new OAuthError(
    "invalid_request",
    "role: the last administrator with the admin role cannot lose it or be removed.",
    { status: 409 },
  );

function name(raw: string | undefined): string {
  if (!raw) throw fieldError("username", "is required");
  const username = normalizeAdministratorName(raw);
  if (!ADMINISTRATOR_NAME.test(username))
    throw fieldError("username", "may contain letters, digits and . _ @ + - only");
  // The actors the audit trail names for the ADMIN_TOKEN and for no one in particular.
  if (RESERVED_ACTORS.includes(username))
    throw fieldError("username", "is the name the audit trail uses for the ADMIN_TOKEN");
  return username;
}

/** A path's name: anything that cannot be a name is simply not found. */
function existingName(raw: string): string {
  const username = normalizeAdministratorName(raw);
  if (!ADMINISTRATOR_NAME.test(username)) throw notFound();
  return username;
}

async function password(body: Record<string, unknown>) {
  const problem = passwordProblem(body.password);
  if (problem) throw fieldError("password", problem);
  return hashPassword(body.password as string);
}

function settled(change: AdministratorChange): AdministratorView {
  if (change === "not_found") throw notFound();
  if (change === "last_admin") throw lastAdmin();
  return change;
}

export const listAdministrators = (env: Env): Promise<AdministratorView[]> =>
  administrators(env).list();

export const administratorCount = (env: Env): Promise<number> => administrators(env).count();

export async function createAdministrator(env: Env, body: unknown): Promise<AdministratorView> {
  const input = asObject(body);
  rejectUnknown(input, ["username", "password", "role"]);
  const username = name(optionalString(input, "username", 64));
  const role = optionalEnum(input, "role", ADMINISTRATOR_ROLES);
  if (!role) throw fieldError("role", `is required: one of ${ADMINISTRATOR_ROLES.join(", ")}`);
  const created = await administrators(env).create(
    username,
    role,
    await password(input),
    currentRequestId(),
  );
  if (created === "taken")
    throw new OAuthError("invalid_request", "username: is already taken.", { status: 409 });
  adminAction("administrator.created", { administrator: username, role });
  return created;
}

/**
 * The first administrator (role admin), allowed only while there is none:
 * from the console's setup page, which also asks for ADMIN_TOKEN.
 */
export async function createFirstAdministrator(
  env: Env,
  body: unknown,
): Promise<AdministratorView> {
  const input = asObject(body);
  rejectUnknown(input, ["username", "password"]);
  const username = name(optionalString(input, "username", 64));
  const created = await administrators(env).bootstrap(
    username,
    await password(input),
    currentRequestId(),
  );
  if (created === "exists")
    throw new OAuthError("access_denied", "The first administrator exists already.", {
      status: 403,
    });
  adminAction("administrator.created", { administrator: username, role: "admin" });
  return created;
}

export async function changeAdministratorRole(
  env: Env,
  rawName: string,
  body: unknown,
): Promise<AdministratorView> {
  const input = asObject(body);
  rejectUnknown(input, ["role"]);
  const role = optionalEnum(input, "role", ADMINISTRATOR_ROLES);
  if (!role) throw fieldError("role", `is required: one of ${ADMINISTRATOR_ROLES.join(", ")}`);
  const changed = settled(
    await administrators(env).setRole(existingName(rawName), role, currentRequestId()),
  );
  adminAction("administrator.updated", { administrator: changed.username, role });
  return changed;
}

export async function setAdministratorPassword(
  env: Env,
  rawName: string,
  body: unknown,
): Promise<void> {
  const input = asObject(body);
  rejectUnknown(input, ["password"]);
  const hash = await password(input);
  const username = existingName(rawName);
  if (!(await administrators(env).setPassword(username, hash, currentRequestId())))
    throw notFound();
  adminAction("administrator.password_set", { administrator: username });
}

export async function removeAdministrator(env: Env, rawName: string): Promise<void> {
  const username = existingName(rawName);
  const result = await administrators(env).remove(username, currentRequestId());
  if (result === "not_found") throw notFound();
  if (result === "last_admin") throw lastAdmin();
  adminAction("administrator.deleted", { administrator: username });
}
