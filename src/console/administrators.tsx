import type { Hono } from "hono";
import {
  changeAdministratorRole,
  createAdministrator,
  listAdministrators,
  removeAdministrator,
  setAdministratorPassword,
} from "../administrators/accounts";
import { ADMINISTRATOR_ROLES, type AdministratorView, mayChange } from "../administrators/model";
import { OAuthError } from "../errors";
import { CONSOLE, type ConsoleContext, type ConsoleEnv } from "./context";
import { ActionButton, CsrfField, FormAlert } from "./views/controls";
import { consolePage } from "./views/page";

/**
 * The Administrators page: who may use the console and the admin API, and
 * with which role. Every change goes through src/administrators/accounts.ts,
 * as the admin API's /admin/administrators does.
 */

const PAGE = `${CONSOLE}/administrators`;
const DONE: Record<string, string> = {
  created: "The administrator was created.",
  role: "The role was changed; their sessions have ended.",
  password: "The password was set; their sessions have ended.",
  deleted: "The administrator was removed.",
};

function AdministratorsPage(props: {
  list: AdministratorView[];
  canChange: boolean;
  csrf: string;
  notice?: string | undefined;
  error?: string | undefined;
}) {
  return (
    <>
      <h1>Administrators</h1>
      <p class="lead">
        An admin may change anything here; a viewer may only look. The last admin cannot be demoted
        or removed.
      </p>
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}
      <FormAlert message={props.error} />
      <div class="table-wrap">
        <table id="administrators" aria-label="Administrators">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              {props.canChange ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {props.list.map((a) => (
              <tr>
                <td>
                  <strong>{a.username}</strong>
                </td>
                <td>{a.role}</td>
                {props.canChange ? (
                  <td>
                    <div class="actions">
                      <form method="post" action={`${PAGE}/${encodeURIComponent(a.username)}/role`}>
                        <CsrfField token={props.csrf} />
                        <label for={`role-${a.username}`}>Role of {a.username}</label>
                        <select id={`role-${a.username}`} name="role">
                          {ADMINISTRATOR_ROLES.map((role) => (
                            <option value={role} selected={role === a.role}>
                              {role}
                            </option>
                          ))}
                        </select>
                        <button type="submit" class="secondary">
                          Change role
                        </button>
                      </form>
                      <ActionButton
                        action={`${PAGE}/${encodeURIComponent(a.username)}/delete`}
                        csrfToken={props.csrf}
                        label={`Remove ${a.username}`}
                        tone="secondary"
                      />
                    </div>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {props.canChange ? (
        <form method="post" action={PAGE} class="panel" style="margin-top: 20px">
          <CsrfField token={props.csrf} />
          <h2>Add an administrator</h2>
          <div class="field">
            <label for="new-username">Name</label>
            <input type="text" id="new-username" name="username" autocomplete="off" required />
          </div>
          <div class="field">
            <label for="new-password">Password (at least 8 characters)</label>
            <input
              type="password"
              id="new-password"
              name="password"
              autocomplete="new-password"
              required
            />
          </div>
          <div class="field">
            <label for="new-role">Role</label>
            <select id="new-role" name="role">
              <option value="viewer">viewer: may look</option>
              <option value="admin">admin: may change</option>
            </select>
          </div>
          <div class="actions">
            <button type="submit">Add administrator</button>
          </div>
        </form>
      ) : null}
    </>
  );
}

async function show(c: ConsoleContext, error?: string, status = 200): Promise<Response> {
  const list = await listAdministrators(c.env);
  return consolePage(
    c,
    {
      title: "Administrators",
      section: "administrators",
      children: (
        <AdministratorsPage
          list={list}
          canChange={mayChange(c.get("administrator"))}
          csrf={c.get("csrfToken")}
          notice={DONE[c.req.query("done") ?? ""]}
          error={error}
        />
      ),
    },
    { status },
  );
}

const field = (c: ConsoleContext, name: string) => c.get("form").get(name) ?? "";

export function consoleAdministratorRoutes(app: Hono<ConsoleEnv>): void {
  app.get(PAGE, (c) => show(c));
  app.post(PAGE, async (c) => {
    try {
      await createAdministrator(c.env, {
        username: field(c, "username"),
        password: field(c, "password"),
        role: field(c, "role"),
      });
    } catch (error) {
      // A refused field is shown on the page, with the list, not on an error page.
      if (error instanceof OAuthError && error.status < 500)
        return show(c, error.description, error.status);
      throw error;
    }
    return c.redirect(`${PAGE}?done=created`, 303);
  });
  app.post(`${PAGE}/:name/role`, async (c) => {
    await changeAdministratorRole(c.env, c.req.param("name"), { role: field(c, "role") });
    return c.redirect(`${PAGE}?done=role`, 303);
  });
  app.post(`${PAGE}/:name/password`, async (c) => {
    await setAdministratorPassword(c.env, c.req.param("name"), { password: field(c, "password") });
    return c.redirect(`${PAGE}?done=password`, 303);
  });
  app.post(`${PAGE}/:name/delete`, async (c) => {
    await removeAdministrator(c.env, c.req.param("name"));
    return c.redirect(`${PAGE}?done=deleted`, 303);
  });
}
