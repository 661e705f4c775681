import { raw } from "hono/html";
import type { ClientView } from "../../clients/validation";
import type { ProviderConfig } from "../../config";
import { PAGES, withQuery } from "../paths";
import { ActionButton, CsrfField, FormAlert, Time } from "./controls";
import { RefreshPolicySummary } from "./refresh-policy";

/** The applications' pages: the list, one application's summary, the delete confirmation, a new secret. */

/** One row of the list: what the client directory lists (src/clients/directory.ts, ClientSummary). */
export interface ApplicationRow {
  client_id: string;
  client_name: string;
  client_type: "public" | "confidential";
  grant_types: readonly string[];
  live_grants: number;
}

export interface ApplicationSearch {
  q: string;
  by: string;
  /** The orders the listing offers: by name, by client_id. */
  orders: readonly { value: string; label: string }[];
}

export function ApplicationList(props: {
  rows: ApplicationRow[];
  search: ApplicationSearch;
  next?: string | undefined;
  problem?: string | undefined;
  mayChange: boolean;
}) {
  const { search } = props;
  return (
    <>
      <div class="page-head">
        <div>
          <h1>Applications</h1>
          <p class="lead">The clients registered with this service.</p>
        </div>
        {props.mayChange ? (
          <a class="button" href={PAGES.newApplication} id="new-application">
            New application
          </a>
        ) : null}
      </div>
      <form method="get" action={PAGES.applications} class="search">
        <div class="field">
          <label for="q">Search</label>
          <input type="search" id="q" name="q" value={search.q} autocomplete="off" />
        </div>
        <div class="field">
          <label for="by">Search by</label>
          <select id="by" name="by">
            {search.orders.map((order) => (
              <option value={order.value} selected={order.value === search.by}>
                {order.label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="secondary">
          Search
        </button>
      </form>
      <FormAlert message={props.problem} />
      <div class="table-wrap">
        <table id="applications">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">client_id</th>
              <th scope="col">Type</th>
              <th scope="col">Grant types</th>
              <th scope="col">Live grants</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((row) => (
              <tr>
                <td>
                  <a href={PAGES.application(row.client_id)}>{row.client_name || "(no name)"}</a>
                </td>
                <td>
                  <code>{row.client_id}</code>
                </td>
                <td>{row.client_type}</td>
                <td>{row.grant_types.join(", ")}</td>
                <td>{row.live_grants}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {props.rows.length === 0 ? <p class="empty">No application matches.</p> : null}
      </div>
      {props.next ? (
        <p class="pager">
          <a
            href={withQuery(PAGES.applications, {
              q: search.q,
              by: search.by,
              cursor: props.next,
            })}
            id="next-page"
            rel="next"
          >
            Next page
          </a>
        </p>
      ) : null}
    </>
  );
}

/** The facts about an application that no form edits. */
export function ApplicationFacts(props: { client: ClientView }) {
  const { client } = props;
  return (
    <dl class="facts" id="application-facts">
      <dt>client_id</dt>
      <dd>
        <code id="client-id">{client.client_id}</code>
      </dd>
      <dt>Type</dt>
      <dd>
        {client.client_type} ({client.token_endpoint_auth_method})
      </dd>
      <dt>Registered</dt>
      <dd>
        <Time at={client.created_at} />
        {client.self_registered ? " (registered itself, RFC 7591)" : ""}
      </dd>
      <dt>Last changed</dt>
      <dd>
        <Time at={client.updated_at} />
      </dd>
    </dl>
  );
}

/** Every setting, read-only: what a viewer sees instead of the form. */
export function ApplicationSettings(props: { client: ClientView; config: ProviderConfig }) {
  const { client } = props;
  const rows: [string, string][] = [
    ["Redirect URIs", client.redirect_uris.join(" ") || "none"],
    ["Grant types", client.grant_types.join(", ")],
    ["Scopes", client.scope],
    ["Consent", client.consent],
    [
      "Access-token lifetime",
      client.access_token_lifetime === null
        ? "provider default"
        : `${client.access_token_lifetime} s`,
    ],
    ["ID token signature", client.id_token_signed_response_alg],
    ["DPoP-bound tokens required", client.dpop_bound_access_tokens ? "yes" : "no"],
    [
      "Certificate-bound tokens required",
      client.tls_client_certificate_bound_access_tokens ? "yes" : "no",
    ],
    ["Resource server", client.resource_server ? "yes" : "no"],
    ["APIs for client credentials", client.resources.join(" ") || "none"],
  ];
  return (
    <>
      <section class="panel">
        <h2>Settings</h2>
        <dl class="facts" id="application-settings">
          {rows.map(([label, value]) => (
            <>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </>
          ))}
        </dl>
      </section>
      <section class="panel">
        <h2>Refresh tokens</h2>
        <RefreshPolicySummary settings={client.refresh_token} defaults={props.config.refresh} />
      </section>
    </>
  );
}

/** The secret's own actions: rotate, and the way to the delete confirmation. */
export function ApplicationActions(props: { client: ClientView; csrfToken: string }) {
  const { client } = props;
  const hasSecret = ["client_secret_basic", "client_secret_post", "client_secret_jwt"].includes(
    client.token_endpoint_auth_method,
  );
  return (
    <div class="actions">
      {hasSecret ? (
        <ActionButton
          action={PAGES.applicationSecret(client.client_id)}
          csrfToken={props.csrfToken}
          label="Rotate secret"
          id="rotate-secret"
          tone="secondary"
        />
      ) : null}
      <a
        class="button danger"
        href={PAGES.applicationDelete(client.client_id)}
        id="delete-application"
      >
        Delete…
      </a>
    </div>
  );
}

export function DeleteApplication(props: {
  client: ClientView;
  /** Its live grants, as the client directory counts them. */
  liveGrants: number;
  csrfToken: string;
}) {
  const { client, liveGrants } = props;
  return (
    <section class="panel">
      <h1>Delete {client.client_name}?</h1>
      <p id="what-dies">
        {`Its ${liveGrants} live grant${liveGrants === 1 ? " stops" : "s stop"} working (every user's sign-in to it that holds a refresh token): `}
        refreshes with its refresh tokens are refused, introspection reports its access tokens
        inactive, and its users cannot sign in to it. Access tokens it holds stay valid, until they
        expire, only at APIs that verify them offline. This cannot be undone.
      </p>
      <p>
        client_id <code>{client.client_id}</code>
      </p>
      <div class="actions">
        <form method="post" action={PAGES.applicationDelete(client.client_id)}>
          <CsrfField token={props.csrfToken} />
          <button type="submit" class="danger" id="confirm-delete">
            Delete the application
          </button>
        </form>
        <a class="button secondary" href={PAGES.application(client.client_id)}>
          Cancel
        </a>
      </div>
    </section>
  );
}

/**
 * The one enhancement with a script: a copy button for the secret, hidden
 * until the script shows it (without JavaScript the field is selectable).
 * The page's CSP allows this script by its hash and no other.
 */
export const COPY_SCRIPT =
  'var b=document.getElementById("copy-secret"),f=document.getElementById("client_secret"),s=document.getElementById("copy-status");b.hidden=false;b.addEventListener("click",function(){navigator.clipboard.writeText(f.value).then(function(){s.textContent="Copied."},function(){f.select();s.textContent="Press Ctrl+C (or Cmd+C) to copy."})});';

/** A secret, on the page of the action that made it: the only time it is shown. */
export function NewSecret(props: {
  client: { client_id: string; client_name: string };
  secret: string;
  created: boolean;
}) {
  return (
    <section class="panel">
      <h1>
        {props.created
          ? `${props.client.client_name} was created`
          : `New secret for ${props.client.client_name}`}
      </h1>
      <p class="alert" role="alert">
        This is the only time the secret is shown. Store it in the application's configuration now;
        if it is lost, rotate it again.
        {props.created ? "" : " The previous secret no longer works."}
      </p>
      <dl class="facts">
        <dt>client_id</dt>
        <dd>
          <code id="client-id">{props.client.client_id}</code>
        </dd>
      </dl>
      <div class="field">
        <label for="client_secret">Client secret</label>
        <div class="secret-box">
          <input
            type="text"
            id="client_secret"
            value={props.secret}
            readonly
            autocomplete="off"
            spellcheck={false}
          />
          <button type="button" id="copy-secret" class="secondary" hidden>
            Copy
          </button>
        </div>
        <p class="hint" id="copy-status" role="status" aria-live="polite" />
      </div>
      <div class="actions">
        <a class="button" href={PAGES.application(props.client.client_id)} id="done">
          Done
        </a>
      </div>
      <script>{raw(COPY_SCRIPT)}</script>
    </section>
  );
}
