import { ACCOUNT_FORMS } from "../../paths";
import { Layout } from "../../ui/card-layout";
import { PASSWORD_MIN_LENGTH } from "../../users/passwords";
import { describeScope } from "./consent";

/**
 * The user's own account page (issue #17): the apps that hold a grant for
 * them, their login sessions, and a password change. Server-rendered, no
 * script: every change is a form (POST, CSRF token) answered by a redirect
 * back here with a one-line notice.
 */

/** One application with access: every live grant of one client, together. */
export interface AppRow {
  clientId: string;
  /** The client's registered name; undefined when the client has been deleted since. */
  name: string | undefined;
  /** A Client ID Metadata Document client: the host its document is at (its name is its own claim). */
  describedAt?: string;
  /** What it may do: every scope of its grants, in the order first granted. */
  scopes: readonly string[];
  /** Seconds: the oldest grant's creation. */
  since: number;
  /** Seconds: the latest refresh of any of its grants, null if none was refreshed yet. */
  lastUsed: number | null;
  /** Seconds: when the last of its grants ends, null when one has no end. */
  expires: number | null;
  /** Whether it keeps access while the user is away (offline_access, OIDC Core §11). */
  offline: boolean;
}

export interface SessionRow {
  sid: string;
  /** This browser's own session. */
  current: boolean;
  /** Seconds. */
  signedInAt: number;
  /** Seconds. */
  expires: number;
  /** The names of the apps the session was used for. */
  apps: readonly string[];
}

export interface AccountPageProps {
  username: string;
  apps: readonly AppRow[];
  sessions: readonly SessionRow[];
  csrf: string;
  /** What the last change did (one line). */
  notice?: string;
  /** Why the password form was refused. */
  passwordError?: string;
}

/** A time as a person reads it, in UTC (the page has no script to know the reader's zone). */
function When(props: { at: number }) {
  const date = new Date(props.at * 1000);
  const text = date.toLocaleString("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZone: "UTC",
  });
  return <time datetime={date.toISOString()}>{text} UTC</time>;
}

const appName = (app: AppRow) => app.name ?? "Deleted application";

function AppItem(props: { app: AppRow; csrf: string; index: number }) {
  const { app } = props;
  const titleId = `app-${props.index}`;
  return (
    <li>
      <div class="row-main">
        <p class="row-title" id={titleId}>
          {appName(app)}
        </p>
        <p class="row-sub">
          {app.name === undefined
            ? `The application ${app.clientId} no longer exists; its access can still be removed.`
            : app.describedAt
              ? `Described by a document at ${app.describedAt}; its name is its own claim.`
              : app.clientId}
        </p>
        <dl class="facts">
          <dt>May</dt>
          <dd>{app.scopes.map((scope) => describeScope(scope).title).join(", ")}</dd>
          <dt>Since</dt>
          <dd>
            <When at={app.since} />
          </dd>
          <dt>Last used</dt>
          <dd>{app.lastUsed === null ? "Not since it was allowed" : <When at={app.lastUsed} />}</dd>
          <dt>Expires</dt>
          <dd>{app.expires === null ? "No end date" : <When at={app.expires} />}</dd>
          <dt>Offline access</dt>
          <dd>
            {app.offline
              ? "Yes: keeps access when you are signed out"
              : "No: its access ends when you sign out"}
          </dd>
        </dl>
      </div>
      <form method="post" action={ACCOUNT_FORMS.removeApp} class="row-actions">
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="hidden" name="client_id" value={app.clientId} />
        <button type="submit" class="secondary" aria-describedby={titleId}>
          Remove access<span class="sr-only"> for {appName(app)}</span>
        </button>
      </form>
    </li>
  );
}

