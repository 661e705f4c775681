import type { GrantView } from "../../users/family-fan-out";
import type { UserView } from "../../users/model";
import type { FormFields } from "../forms/fields";
import { type FormProblem, generalProblem, problemOf } from "../forms/problem";
import { USER_PROFILE_CONTROLS } from "../forms/user-form";
import { PAGES, withQuery } from "../paths";
import { ActionButton, Checkbox, CsrfField, FormAlert, TextField, Time } from "./controls";
import { UserState } from "./users";

/** One user: who they are, what an administrator can do to them, and their grants. */

export interface UserGrantRow extends GrantView {
  /** The application's name, when it is still registered. */
  client_name?: string;
}

export interface UserDetailProps {
  user: UserView;
  grants: UserGrantRow[];
  csrfToken: string;
  mayChange: boolean;
  /** What the operator typed into the form the service refused, and the refusal. */
  profileValues: FormFields;
  refused?: { form: "profile" | "password"; problem: FormProblem } | undefined;
}

export function profileValues(user: UserView): URLSearchParams {
  const values = new URLSearchParams({ name: user.name ?? "", email: user.email ?? "" });
  if (user.email_verified) values.set("email_verified", "on");
  return values;
}

export function UserDetail(props: UserDetailProps) {
  const { user, csrfToken } = props;
  const profileProblem = props.refused?.form === "profile" ? props.refused.problem : undefined;
  const passwordProblem = props.refused?.form === "password" ? props.refused.problem : undefined;
  const values = props.profileValues;
  const field = (name: string) => ({
    name,
    value: values.get(name) ?? "",
    error: problemOf(profileProblem, name),
  });
  return (
    <>
      <div class="page-head">
        <div>
          <h1>{user.username}</h1>
          <p class="lead">
            <a href={PAGES.users}>Users</a> ·{" "}
            <a href={withQuery(PAGES.events, { sub: user.id })} id="user-events">
              What happened to this user's tokens? (security events)
            </a>
          </p>
        </div>
        {props.mayChange ? (
          <div class="actions">
            {user.blocked ? (
              <ActionButton
                action={PAGES.userUnblock(user.id)}
                csrfToken={csrfToken}
                label="Unblock"
                id="unblock-user"
                tone="secondary"
              />
            ) : (
              <ActionButton
                action={PAGES.userBlock(user.id)}
                csrfToken={csrfToken}
                label="Block"
                id="block-user"
                tone="danger"
              />
            )}
            <a class="button danger" href={PAGES.userDelete(user.id)} id="delete-user">
              Delete…
            </a>
          </div>
        ) : null}
      </div>
      <section class="panel">
        <dl class="facts" id="user-facts">
          <dt>State</dt>
          <dd>
            <UserState blocked={user.blocked} />
          </dd>
          <dt>User id (sub)</dt>
          <dd>
            <code>{user.id}</code>
          </dd>
          <dt>Created</dt>
          <dd>
            <Time at={user.created_at} />
          </dd>
          <dt>Last changed</dt>
          <dd>
            <Time at={user.updated_at} />
          </dd>
          {props.mayChange ? null : (
            <>
              <dt>Name</dt>
              <dd>{user.name ?? "—"}</dd>
              <dt>Email</dt>
              <dd>
                {user.email ?? "—"} {user.email_verified ? "(verified)" : ""}
              </dd>
            </>
          )}
        </dl>
      </section>
      {props.mayChange ? (
        <div class="panel">
          <h2>Profile</h2>
          <form method="post" action={PAGES.user(user.id)} id="profile-form" novalidate>
            <CsrfField token={csrfToken} />
            <FormAlert message={generalProblem(profileProblem, USER_PROFILE_CONTROLS)} />
            <TextField {...field("name")} label="Full name" />
            <TextField {...field("email")} label="Email address" />
            <Checkbox
              name="email_verified"
              checked={Boolean(values.get("email_verified"))}
              label="The email address is verified"
              error={problemOf(profileProblem, "email_verified")}
            />
            <div class="actions">
              <button type="submit" id="save-profile">
                Save profile
              </button>
            </div>
          </form>
        </div>
      ) : null}
      {props.mayChange ? (
        <div class="panel">
          <h2>Password</h2>
          <form method="post" action={PAGES.userPassword(user.id)} id="password-form" novalidate>
            <CsrfField token={csrfToken} />
            <FormAlert message={generalProblem(passwordProblem, ["password"])} />
            <TextField
              name="password"
              type="password"
              autocomplete="new-password"
              label="New password"
              error={problemOf(passwordProblem, "password")}
              hint="Replaces the user's password. Unless REVOKE_GRANTS_ON_PASSWORD_CHANGE is off, their grants are revoked too."
            />
            <div class="actions">
              <button type="submit" id="set-password">
                Set password
              </button>
            </div>
          </form>
        </div>
      ) : null}
      <Grants {...props} />
    </>
  );
}

function Grants(props: UserDetailProps) {
  const { user, grants, csrfToken } = props;
  return (
    <section class="panel" aria-labelledby="grants-title">
      <div class="page-head">
        <h2 id="grants-title">Grants ({grants.length})</h2>
        {props.mayChange && grants.length > 0 ? (
          <ActionButton
            action={PAGES.userGrantsRevokeAll(user.id)}
            csrfToken={csrfToken}
            label="Revoke all grants"
            id="revoke-all-grants"
            tone="danger"
          />
        ) : null}
      </div>
      <p class="hint">
        Each grant is one sign-in to an application that holds a refresh token. Revoking it ends its
        refresh token and its access tokens.
      </p>
      {grants.length === 0 ? (
        <p class="empty">No live grants.</p>
      ) : (
        <div class="table-wrap">
          <table id="grants">
            <thead>
              <tr>
                <th scope="col">Application</th>
                <th scope="col">Scopes</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                {props.mayChange ? <th scope="col">Action</th> : null}
              </tr>
            </thead>
            <tbody>
              {grants.map((grant) => (
                <tr id={`grant-${grant.grant_id.slice(0, 16)}`}>
                  <td>
                    <a href={PAGES.application(grant.client_id)}>
                      {grant.client_name ?? grant.client_id}
                    </a>
                  </td>
                  <td>{grant.scope}</td>
                  <td>
                    <Time at={grant.created_at} />
                  </td>
                  <td>
                    <Time at={grant.last_refresh_at} />
                  </td>
                  <td>
                    <Time at={grant.expires_at} />
                  </td>
                  {props.mayChange ? (
                    <td>
                      <ActionButton
                        action={PAGES.userGrantRevoke(user.id, grant.grant_id)}
                        csrfToken={csrfToken}
                        label="Revoke"
                        ariaLabel={`Revoke the grant to ${grant.client_name ?? grant.client_id} created ${new Date(grant.created_at * 1000).toISOString()}`}
                        tone="secondary"
                      />
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
