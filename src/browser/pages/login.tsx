import { PATHS } from "../../paths";
import { Layout } from "../../ui/card-layout";

export interface LoginPageProps {
  clientName: string;
  interaction: string;
  csrf: string;
  username?: string;
  error?: string;
}

export function LoginPage(props: LoginPageProps) {
  return (
    <Layout title={`Sign in to ${props.clientName}`}>
      <h1>Sign in</h1>
      <p class="lead">
        to continue to <strong>{props.clientName}</strong>
      </p>
      {props.error ? (
        <p class="alert" id="login-error" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action={PATHS.login}>
        <input type="hidden" name="interaction" value={props.interaction} />
        <input type="hidden" name="csrf" value={props.csrf} />
        <label for="username">Username</label>
        <input
          type="text"
          id="username"
          name="username"
          autocomplete="username"
          autocapitalize="none"
          spellcheck={false}
          required
          autofocus={!props.username}
          value={props.username ?? ""}
        />
        <label for="password">Password</label>
        <input
          type="password"
          id="password"
          name="password"
          autocomplete="current-password"
          required
          aria-invalid={props.error ? "true" : undefined}
          aria-describedby={props.error ? "login-error" : undefined}
          autofocus={Boolean(props.username)}
        />
        <div class="actions">
          <button type="submit">Sign in</button>
        </div>
      </form>
      <p class="fine">
        Only sign in if you trust {props.clientName}. We never share your password with it.
      </p>
    </Layout>
  );
}
