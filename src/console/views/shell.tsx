import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import type { Administrator } from "../../administrators/model";
import { PAGES } from "../paths";
import { CsrfField } from "./controls";
import { CONSOLE_STYLES } from "./styles";

/** The sections of the console, in the order the navigation shows them. */
export const SECTIONS = {
  applications: { label: "Applications", href: PAGES.applications },
  users: { label: "Users", href: PAGES.users },
  keys: { label: "Signing keys", href: PAGES.keys },
  events: { label: "Security events", href: PAGES.events },
  administrators: { label: "Administrators", href: PAGES.administrators },
} as const;
export type Section = keyof typeof SECTIONS;

export interface ShellProps {
  title: string;
  section?: Section;
  administrator: Administrator;
  csrfToken: string;
  /** The one-line notice of what the last action did (after its 303 redirect). */
  notice?: string | undefined;
  children: Child;
}

/**
 * Every console page: the product name, the sections, who is signed in (and
 * in which role), a sign-out button (a POST form: signing out changes
 * state), then the page. No scripts, no external assets.
 */
export function Shell(props: ShellProps) {
  const { administrator } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>{`${props.title} · Edge Token Service console`}</title>
        <style>{raw(CONSOLE_STYLES)}</style>
      </head>
      <body>
        <a class="skip" href="#content">
          Skip to content
        </a>
        <header class="top">
          <div class="bar">
            <a class="product" href={PAGES.home}>
              Edge Token Service · Console
            </a>
            <div class="who">
              <span id="signed-in-as">
                {administrator.username} ({administrator.role})
              </span>
              <form method="post" action={PAGES.signOut}>
                <CsrfField token={props.csrfToken} />
                <button type="submit" id="sign-out">
                  Sign out
                </button>
              </form>
            </div>
          </div>
        </header>
        <nav class="sections" aria-label="Console sections">
          <ul>
            {Object.entries(SECTIONS).map(([key, section]) => (
              <li>
                <a
                  href={section.href}
                  aria-current={props.section === key ? "page" : undefined}
                  id={`nav-${key}`}
                >
                  {section.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="content">
          {props.notice ? (
            <p class="notice" role="status" id="notice">
              {props.notice}
            </p>
          ) : null}
          {props.children}
        </main>
      </body>
    </html>
  );
}