function SessionItem(props: { session: SessionRow; csrf: string }) {
  const { session } = props;
  const label = session.current ? "this browser" : "the session";
  return (
    <li>
      <div class="row-main">
        <p class="row-title">
          Signed in <When at={session.signedInAt} />
          {session.current ? <span class="tag">This browser</span> : null}
        </p>
        <dl class="facts">
          <dt>Ends</dt>
          <dd>
            <When at={session.expires} />
          </dd>
          <dt>Used for</dt>
          <dd>{session.apps.length > 0 ? session.apps.join(", ") : "No app yet"}</dd>
        </dl>
      </div>
      <form method="post" action={ACCOUNT_FORMS.signOut} class="row-actions">
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="hidden" name="sid" value={session.sid} />
        <button type="submit" class="secondary">
          Sign out
          <span class="sr-only">
            {" "}
            {label} signed in at <When at={session.signedInAt} />
          </span>
        </button>
      </form>
    </li>
  );
}

export function AccountPage(props: AccountPageProps) {
  const others = props.sessions.filter((s) => !s.current).length;
  return (
    <Layout title="Your account" wide>
      <h1>Your account</h1>
      <p class="lead">
        Signed in as <strong>{props.username}</strong>
      </p>
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}

      <section aria-labelledby="apps-heading">
        <h2 id="apps-heading">Apps with access</h2>
        <p class="fine">
          Removing an app's access signs it out: its tokens stop working, and it must ask you again.
        </p>
        {props.apps.length > 0 ? (
          <ul class="rows" aria-label="Apps with access">
            {props.apps.map((app, index) => (
              <AppItem app={app} csrf={props.csrf} index={index} />
            ))}
          </ul>
        ) : (
          <p class="empty">No app has access to your account.</p>
        )}
      </section>

      <section aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">Where you are signed in</h2>
        <p class="fine">
          Signing out a session also ends the access of apps you allowed in it without offline
          access.
        </p>
        <ul class="rows" aria-label="Sessions">
          {props.sessions.map((session) => (
            <SessionItem session={session} csrf={props.csrf} />
          ))}
        </ul>
        <form method="post" action={ACCOUNT_FORMS.signOut} class="section-actions">
          <input type="hidden" name="csrf" value={props.csrf} />
          {others > 0 ? (
            <button type="submit" name="which" value="others" class="secondary">
              Sign out all other sessions
            </button>
          ) : null}
          <button type="submit" name="which" value="all" class="secondary">
            Sign out everywhere
          </button>
        </form>
      </section>

      <section aria-labelledby="password-heading">
        <h2 id="password-heading">Change your password</h2>
        <p class="fine">This signs you out everywhere else; you stay signed in here.</p>
        {props.passwordError ? (
          <p class="alert" id="password-error" role="alert">
            {props.passwordError}
          </p>
        ) : null}
        <form method="post" action={ACCOUNT_FORMS.password} class="narrow">
          <input type="hidden" name="csrf" value={props.csrf} />
          {/* Not shown: it tells a password manager whose password this is. */}
          <input
            type="text"
            name="username"
            value={props.username}
            autocomplete="username"
            aria-label="Username"
            hidden
            readonly
          />
          <label for="current-password">Current password</label>
          <input
            type="password"
            id="current-password"
            name="current_password"
            autocomplete="current-password"
            required
            aria-invalid={props.passwordError ? "true" : undefined}
            aria-describedby={props.passwordError ? "password-error" : undefined}
            autofocus={Boolean(props.passwordError)}
          />
          <label for="new-password">New password</label>
          <input
            type="password"
            id="new-password"
            name="new_password"
            autocomplete="new-password"
            minlength={PASSWORD_MIN_LENGTH}
            required
          />
          <label for="repeat-password">New password, again</label>
          <input
            type="password"
            id="repeat-password"
            name="repeat_password"
            autocomplete="new-password"
            minlength={PASSWORD_MIN_LENGTH}
            required
          />
          <div class="actions">
            <button type="submit">Change password</button>
          </div>
        </form>
      </section>
    </Layout>
  );
}
