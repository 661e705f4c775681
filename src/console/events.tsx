import type { Hono } from "hono";
import { listEvents } from "../events/listing";
import { AUDIT_EVENTS } from "../log";
import { CONSOLE, type ConsoleContext, type ConsoleEnv } from "./context";
import { type FormProblem, formProblem } from "./forms/problem";
import { listingQuery } from "./render";
import { EventList } from "./views/events";
import { consolePage } from "./views/page";

/**
 * The Security events page: the event store's list (src/events/listing.ts,
 * as GET /admin/events), filtered by user, application and type. A filter
 * field left empty filters nothing.
 */
async function list(c: ConsoleContext): Promise<Response> {
  const filter = {
    sub: c.req.query("sub") ?? "",
    client_id: c.req.query("client_id") ?? "",
    type: c.req.query("type") ?? "",
  };
  let page: Awaited<ReturnType<typeof listEvents>> | undefined;
  let problem: FormProblem | undefined;
  try {
    page = await listEvents(c.env, listingQuery(c));
  } catch (error) {
    problem = formProblem(error);
    if (!problem) throw error;
  }
  return consolePage(
    c,
    {
      title: "Security events",
      section: "events",
      children: (
        <EventList
          events={page?.events ?? []}
          filter={filter}
          types={AUDIT_EVENTS}
          next={page?.next_cursor}
          problem={problem?.message}
        />
      ),
    },
    { status: problem?.status ?? 200 },
  );
}

export function eventRoutes(app: Hono<ConsoleEnv>): void {
  app.get(`${CONSOLE}/events`, list);
}
