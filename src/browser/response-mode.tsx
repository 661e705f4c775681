import type { ResponseMode } from "../errors";
import type { AppContext } from "../http/context";
import { sha256 } from "../lib/bytes";
import { PAGE_HEADERS } from "../ui/render";
import { redirectWith } from "./authorization-request";

/**
 * How the authorization response reaches the client: in the redirect's query
 * (RFC 6749 §4.1.2), or, with response_mode=form_post, as an HTML form the
 * browser posts to the redirect URI (OAuth 2.0 Form Post Response Mode §2:
 * "the Authorization Response parameters are encoded as HTML form values
 * that are auto-submitted in the User Agent, and thus are transmitted via
 * the HTTP POST method to the Client, with the result parameters being
 * encoded in the body using the application/x-www-form-urlencoded format").
 * Either way the response carries `iss` (RFC 9207 §2).
 */

export interface ResponseTarget {
  redirectUri: string;
  responseMode?: ResponseMode | undefined;
}

/** The one script of the form_post page; allowed by its hash, nothing else may run. */
const AUTO_SUBMIT = "document.forms[0].submit();";
let autoSubmitHash: Promise<string> | undefined;
const scriptHash = () => {
  autoSubmitHash ??= sha256(AUTO_SUBMIT).then((d) => btoa(String.fromCharCode(...d)));
  return autoSubmitHash;
};

export async function answerClient(
  c: AppContext,
  target: ResponseTarget,
  values: Record<string, string | undefined>,
): Promise<Response> {
  const issuer = c.get("config").issuer;
  if (target.responseMode !== "form_post")
    return c.redirect(
      redirectWith(target.redirectUri, issuer, values),
      c.req.method === "GET" ? 302 : 303,
    );
  const fields = Object.entries({ ...values, iss: issuer }).filter(
    (entry): entry is [string, string] => entry[1] !== undefined,
  );
  for (const [name, value] of Object.entries(PAGE_HEADERS)) c.header(name, value);
  // The page may post only to the redirect URI's origin and run only its own script.
  c.header(
    "Content-Security-Policy",
    `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${await scriptHash()}'; form-action ${new URL(target.redirectUri).origin}; frame-ancestors 'none'; base-uri 'none'`,
  );
  const page = (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>Returning to the application</title>
      </head>
      <body>
        <form method="post" action={target.redirectUri}>
          {fields.map(([name, value]) => (
            <input type="hidden" name={name} value={value} />
          ))}
          <noscript>
            <p>JavaScript is off: continue to the application yourself.</p>
            <button type="submit">Continue</button>
          </noscript>
        </form>
        <script>{AUTO_SUBMIT}</script>
      </body>
    </html>
  );
  return c.html(`<!doctype html>${page}`);
}
