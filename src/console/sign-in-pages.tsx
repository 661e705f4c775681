import { Layout } from "../ui/card-layout";
import { SignInFields } from "../ui/sign-in-fields";
import { CONSOLE } from "./context";

/** The console's sign-in and first-run pages: cards like the users' login page, no scripts. */

export interface SignInPageProps {
  next: string;
  username?: string;
  error?: string;
  notice?: string;
}

const ErrorLine = (props: { error?: string | undefined; id: string }) =>
  props.error ? (
    <p class="alert" id={props.id} role="alert">
      {props.error}
    </p>
  ) : null;

export function SignInPage(props: SignInPageProps) {
  return (
    <Layout title="Sign in to the admin console">
      <h1>Admin console</h1>
      <p class="lead">Sign in with your administrator account.</p>
      {props.notice ? (
        <p class="lead" role="status">
          {props.notice}
        </p>
      ) : null}
      <ErrorLine error={props.error} id="sign-in-error" />
      <form method="post" action={`${CONSOLE}/sign-in`}>
        <input type="hidden" name="next" value={props.next} />
        <SignInFields
          nameLabel="Administrator name"
          username={props.username}
          errorId={props.error ? "sign-in-error" : undefined}
        />
        <div class="actions">
          <button type="submit">Sign in</button>
        </div>
      </form>
      <p class="fine">This console is for the people who run this service, not for its users.</p>
    </Layout>
  );
}

export interface SetupPageProps {
  username?: string;
  error?: string;
}

/** The first administrator, while there is none: proven by the ADMIN_TOKEN secret. */
export function SetupPage(props: SetupPageProps) {
  return (
    <Layout title="Create the first administrator">
      <h1>Create the first administrator</h1>
      <p class="lead">
        No administrator exists yet. Prove you run this deployment with its ADMIN_TOKEN secret, and
        choose the name and password of the first administrator (role admin).
      </p>
      <ErrorLine error={props.error} id="setup-error" />
      <form method="post" action={`${CONSOLE}/setup`}>
        <label for="admin_token">ADMIN_TOKEN</label>
        <input
          type="password"
          id="admin_token"
          name="admin_token"
          autocomplete="off"
          required
          aria-describedby={props.error ? "setup-error" : undefined}
        />
        <label for="username">Administrator name</label>
        <input
          type="text"
          id="username"
          name="username"
          autocomplete="username"
          autocapitalize="none"
          spellcheck={false}
          required
          value={props.username ?? ""}
        />
        <label for="password">Password (at least 8 characters)</label>
        <input
          type="password"
          id="password"
          name="password"
          autocomplete="new-password"
          minlength={8}
          required
        />
        <div class="actions">
          <button type="submit">Create and sign in</button>
        </div>
      </form>
    </Layout>
  );
}
