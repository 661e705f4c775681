import type { ProviderConfig } from "../config";
import { OAuthError } from "../errors";
import { revokeUserGrant } from "../families/user-grants";
import {
  asObject,
  fieldError,
  optionalBoolean,
  optionalString,
  rejectUnknown,
} from "../lib/json-fields";
import { adminAction, currentRequestId } from "../log";
import { announceLogout, type LogoutReason } from "../sessions/logout-announcement";
import { createUser } from "./accounts";
import type { GrantView } from "./family-fan-out";
import { normalizeUsername, USERNAME, type UserView } from "./model";
import { hashPassword, passwordProblem } from "./passwords";
import type { UserPatch } from "./user";
import { usernameObject } from "./username";

/**
 * What an administrator may do to a user account, whichever surface asks:
 * the admin JSON API (src/admin/users.ts) and the console (src/console/)
 * call these and nothing else, so every rule (what a username, an email or
 * a password may be; that a password change revokes grants; the audit
 * event) exists once. Bodies are in the admin API's JSON shape.
 *
 * Users live in Durable Objects, so every change is exact the moment the
 * call returns; the directory shows it then too (each User object writes its
 * row before answering).
 */

const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
const GRANT_ID = /^[0-9a-f]{64}$/;
const notFound = () => new OAuthError("not_found", "There is no user with this id.");

function userStub(env: Env, id: string) {
  if (!USER_ID.test(id)) throw notFound();
  return env.USER.getByName(id);
}

/**
 * The user's standing login sessions, read before a change that ends them
 * all (a password change, a block, a deletion), so that their clients can be
 * told after it (OIDC Back-Channel Logout 1.0; src/sessions/). A session
 * opened between the read and the change ends too but is not announced.
 */
async function sessionsToAnnounce(user: ReturnType<typeof userStub>) {
  return (await user.loginSessions()).map(({ sid, clients }) => ({ sid, clients }));
}

async function announceEnded(
  env: Env,
  config: ProviderConfig,
  sub: string,
  sessions: { sid: string; clients: string[] }[],
  reason: LogoutReason,
): Promise<void> {
  await Promise.all(
    sessions.map((session) => announceLogout(env, config, { sub, ...session }, reason)),
  );
}

function profileFields(body: Record<string, unknown>): UserPatch {
  const patch: UserPatch = {};
  if ("name" in body)
    patch.name = body.name === null ? null : (optionalString(body, "name") ?? null);
  if ("email" in body) {
    const email = body.email === null ? null : optionalString(body, "email", 320);
    if (email && !EMAIL.test(email)) throw fieldError("email", "must be an email address");
    patch.email = email ?? null;
  }
  const verified = optionalBoolean(body, "email_verified");
  if (verified !== undefined) patch.email_verified = verified;
  return patch;
}

async function newPassword(body: Record<string, unknown>) {
  const problem = passwordProblem(body.password);
  if (problem) throw fieldError("password", problem);
  return hashPassword(body.password as string);
}

export async function createUserAccount(env: Env, body: unknown): Promise<UserView> {
  const input = asObject(body);
  rejectUnknown(input, ["username", "password", "name", "email", "email_verified"]);
  const raw = optionalString(input, "username", 64);
  if (!raw) throw fieldError("username", "is required");
  const username = normalizeUsername(raw);
  if (!USERNAME.test(username))
    throw fieldError("username", "may contain letters, digits and . _ @ + - only");
  const password = await newPassword(input);
  const profile = profileFields(input);
  const created = await createUser(env, {
    username,
    password,
    ...(profile.name ? { name: profile.name } : {}),
    ...(profile.email ? { email: profile.email } : {}),
    ...(profile.email_verified !== undefined ? { email_verified: profile.email_verified } : {}),
  });
  if (created === "taken")
    throw new OAuthError("invalid_request", "username: is already taken.", { status: 409 });
  adminAction("user.created", { sub: created.id });
  return created;
}

export async function findUser(env: Env, id: string): Promise<UserView> {
  const view = await userStub(env, id).view();
  if (!view) throw notFound();
  return view;
}

export async function findUserByName(env: Env, username: string): Promise<UserView> {
  const sub = await (await usernameObject(env, normalizeUsername(username))).owner();
  const view = sub ? await env.USER.getByName(sub).view() : undefined;
  if (!view) throw new OAuthError("not_found", "There is no user with this username.");
  return view;
}

export async function updateUserProfile(env: Env, id: string, body: unknown): Promise<UserView> {
  const input = asObject(body);
  rejectUnknown(input, ["name", "email", "email_verified"]);
  const view = await userStub(env, id).update(profileFields(input), currentRequestId());
  if (!view) throw notFound();
  adminAction("user.updated", { sub: view.id });
  return view;
}

/** Deletes the account (and frees its name); its grants are revoked first. */
export async function deleteUserAccount(
  env: Env,
  config: ProviderConfig,
  id: string,
): Promise<void> {
  const user = userStub(env, id);
  const sessions = await sessionsToAnnounce(user);
  const removed = await user.remove(currentRequestId());
  if (!removed) throw notFound();
  adminAction("user.deleted", { sub: removed.sub });
  await announceEnded(env, config, removed.sub, sessions, "user_deleted");
}

/** Sets the password; with REVOKE_GRANTS_ON_PASSWORD_CHANGE (the default) the user's grants die too. */
export async function setUserPassword(
  env: Env,
  config: ProviderConfig,
  id: string,
  body: unknown,
): Promise<void> {
  const input = asObject(body);
  rejectUnknown(input, ["password"]);
  const revokeGrants = config.revokeGrantsOnPasswordChange;
  const user = userStub(env, id);
  const password = await newPassword(input);
  const sessions = await sessionsToAnnounce(user);
  if (!(await user.setPassword(password, revokeGrants, currentRequestId()))) throw notFound();
  adminAction("user.password_set", { sub: id, grantsRevoked: revokeGrants });
  await announceEnded(env, config, id, sessions, "password_changed");
}

/** Blocks sign-in and refresh at once: every family is revoked before this returns. */
export async function blockUser(env: Env, config: ProviderConfig, id: string): Promise<UserView> {
  const user = userStub(env, id);
  const sessions = await sessionsToAnnounce(user);
  const view = await user.block(currentRequestId());
  if (!view) throw notFound();
  adminAction("user.blocked", { sub: view.id });
  await announceEnded(env, config, view.id, sessions, "user_blocked");
  return view;
}

export async function unblockUser(env: Env, id: string): Promise<UserView> {
  const view = await userStub(env, id).unblock(currentRequestId());
  if (!view) throw notFound();
  adminAction("user.unblocked", { sub: view.id });
  return view;
}

export async function userGrants(env: Env, id: string): Promise<GrantView[]> {
  const user = userStub(env, id);
  if (!(await user.view())) throw notFound();
  return user.grants();
}

export async function revokeAllUserGrants(env: Env, id: string): Promise<number> {
  const user = userStub(env, id);
  if (!(await user.view())) throw notFound();
  const revoked = await user.revokeAll("admin", currentRequestId());
  adminAction("grants.revoked", { sub: id, count: revoked });
  return revoked;
}

export async function revokeOneUserGrant(env: Env, id: string, grant: string): Promise<void> {
  if (!GRANT_ID.test(grant)) throw new OAuthError("not_found", "There is no such grant.");
  if (!USER_ID.test(id)) throw notFound();
  if (!(await revokeUserGrant(env, id, grant)))
    throw new OAuthError("not_found", "There is no such live grant for this user.");
  adminAction("grant.revoked", { sub: id, familyId: grant });
}
