import type { UserView } from "../../users/model";
import type { FormFields } from "../forms/fields";
import { type FormProblem, generalProblem, problemOf } from "../forms/problem";
import { USER_CREATE_CONTROLS } from "../forms/user-form";
import { PAGES, withQuery } from "../paths";
import { Checkbox, CsrfField, FormAlert, TextField, Time } from "./controls";

/** The users' list, the new-user form and the delete confirmation. */

export interface UserSearch {
  q: string;
  by: string;
}

export function UserList(props: {
  users: UserView[];
  search: UserSearch;
  next?: string | undefined;
  problem?: string | undefined;
  mayChange: boolean;
}) {
  const { search } = props;
  return (
    <>
      <div class="page-head">
        <div>
          <h1>Users</h1>
          <p class="lead">Accounts that sign in to applications through this service.</p>
        </div>
        {props.mayChange ? (
          <a class="button" href={PAGES.newUser} id="new-user">
            New user
          </a>
        ) : null}
      </div>
      <form method="get" action={PAGES.users} class="search">
        <div class="field">
          <label for="q">Search (start of the username or email address)</label>
          <input type="search" id="q" name="q" value={search.q} autocomplete="off" />
        </div>
        <div class="field">
          <label for="by">Search by</label>
          <select id="by" name="by">
            <option value="username" selected={search.by !== "email"}>
              Username
            </option>
            <option value="email" selected={search.by === "email"}>
              Email address
            </option>
          </select>
        </div>
        <button type="submit" class="secondary">
          Search
        </button>
      </form>
      <FormAlert message={props.problem} />
      <div class="table-wrap">
        <table id="users">
          <thead>
            <tr>
              <th scope="col">Username</th>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">State</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {props.users.map((user) => (
              <tr>
                <td>
                  <a href={PAGES.user(user.id)}>{user.username}</a>
                </td>
                <td>{user.name ?? "—"}</td>
                <td>{user.email ?? "—"}</td>
                <td>
                  <UserState blocked={user.blocked} />
                </td>
                <td>
                  <Time at={user.created_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {props.users.length === 0 ? <p class="empty">No user matches.</p> : null}
      </div>
      {props.next ? (
        <p class="pager">
          <a
            href={withQuery(PAGES.users, { q: search.q, by: search.by, cursor: props.next })}
            id="next-page"
            rel="next"
          >
            Next page
          </a>
        </p>
      ) : null}
    </>
  );
}

export function UserState(props: { blocked: boolean }) {
  return props.blocked ? (
    <span class="badge off">blocked</span>
  ) : (
    <span class="badge on">active</span>
  );
}

export function NewUserForm(props: {
  csrfToken: string;
  values: FormFields;
  problem?: FormProblem | undefined;
}) {
  const { values, problem } = props;
  const field = (name: string) => ({
    name,
    value: values.get(name) ?? "",
    error: problemOf(problem, name),
  });
  return (
    <form method="post" action={PAGES.users} id="user-form" class="panel" novalidate>
      <CsrfField token={props.csrfToken} />
      <FormAlert message={generalProblem(problem, USER_CREATE_CONTROLS)} />
      <TextField
        {...field("username")}
        label="Username"
        required
        hint="Letters, digits and . _ @ + - ; compared without case. It cannot be changed later."
      />
      <TextField
        name="password"
        type="password"
        autocomplete="new-password"
        label="Password"
        required
        error={problemOf(problem, "password")}
        hint="The user can sign in with it at once."
      />
      <TextField {...field("name")} label="Full name (optional)" />
      <TextField {...field("email")} label="Email address (optional)" />
      <Checkbox
        name="email_verified"
        checked={Boolean(values.get("email_verified"))}
        label="The email address is verified"
        error={problemOf(problem, "email_verified")}
      />
      <div class="actions">
        <button type="submit" id="create-user">
          Create user
        </button>
      </div>
    </form>
  );
}

export function DeleteUser(props: { user: UserView; grants: number; csrfToken: string }) {
  const { user } = props;
  return (
    <section class="panel">
      <h1>Delete {user.username}?</h1>
      <p id="what-dies">
        {`The account is removed and its username freed. Its ${props.grants} live grant${props.grants === 1 ? " is" : "s are"} revoked first: every refresh token and access token of ${props.grants === 1 ? "it" : "them"} stops working. This cannot be undone.`}
      </p>
      <div class="actions">
        <form method="post" action={PAGES.userDelete(user.id)}>
          <CsrfField token={props.csrfToken} />
          <button type="submit" class="danger" id="confirm-delete">
            Delete the user
          </button>
        </form>
        <a class="button secondary" href={PAGES.user(user.id)}>
          Cancel
        </a>
      </div>
    </section>
  );
}
