import { PATHS } from "../../paths";
import { Layout } from "../../ui/card-layout";
import { SignInFields } from "../../ui/sign-in-fields";

export interface LoginPageProps {
  /** The application the sign-in is for; undefined: the user's own account page. */
  clientName: string | undefined;
  interaction: string;
  csrf: string;
  username?: string;
  error?: string;
  /** A one-line notice (the account page's, after signing out everywhere). */
  notice?: string;
}

export function LoginPage(props: LoginPageProps) {
  return (
    <Layout title={props.clientName ? `Sign in to ${props.clientName}` : "Sign in to your account"}>
      <h1>Sign in</h1>
      <p class="lead">
        to continue to <strong>{props.clientName ?? "your account"}</strong>
      </p>
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}
      {props.error ? (
        <p class="alert" id="login-error" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action={PATHS.login}>
        <input type="hidden" name="interaction" value={props.interaction} />
        <input type="hidden" name="csrf" value={props.csrf} />
        <SignInFields
          nameLabel="Username"
          username={props.username}
          errorId={props.error ? "login-error" : undefined}
        />
        <div class="actions">
          <button type="submit">Sign in</button>
        </div>
      </form>
      <p class="fine">
        {props.clientName
          ? `Only sign in if you trust ${props.clientName}. We never share your password with it.`
          : "Here you can see and remove the apps that use your account, sign out your sessions and change your password."}
      </p>
    </Layout>
  );
}
