import { PATHS } from "../../paths";
import { Layout } from "../../ui/card-layout";

/** What each scope lets the application do, in the words the consent page uses. */
const SCOPE_TEXT: Record<string, { title: string; detail: string }> = {
  openid: {
    title: "Know who you are",
    detail: "Confirm your identity with a unique, stable identifier.",
  },
  profile: { title: "See your profile", detail: "Your name and username." },
  email: { title: "See your email address", detail: "And whether it has been verified." },
  offline_access: {
    title: "Stay connected",
    detail: "Keep access when you are not using the application, until you revoke it.",
  },
};

export function describeScope(scope: string): { title: string; detail: string } {
  return (
    SCOPE_TEXT[scope] ?? {
      title: `Use “${scope}”`,
      detail: "Access granted by this permission on your behalf.",
    }
  );
}

export interface ConsentPageProps {
  clientName: string;
  /**
   * For a client that registered itself (RFC 7591): where the answer goes,
   * by host (or app scheme). Its name is only its own claim, so the page says
   * so and shows what the name cannot fake.
   */
  selfRegistered?: {
    /** Where the answer goes; none for a device (RFC 8628): it polls for it. */
    destination?: string;
    /** A Client ID Metadata Document client: the host its document (its client_id) is at. */
    describedAt?: string;
  };
  username: string;
  scopes: readonly string[];
  /**
   * RFC 8628: the request comes from a device. §3.3.1: the server "SHOULD
   * display the "user_code" to the user and ask them to verify that it
   * matches the "user_code" being displayed on the device"; §5.4 (remote
   * phishing): it should say that a device is being signed in.
   */
  device?: { userCode: string };
  /** RFC 8707 §2.1: the APIs the application will use these permissions at. */
  apis: readonly { name: string; identifier: string }[];
  interaction: string;
  csrf: string;
}

export function ConsentPage(props: ConsentPageProps) {
  return (
    <Layout title={`Allow ${props.clientName}?`}>
      <h1>Allow {props.clientName} to access your account?</h1>
      {/* OIDC Core §3.1.2.3 leaves the account to the user: another person at this browser
          signs out this session and in as themselves, for the same request. */}
      <form method="post" action={PATHS.consent} class="lead">
        <input type="hidden" name="interaction" value={props.interaction} />
        <input type="hidden" name="csrf" value={props.csrf} />
        Signed in as <strong>{props.username}</strong>.{" "}
        <button type="submit" name="decision" value="switch_user" class="link">
          Not you?
        </button>
      </form>
      {props.selfRegistered ? (
        <p class="lead">
          {props.selfRegistered.describedAt ? (
            <>
              This application is not registered here: it describes itself in a document at{" "}
              <strong>{props.selfRegistered.describedAt}</strong>, and its name is its own claim.
            </>
          ) : (
            "This application registered itself: its name is its own claim."
          )}{" "}
          {props.selfRegistered.destination ? (
            <>
              After you answer, you go back to <strong>{props.selfRegistered.destination}</strong>.
            </>
          ) : null}
        </p>
      ) : null}
      {props.device ? (
        <p class="lead" id="device-code">
          You are signing in on a device. Check that it shows the code{" "}
          <strong>{props.device.userCode}</strong>, and allow only if you started this on a device
          you have with you: never for a code someone sent you.
        </p>
      ) : null}
      <p class="list-title">{props.clientName} will be able to:</p>
      <ul class="scopes" aria-label="Requested permissions">
        {props.scopes.map((scope) => {
          const text = describeScope(scope);
          return (
            <li>
              <strong>{text.title}</strong>
              <span>{text.detail}</span>
            </li>
          );
        })}
      </ul>
      {props.apis.length > 0 && (
        <>
          <p class="list-title">At these services:</p>
          <ul class="scopes" aria-label="Services">
            {props.apis.map((api) => (
              <li>
                <strong>{api.name}</strong>
                <span>{api.identifier}</span>
              </li>
            ))}
          </ul>
        </>
      )}
      <form method="post" action={PATHS.consent}>
        <input type="hidden" name="interaction" value={props.interaction} />
        <input type="hidden" name="csrf" value={props.csrf} />
        <div class="actions">
          <button type="submit" name="decision" value="deny" class="secondary">
            Deny
          </button>
          <button type="submit" name="decision" value="allow">
            Allow
          </button>
        </div>
      </form>
      <p class="fine">
        You can withdraw this access later. {props.clientName} will not see your password.
      </p>
    </Layout>
  );
}
