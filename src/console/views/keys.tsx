import type { SigningKeyState } from "../../tokens/key-administration";
import { PAGES } from "../paths";
import { ActionButton, CsrfField, Time } from "./controls";

/** The signing keys: each with its state, a rotation, and the revocation of a compromised key. */

const STATE_HINTS: Record<SigningKeyState["state"], string> = {
  next: "published ahead of use, so caches know it before it signs",
  current: "signs access and ID tokens now",
  retiring: "signs nothing; published while tokens it signed may live",
  revoked: "out of the JWKS; tokens it signed are refused",
};

const STATE_TONES: Record<SigningKeyState["state"], string> = {
  next: "badge info",
  current: "badge on",
  retiring: "badge",
  revoked: "badge off",
};

export function KeyList(props: { keys: SigningKeyState[]; csrfToken: string; mayChange: boolean }) {
  return (
    <>
      <div class="page-head">
        <div>
          <h1>Signing keys</h1>
          <p class="lead">
            The keys that sign access and ID tokens. Rotation is automatic; rotate now to replace
            the current key early, or revoke a key that may be compromised.
          </p>
        </div>
        {props.mayChange ? (
          <ActionButton
            action={PAGES.rotateKeys}
            csrfToken={props.csrfToken}
            label="Rotate now"
            id="rotate-keys"
          />
        ) : null}
      </div>
      <div class="table-wrap">
        <table id="keys">
          <thead>
            <tr>
              <th scope="col">kid</th>
              <th scope="col">State</th>
              <th scope="col">Algorithm</th>
              <th scope="col">Created</th>
              <th scope="col">Active from</th>
              <th scope="col">Published until</th>
              {props.mayChange ? <th scope="col">Action</th> : null}
            </tr>
          </thead>
          <tbody>
            {props.keys.map((key) => (
              <tr>
                <td>
                  <code>{key.kid}</code>
                </td>
                <td>
                  <span class={STATE_TONES[key.state]} title={STATE_HINTS[key.state]}>
                    {key.state}
                  </span>
                  <span class="hint"> {STATE_HINTS[key.state]}</span>
                </td>
                <td>{key.alg ?? "—"}</td>
                <td>
                  <Time at={key.created_at} />
                </td>
                <td>
                  <Time at={key.activates_at} />
                </td>
                <td>
                  {key.published_until ? <Time at={key.published_until} /> : "until its successor"}
                </td>
                {props.mayChange ? (
                  <td>
                    {key.state === "revoked" ? null : (
                      <a
                        class="button secondary"
                        href={PAGES.keyRevoke(key.kid)}
                        aria-label={`Revoke key ${key.kid}`}
                      >
                        Revoke…
                      </a>
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

export function RevokeKey(props: { keyState: SigningKeyState; csrfToken: string }) {
  const { keyState } = props;
  return (
    <section class="panel">
      <h1>Revoke key {keyState.kid}?</h1>
      <p id="what-dies">
        The key leaves the JWKS and verification at once (other locations within seconds): every
        access and ID token it signed is refused from then on, and its clients must get new ones.
        {keyState.state === "current"
          ? " It is the current key: a new key is made and signs from now on."
          : ""}{" "}
        Do this when the key may be compromised. This cannot be undone.
      </p>
      <div class="actions">
        <form method="post" action={PAGES.keyRevoke(keyState.kid)}>
          <CsrfField token={props.csrfToken} />
          <button type="submit" class="danger" id="confirm-revoke">
            Revoke the key
          </button>
        </form>
        <a class="button secondary" href={PAGES.keys}>
          Cancel
        </a>
      </div>
    </section>
  );
}
