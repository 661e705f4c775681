import { expect } from "vitest";
import type { EventView } from "../../src/events/store";
import { adminCall, json } from "./http";

/** Reading the security-event store through the admin API, as an operator would. */

export interface EventListPage {
  events: EventView[];
  next_cursor?: string;
}

/** GET /admin/events with these parameters; must answer 200. */
export async function listEvents(params: Record<string, string>): Promise<EventListPage> {
  const res = await adminCall("GET", `/admin/events?${new URLSearchParams(params)}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return json<EventListPage>(res);
}

/**
 * The events matching `params` once at least `count` are there. The store is
 * written off the requests' path (after they are answered), so a test asks
 * again for a while rather than expecting them at once.
 */
export async function eventsOnceStored(
  params: Record<string, string>,
  count = 1,
  timeoutMs = 5_000,
): Promise<EventView[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { events } = await listEvents({ limit: "100", ...params });
    if (events.length >= count || Date.now() > deadline) return events;
    await new Promise((r) => setTimeout(r, 25));
  }
}
