import type { Child } from "hono/jsx";
import type { ConsoleContext } from "../context";
import { renderConsole } from "../render";
import { noticeFor } from "./notices";
import { type Section, Shell } from "./shell";

/** Renders a page in the console's shell, for the signed-in administrator, with the last action's notice. */
export function consolePage(
  c: ConsoleContext,
  props: { title: string; section?: Section; children: Child },
  options: { status?: number; scriptHashes?: readonly string[] } = {},
): Response {
  return renderConsole(
    c,
    <Shell
      title={props.title}
      {...(props.section ? { section: props.section } : {})}
      administrator={c.get("administrator")}
      csrfToken={c.get("csrfToken")}
      notice={noticeFor(c.req.query("done"))}
    >
      {props.children}
    </Shell>,
    options.status,
    options.scriptHashes,
  );
}
