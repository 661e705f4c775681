import { PAGES, withQuery } from "../paths";
import { FormAlert } from "./controls";

/**
 * The security events: newest first, filtered by user (sub), application
 * (client_id) and type, a page at a time. Each row says when, what, whom it
 * concerned, who did it and the request id to look up in the logs.
 */

/** One event as the store shows it (src/events/store.ts, EventView). */
export interface EventRow {
  id: number;
  time: string;
  type: string;
  level: "info" | "warn";
  sub?: string;
  client_id?: string;
  family_id?: string;
  actor?: string;
  request_id: string;
}

export interface EventFilterValues {
  sub: string;
  client_id: string;
  type: string;
}

export function EventList(props: {
  events: EventRow[];
  filter: EventFilterValues;
  types: readonly string[];
  next?: string | undefined;
  problem?: string | undefined;
}) {
  const { filter } = props;
  return (
    <>
      <h1>Security events</h1>
      <p class="lead">
        Reuse detections, grace-window answers, lock-outs, failed client authentications and
        administrators' actions, newest first. An event appears a moment after the request that
        caused it.
      </p>
      <form method="get" action={PAGES.events} class="search" id="event-filter">
        <div class="field">
          <label for="sub">User (sub)</label>
          <input type="text" id="sub" name="sub" value={filter.sub} autocomplete="off" />
        </div>
        <div class="field">
          <label for="client_id">Application (client_id)</label>
          <input
            type="text"
            id="client_id"
            name="client_id"
            value={filter.client_id}
            autocomplete="off"
          />
        </div>
        <div class="field">
          <label for="type">Type</label>
          <select id="type" name="type">
            <option value="" selected={filter.type === ""}>
              Any type
            </option>
            {props.types.map((type) => (
              <option value={type} selected={type === filter.type}>
                {type}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="secondary">
          Filter
        </button>
      </form>
      <FormAlert message={props.problem} />
      <div class="table-wrap">
        <table id="events">
          <thead>
            <tr>
              <th scope="col">Time (UTC)</th>
              <th scope="col">Type</th>
              <th scope="col">User</th>
              <th scope="col">Application</th>
              <th scope="col">Actor</th>
              <th scope="col">Request id</th>
            </tr>
          </thead>
          <tbody>
            {props.events.map((event) => (
              <tr>
                <td>
                  <time datetime={event.time}>{event.time.replace("T", " ").slice(0, 19)}</time>
                </td>
                <td>
                  <span class={event.level === "warn" ? "badge off" : "badge"}>{event.type}</span>
                </td>
                <td>
                  {event.sub ? (
                    <a href={withQuery(PAGES.events, { ...filter, sub: event.sub })}>
                      <code>{event.sub}</code>
                    </a>
                  ) : (
                    "—"
                  )}
                </td>
                <td>
                  {event.client_id ? (
                    <a href={withQuery(PAGES.events, { ...filter, client_id: event.client_id })}>
                      <code>{event.client_id}</code>
                    </a>
                  ) : (
                    "—"
                  )}
                </td>
                <td>{event.actor ?? "—"}</td>
                <td>
                  <code>{event.request_id}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {props.events.length === 0 ? <p class="empty">No event matches.</p> : null}
      </div>
      {props.next ? (
        <p class="pager">
          <a
            href={withQuery(PAGES.events, { ...filter, cursor: props.next })}
            id="next-page"
            rel="next"
          >
            Older events
          </a>
        </p>
      ) : null}
    </>
  );
}
