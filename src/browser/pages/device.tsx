import { PATHS } from "../../paths";
import { Layout } from "../../ui/card-layout";

export interface DeviceEntryPageProps {
  csrf: string;
  /** From verification_uri_complete (RFC 8628 §3.3.1), or what the user typed last. */
  userCode?: string;
  error?: string;
}

/** RFC 8628 §3.3: "prompts the end user to identify the device authorization session by entering the user_code". */
export function DeviceEntryPage(props: DeviceEntryPageProps) {
  return (
    <Layout title="Connect a device">
      <h1>Connect a device</h1>
      <p class="lead">Enter the code your device shows.</p>
      {props.error ? (
        <p class="alert" id="device-error" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action={PATHS.deviceVerification}>
        <input type="hidden" name="csrf" value={props.csrf} />
        <label for="user_code">Code</label>
        <input
          type="text"
          id="user_code"
          name="user_code"
          autocomplete="off"
          autocapitalize="characters"
          spellcheck={false}
          placeholder="XXXX-XXXX"
          maxlength={32}
          required
          autofocus
          value={props.userCode ?? ""}
          aria-invalid={props.error ? "true" : undefined}
          aria-describedby={props.error ? "device-error" : undefined}
        />
        <div class="actions">
          <button type="submit">Continue</button>
        </div>
      </form>
      <p class="fine">Only enter a code shown by a device you have with you.</p>
    </Layout>
  );
}

/** The end of the user's part: the device gets its answer at its next poll. */
export function DeviceDonePage(props: { approved: boolean; clientName: string }) {
  const title = props.approved ? "Device connected" : "Request denied";
  return (
    <Layout title={title}>
      <h1>{title}</h1>
      <p class="lead">
        {props.approved ? (
          <>
            <strong>{props.clientName}</strong> on your device can now use your account. You can
            return to your device.
          </>
        ) : (
          <>
            <strong>{props.clientName}</strong> was not given access. You can close this window.
          </>
        )}
      </p>
    </Layout>
  );
}
