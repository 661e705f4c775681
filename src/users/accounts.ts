import { nowSeconds } from "../lib/time";
import { currentRequestId } from "../log";
import type { UserRecord, UserView } from "./model";
import type { PasswordHash } from "./passwords";
import { usernameObject } from "./username";

export interface NewUser {
  username: string;
  password: PasswordHash;
  name?: string;
  email?: string;
  email_verified?: boolean;
}

/**
 * Creates an account: the username is claimed first (atomically, in its own
 * Durable Object), then the account is written under a fresh random `sub`.
 */
export async function createUser(env: Env, input: NewUser): Promise<UserView | "taken"> {
  const sub = crypto.randomUUID();
  if (!(await (await usernameObject(env, input.username)).claim(sub))) return "taken";
  const now = nowSeconds();
  const record: UserRecord = {
    sub,
    username: input.username,
    ...(input.name ? { name: input.name } : {}),
    ...(input.email ? { email: input.email } : {}),
    email_verified: input.email_verified ?? false,
    password: input.password,
    blocked: false,
    session_version: 1,
    created_at: now,
    updated_at: now,
  };
  const user = env.USER.getByName(sub);
  await user.create(record, currentRequestId());
  return (await user.view()) as UserView;
}
