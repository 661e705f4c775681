import type { Hono } from "hono";
import { readClient } from "../clients/registry";
import {
  blockUser,
  createUserAccount,
  deleteUserAccount,
  findUser,
  revokeAllUserGrants,
  revokeOneUserGrant,
  setUserPassword,
  unblockUser,
  updateUserProfile,
  userGrants,
} from "../users/administration";
import { listUsers } from "../users/listing";
import type { UserView } from "../users/model";
import { CONSOLE, type ConsoleContext, type ConsoleEnv } from "./context";
import type { FormFields } from "./forms/fields";
import { type FormProblem, formProblem } from "./forms/problem";
import { passwordBody, userCreateBody, userProfileBody } from "./forms/user-form";
import { PAGES } from "./paths";
import { doneRedirect, listingQuery } from "./render";
import { canChange, requireChange } from "./roles";
import { consolePage } from "./views/page";
import { profileValues, UserDetail, type UserGrantRow } from "./views/user-detail";
import { DeleteUser, NewUserForm, UserList } from "./views/users";

/**
 * The users' pages. Every change goes through src/users/administration.ts,
 * as the admin API's does (forms/user-form.ts makes the API's bodies).
 */

const idOf = (c: ConsoleContext) => c.req.param("id") ?? "";

/** The list, as GET /admin/users lists (src/users/listing.ts): same query, same refusals. */
async function list(c: ConsoleContext): Promise<Response> {
  const q = c.req.query("q") ?? "";
  const by = c.req.query("by") ?? "username";
  let listing: Awaited<ReturnType<typeof listUsers>> | undefined;
  let problem: FormProblem | undefined;
  try {
    listing = await listUsers(c.env, listingQuery(c));
  } catch (error) {
    problem = formProblem(error);
    if (!problem) throw error;
  }
  return consolePage(
    c,
    {
      title: "Users",
      section: "users",
      children: (
        <UserList
          users={listing?.users ?? []}
          search={{ q, by }}
          next={listing?.next_cursor}
          problem={problem?.message}
          mayChange={canChange(c)}
        />
      ),
    },
    { status: problem?.status ?? 200 },
  );
}

function newForm(c: ConsoleContext, values: FormFields, problem?: FormProblem): Response {
  requireChange(c);
  return consolePage(
    c,
    {
      title: "New user",
      section: "users",
      children: (
        <>
          <h1>New user</h1>
          <NewUserForm csrfToken={c.get("csrfToken")} values={values} problem={problem} />
        </>
      ),
    },
    { status: problem?.status ?? 200 },
  );
}

async function create(c: ConsoleContext): Promise<Response> {
  const form = c.get("form");
  try {
    const user = await createUserAccount(c.env, userCreateBody(form));
    return doneRedirect(c, PAGES.user(user.id), "user-created");
  } catch (error) {
    const problem = formProblem(error);
    if (!problem) throw error;
    return newForm(c, form, problem);
  }
}

/** The user's grants, each with its application's name when the application still exists. */
async function grantRows(c: ConsoleContext, id: string): Promise<UserGrantRow[]> {
  const grants = await userGrants(c.env, id);
  const names = new Map<string, string | undefined>();
  await Promise.all(
    [...new Set(grants.map((grant) => grant.client_id))].map(async (clientId) => {
      const client = await readClient(c.env, clientId).catch(() => undefined);
      names.set(clientId, client?.client_name);
    }),
  );
  return grants.map((grant) => {
    const name = names.get(grant.client_id);
    return name ? { ...grant, client_name: name } : grant;
  });
}

async function detail(
  c: ConsoleContext,
  user: UserView,
  refused?: { form: "profile" | "password"; problem: FormProblem; values?: FormFields },
): Promise<Response> {
  return consolePage(
    c,
    {
      title: user.username,
      section: "users",
      children: (
        <UserDetail
          user={user}
          grants={await grantRows(c, user.id)}
          csrfToken={c.get("csrfToken")}
          mayChange={canChange(c)}
          profileValues={refused?.values ?? profileValues(user)}
          refused={refused}
        />
      ),
    },
    { status: refused?.problem.status ?? 200 },
  );
}

async function show(c: ConsoleContext): Promise<Response> {
  return detail(c, await findUser(c.env, idOf(c)));
}

async function updateProfile(c: ConsoleContext): Promise<Response> {
  const id = idOf(c);
  const form = c.get("form");
  try {
    await updateUserProfile(c.env, id, userProfileBody(form));
  } catch (error) {
    const problem = formProblem(error);
    if (!problem) throw error;
    return detail(c, await findUser(c.env, id), { form: "profile", problem, values: form });
  }
  return doneRedirect(c, PAGES.user(id), "user-updated");
}

async function setPassword(c: ConsoleContext): Promise<Response> {
  const id = idOf(c);
  const form = c.get("form");
  try {
    await setUserPassword(c.env, c.get("config"), id, passwordBody(form));
  } catch (error) {
    const problem = formProblem(error);
    if (!problem) throw error;
    return detail(c, await findUser(c.env, id), { form: "password", problem });
  }
  const revoked = c.get("config").revokeGrantsOnPasswordChange;
  return doneRedirect(c, PAGES.user(id), revoked ? "password-set-grants-revoked" : "password-set");
}

async function confirmDelete(c: ConsoleContext): Promise<Response> {
  requireChange(c);
  const user = await findUser(c.env, idOf(c));
  const grants = await userGrants(c.env, user.id);
  return consolePage(c, {
    title: `Delete ${user.username}`,
    section: "users",
    children: <DeleteUser user={user} grants={grants.length} csrfToken={c.get("csrfToken")} />,
  });
}

export function userRoutes(app: Hono<ConsoleEnv>): void {
  app.get(`${CONSOLE}/users`, list);
  app.post(`${CONSOLE}/users`, create);
  app.get(`${CONSOLE}/users/new`, (c) => newForm(c, new URLSearchParams()));
  app.get(`${CONSOLE}/users/:id`, show);
  app.post(`${CONSOLE}/users/:id`, updateProfile);
  app.post(`${CONSOLE}/users/:id/password`, setPassword);
  app.post(`${CONSOLE}/users/:id/block`, async (c) => {
    await blockUser(c.env, c.get("config"), idOf(c));
    return doneRedirect(c, PAGES.user(idOf(c)), "blocked");
  });
  app.post(`${CONSOLE}/users/:id/unblock`, async (c) => {
    await unblockUser(c.env, idOf(c));
    return doneRedirect(c, PAGES.user(idOf(c)), "unblocked");
  });
  app.get(`${CONSOLE}/users/:id/delete`, confirmDelete);
  app.post(`${CONSOLE}/users/:id/delete`, async (c) => {
    await deleteUserAccount(c.env, c.get("config"), idOf(c));
    return doneRedirect(c, PAGES.users, "user-deleted");
  });
  app.post(`${CONSOLE}/users/:id/grants/revoke-all`, async (c) => {
    await revokeAllUserGrants(c.env, idOf(c));
    return doneRedirect(c, PAGES.user(idOf(c)), "grants-revoked");
  });
  app.post(`${CONSOLE}/users/:id/grants/:grant/revoke`, async (c) => {
    await revokeOneUserGrant(c.env, idOf(c), c.req.param("grant"));
    return doneRedirect(c, PAGES.user(idOf(c)), "grant-revoked");
  });
}
