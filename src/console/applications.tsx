import type { Hono } from "hono";
import {
  createClient,
  findClientView,
  removeClient,
  rotateClientSecret,
  updateClient,
} from "../clients/administration";
import { listClients, liveGrantsOf } from "../clients/listing";
import type { ClientView } from "../clients/validation";
import { CONSOLE, type ConsoleContext, type ConsoleEnv } from "./context";
import { clientBody, clientFormValues, newClientFormValues } from "./forms/client-form";
import type { FormFields } from "./forms/fields";
import { type FormProblem, formProblem } from "./forms/problem";
import { PAGES } from "./paths";
import { doneRedirect, listingQuery, scriptHash } from "./render";
import { canChange, requireChange } from "./roles";
import { ApplicationForm } from "./views/application-form";
import {
  ApplicationActions,
  ApplicationFacts,
  ApplicationList,
  ApplicationSettings,
  COPY_SCRIPT,
  DeleteApplication,
  NewSecret,
} from "./views/applications";
import { consolePage } from "./views/page";

/**
 * The applications' pages. Every change goes through
 * src/clients/administration.ts, as the admin API's does: the form becomes
 * the API's JSON body (forms/client-form.ts) and the service decides.
 */

const idOf = (c: ConsoleContext) => c.req.param("id") ?? "";

const ORDERS = [
  { value: "name", label: "Name" },
  { value: "client_id", label: "client_id" },
];

/** The list, as GET /admin/clients lists (src/clients/listing.ts): same query, same refusals. */
async function list(c: ConsoleContext): Promise<Response> {
  const search = { q: c.req.query("q") ?? "", by: c.req.query("by") ?? "name", orders: ORDERS };
  let page: Awaited<ReturnType<typeof listClients>> | undefined;
  let problem: FormProblem | undefined;
  try {
    page = await listClients(c.env, listingQuery(c));
  } catch (error) {
    problem = formProblem(error);
    if (!problem) throw error;
  }
  return consolePage(
    c,
    {
      title: "Applications",
      section: "applications",
      children: (
        <ApplicationList
          rows={page?.clients ?? []}
          search={search}
          next={page?.next_cursor}
          problem={problem?.message}
          mayChange={canChange(c)}
        />
      ),
    },
    { status: problem?.status ?? 200 },
  );
}

function newForm(c: ConsoleContext, values: FormFields, problem?: FormProblem): Response {
  requireChange(c);
  return consolePage(
    c,
    {
      title: "New application",
      section: "applications",
      children: (
        <>
          <h1>New application</h1>
          <p class="lead">Register a client. Every setting can be changed later.</p>
          <ApplicationForm
            mode="create"
            action={PAGES.applications}
            csrfToken={c.get("csrfToken")}
            values={values}
            problem={problem}
            config={c.get("config")}
          />
        </>
      ),
    },
    { status: problem?.status ?? 200 },
  );
}

/** A page showing a secret once: the response of the POST that made it (never stored, never redirected). */
async function secretPage(
  c: ConsoleContext,
  client: { client_id: string; client_name: string },
  secret: string,
  created: boolean,
): Promise<Response> {
  return consolePage(
    c,
    {
      title: created ? "Application created" : "New client secret",
      section: "applications",
      children: <NewSecret client={client} secret={secret} created={created} />,
    },
    { scriptHashes: [await scriptHash(COPY_SCRIPT)] },
  );
}

async function create(c: ConsoleContext): Promise<Response> {
  const form = c.get("form");
  let created: Awaited<ReturnType<typeof createClient>>;
  try {
    created = await createClient(
      c.env,
      c.get("config"),
      clientBody(form, "create", c.get("config").scopes),
    );
  } catch (error) {
    const problem = formProblem(error);
    if (!problem) throw error;
    return newForm(c, form, problem);
  }
  if (created.client_secret) return secretPage(c, created, created.client_secret, true);
  return doneRedirect(c, PAGES.application(created.client_id), "application-created");
}

function detail(
  c: ConsoleContext,
  client: ClientView,
  values: FormFields,
  problem?: FormProblem,
): Response {
  const csrfToken = c.get("csrfToken");
  return consolePage(
    c,
    {
      title: client.client_name,
      section: "applications",
      children: (
        <>
          <div class="page-head">
            <div>
              <h1>{client.client_name}</h1>
              <p class="lead">
                <a href={PAGES.applications}>Applications</a> ·{" "}
                <a href={`${PAGES.events}?client_id=${encodeURIComponent(client.client_id)}`}>
                  Security events of this application
                </a>
              </p>
            </div>
            {canChange(c) ? <ApplicationActions client={client} csrfToken={csrfToken} /> : null}
          </div>
          <section class="panel">
            <ApplicationFacts client={client} />
          </section>
          {canChange(c) ? (
            <section class="panel">
              <h2>Settings</h2>
              <ApplicationForm
                mode="update"
                action={PAGES.application(client.client_id)}
                csrfToken={csrfToken}
                values={values}
                problem={problem}
                config={c.get("config")}
              />
            </section>
          ) : (
            <ApplicationSettings client={client} config={c.get("config")} />
          )}
        </>
      ),
    },
    { status: problem?.status ?? 200 },
  );
}

async function show(c: ConsoleContext): Promise<Response> {
  const client = await findClientView(c.env, idOf(c));
  return detail(c, client, clientFormValues(client));
}

async function update(c: ConsoleContext): Promise<Response> {
  const id = idOf(c);
  const form = c.get("form");
  let updated: Awaited<ReturnType<typeof updateClient>>;
  try {
    updated = await updateClient(
      c.env,
      c.get("config"),
      id,
      clientBody(form, "update", c.get("config").scopes),
    );
  } catch (error) {
    const problem = formProblem(error);
    if (!problem) throw error;
    return detail(c, await findClientView(c.env, id), form, problem);
  }
  // A change to a secret method makes a secret: shown now, as a rotation's is.
  if (updated.client_secret) return secretPage(c, updated, updated.client_secret, false);
  return doneRedirect(c, PAGES.application(id), "application-updated");
}

async function rotateSecret(c: ConsoleContext): Promise<Response> {
  const client = await findClientView(c.env, idOf(c));
  const { client_secret } = await rotateClientSecret(c.env, client.client_id);
  return secretPage(c, client, client_secret, false);
}

async function confirmDelete(c: ConsoleContext): Promise<Response> {
  requireChange(c);
  const client = await findClientView(c.env, idOf(c));
  return consolePage(c, {
    title: `Delete ${client.client_name}`,
    section: "applications",
    children: (
      <DeleteApplication
        client={client}
        liveGrants={await liveGrantsOf(c.env, client.client_id)}
        csrfToken={c.get("csrfToken")}
      />
    ),
  });
}

async function remove(c: ConsoleContext): Promise<Response> {
  await removeClient(c.env, idOf(c));
  return doneRedirect(c, PAGES.applications, "application-deleted");
}

export function applicationRoutes(app: Hono<ConsoleEnv>): void {
  app.get(`${CONSOLE}/applications`, list);
  app.post(`${CONSOLE}/applications`, create);
  app.get(`${CONSOLE}/applications/new`, (c) => newForm(c, newClientFormValues()));
  app.get(`${CONSOLE}/applications/:id`, show);
  app.post(`${CONSOLE}/applications/:id`, update);
  app.post(`${CONSOLE}/applications/:id/secret`, rotateSecret);
  app.get(`${CONSOLE}/applications/:id/delete`, confirmDelete);
  app.post(`${CONSOLE}/applications/:id/delete`, remove);
}
