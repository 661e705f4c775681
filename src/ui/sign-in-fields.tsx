/**
 * The name and password fields of a sign-in form, as the users' login page
 * and the console's sign-in page both ask for them: focus on the name until
 * one is typed, the password marked invalid and described by the page's
 * error line when there is one, and the autocomplete hints password managers
 * read.
 */
export function SignInFields(props: {
  /** The visible label of the name field ("Username", "Administrator name"). */
  nameLabel: string;
  username?: string | undefined;
  /** The id of the page's error line, when it shows one. */
  errorId?: string | undefined;
}) {
  return (
    <>
      <label for="username">{props.nameLabel}</label>
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
        aria-invalid={props.errorId ? "true" : undefined}
        aria-describedby={props.errorId}
        autofocus={Boolean(props.username)}
      />
    </>
  );
}
