import { PATHS } from "../../paths";
import { Layout } from "../../ui/card-layout";

/** The logout pages: the question (when a request cannot be tied to the session), and the answer. */

export interface LogoutQuestionProps {
  /** The request's own parameters, carried through the form unchanged. */
  carried: Record<string, string>;
  csrf: string;
  clientName?: string | undefined;
}

export function LogoutQuestionPage(props: LogoutQuestionProps) {
  return (
    <Layout title="Sign out?">
      <h1>Sign out?</h1>
      <p class="lead">
        {props.clientName ? (
          <>
            <strong>{props.clientName}</strong> asks to sign you out of this service.
          </>
        ) : (
          "A page asks to sign you out of this service."
        )}{" "}
        Apps you let stay connected keep working.
      </p>
      <form method="post" action={PATHS.endSession}>
        {Object.entries(props.carried).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <input type="hidden" name="csrf" value={props.csrf} />
        <div class="actions">
          <button type="submit" name="decision" value="stay" class="secondary">
            Stay signed in
          </button>
          <button type="submit" name="decision" value="sign_out">
            Sign out
          </button>
        </div>
      </form>
    </Layout>
  );
}

export function LoggedOutPage(props: { signedOut: boolean }) {
  return (
    <Layout title={props.signedOut ? "Signed out" : "Still signed in"}>
      <h1>{props.signedOut ? "You have signed out" : "You are still signed in"}</h1>
      <p class="lead">
        {props.signedOut
          ? "Your session here has ended. Apps you let stay connected keep working until you remove them."
          : "Nothing was changed. You can close this window."}
      </p>
    </Layout>
  );
}
