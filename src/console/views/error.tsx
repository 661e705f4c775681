import { raw } from "hono/html";
import type { Administrator } from "../../administrators/model";
import { PAGES } from "../paths";
import { Shell } from "./shell";
import { CONSOLE_STYLES } from "./styles";

/**
 * The console's error page: in the shell when an administrator is signed
 * in, bare otherwise. It shows the refusal's description (already free of
 * tokens and secrets) or, for a failure of ours, only an error id to quote.
 */
export function ConsoleErrorPage(props: {
  title: string;
  description: string;
  administrator?: Administrator | undefined;
  csrfToken?: string | undefined;
}) {
  const body = (
    <section class="panel">
      <h1>{props.title}</h1>
      <p class="alert" role="alert" id="error-description">
        {props.description}
      </p>
      <p>
        <a href={PAGES.home}>Back to the console</a>
      </p>
    </section>
  );
  if (props.administrator && props.csrfToken)
    return (
      <Shell title={props.title} administrator={props.administrator} csrfToken={props.csrfToken}>
        {body}
      </Shell>
    );
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>{props.title}</title>
        <style>{raw(CONSOLE_STYLES)}</style>
      </head>
      <body>
        <main id="content">{body}</main>
      </body>
    </html>
  );
}
