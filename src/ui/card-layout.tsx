import { raw } from "hono/html";
import type { Child } from "hono/jsx";

/**
 * The shell of every page: no scripts, no external assets, readable without
 * CSS, and a calm, product-like look with it. Text meets 4.5:1 and the focus
 * ring 3:1 against the card (WCAG 1.4.3, 1.4.11), in light and dark.
 */
const styles = `
:root { color-scheme: light dark; --bg: #f3f4f6; --card: #ffffff; --field: #ffffff; --text: #1b1f24;
  --muted: #5b6470; --border: #d5d9e0; --border-strong: #9aa3af; --accent: #3b5bdb; --accent-hover: #2f4ac0;
  --accent-text: #ffffff; --accent-soft: #e7ecff; --danger-bg: #fdecea; --danger-border: #f5c2bd;
  --danger: #a61b1b; --focus: #3b5bdb; --shadow: 0 1px 2px rgba(16,24,40,.05), 0 12px 32px rgba(16,24,40,.08); }
@media (prefers-color-scheme: dark) { :root { --bg: #0f1216; --card: #1a1f26; --field: #12161b;
  --text: #e8eaed; --muted: #9aa4b2; --border: #343c47; --border-strong: #5b6675; --accent: #7b97ff;
  --accent-hover: #94abff; --accent-text: #0b0e13; --accent-soft: #25304d; --danger-bg: #3a1a1c;
  --danger-border: #6b2a2e; --danger: #ffaaa5; --focus: #9db0ff;
  --shadow: 0 1px 2px rgba(0,0,0,.3), 0 12px 32px rgba(0,0,0,.35); } }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; min-height: 100vh; min-height: 100dvh; display: flex; align-items: center;
  justify-content: center; padding: 24px; background: var(--bg); color: var(--text);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  -webkit-font-smoothing: antialiased; }
main { width: 100%; max-width: 420px; background: var(--card); border: 1px solid var(--border);
  border-radius: 14px; padding: 32px; box-shadow: var(--shadow); }
.brand { display: flex; align-items: center; gap: 10px; color: var(--muted); font-size: 14px;
  font-weight: 500; margin-bottom: 28px; }
.mark { width: 28px; height: 28px; border-radius: 8px; background: var(--accent); color: var(--accent-text);
  display: grid; place-items: center; font-weight: 700; font-size: 13px; letter-spacing: .02em; }
h1 { font-size: 22px; line-height: 1.3; letter-spacing: -.01em; margin: 0 0 6px; overflow-wrap: anywhere; }
.lead { color: var(--muted); margin: 0 0 24px; overflow-wrap: anywhere; }
.lead strong { color: var(--text); font-weight: 600; }
label { display: block; font-weight: 600; font-size: 14px; margin: 16px 0 6px; }
input[type=text], input[type=password] { display: block; width: 100%; min-height: 44px; padding: 10px 12px;
  font: inherit; color: var(--text); background: var(--field); border: 1px solid var(--border);
  border-radius: 8px; }
input[type=text]:hover, input[type=password]:hover { border-color: var(--border-strong); }
input[aria-invalid=true] { border-color: var(--danger); }
input:focus-visible, button:focus-visible { outline: 3px solid var(--focus); outline-offset: 1px; }
input:focus { border-color: var(--accent); }
button { font: inherit; font-weight: 600; min-height: 44px; padding: 10px 16px; border-radius: 8px;
  cursor: pointer; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-text); }
button:hover { background: var(--accent-hover); border-color: var(--accent-hover); }
button.secondary { background: var(--card); color: var(--text); border-color: var(--border); }
button.secondary:hover { background: var(--bg); border-color: var(--border-strong); }
button.link { min-height: 0; padding: 0; border: 0; background: none; color: var(--accent); font-weight: 600;
  text-decoration: underline; }
button.link:hover { background: none; color: var(--accent-hover); }
.actions { display: flex; gap: 12px; margin-top: 24px; }
.actions button { flex: 1; }
.alert { background: var(--danger-bg); color: var(--danger); border: 1px solid var(--danger-border);
  border-radius: 8px; padding: 10px 12px; margin: 0 0 8px; font-size: 14px; }
.list-title { font-size: 14px; font-weight: 600; margin: 0 0 8px; overflow-wrap: anywhere; }
ul.scopes { list-style: none; padding: 0; margin: 0; border: 1px solid var(--border); border-radius: 10px; }
ul.scopes li { position: relative; padding: 12px 14px 12px 48px; border-top: 1px solid var(--border); }
ul.scopes li:first-child { border-top: 0; }
ul.scopes li::before { content: ""; position: absolute; left: 14px; top: 14px; width: 22px; height: 22px;
  border-radius: 50%; background: var(--accent-soft); }
ul.scopes li::after { content: ""; position: absolute; left: 22px; top: 19px; width: 5px; height: 9px;
  border: solid var(--accent); border-width: 0 2px 2px 0; transform: rotate(45deg); }
ul.scopes strong { display: block; font-size: 15px; font-weight: 600; }
ul.scopes span { display: block; color: var(--muted); font-size: 14px; line-height: 1.4; margin-top: 2px; }
.fine { color: var(--muted); font-size: 13px; margin: 20px 0 0; }
pre { margin: 0; padding: 12px; background: var(--bg); border: 1px solid var(--border); border-radius: 8px;
  white-space: pre-wrap; overflow-wrap: anywhere; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; word-break: break-all; }
.notice { background: var(--accent-soft); color: var(--text); border: 1px solid var(--border);
  border-radius: 8px; padding: 10px 12px; margin: 0 0 16px; font-size: 14px; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
/* The wide card (the account page): sections of rows, each row its facts and its button. */
main.wide { max-width: 760px; align-self: flex-start; }
h2 { font-size: 17px; line-height: 1.3; margin: 32px 0 4px; }
section > p.fine:first-of-type { margin-top: 0; }
ul.rows { list-style: none; padding: 0; margin: 12px 0 0; border: 1px solid var(--border); border-radius: 10px; }
ul.rows > li { display: flex; flex-wrap: wrap; gap: 12px 16px; align-items: flex-start;
  justify-content: space-between; padding: 14px; border-top: 1px solid var(--border); }
ul.rows > li:first-child { border-top: 0; }
.row-main { flex: 1 1 320px; min-width: 0; }
.row-title { font-weight: 600; margin: 0; overflow-wrap: anywhere; }
.row-sub { color: var(--muted); font-size: 14px; margin: 2px 0 0; overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0 0;
  font-size: 14px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.tag { display: inline-block; font-size: 12px; font-weight: 600; padding: 1px 8px; margin-left: 6px;
  border-radius: 999px; background: var(--accent-soft); color: var(--text); vertical-align: 1px; }
.row-actions button, .section-actions button { min-height: 40px; padding: 8px 14px; font-size: 14px; }
.section-actions { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 12px; }
form.narrow { max-width: 420px; }
.empty { color: var(--muted); margin: 12px 0 0; }
/* A phone: the page is the card, from the top, without a frame around it. */
@media (max-width: 480px) { body { align-items: flex-start; padding: 0; background: var(--card); }
  main { max-width: none; border: 0; border-radius: 0; box-shadow: none; padding: 28px 20px; }
  main.wide { max-width: none; }
  dl.facts { grid-template-columns: 1fr; } dl.facts dd { margin-bottom: 4px; } }
`;

/** `wide`: a wider card, for a page of lists (the account page). */
export function Layout(props: { title: string; wide?: boolean; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>{props.title}</title>
        <style>{raw(styles)}</style>
      </head>
      <body>
        <main class={props.wide ? "wide" : undefined}>
          <div class="brand">
            <span class="mark" aria-hidden="true">
              ET
            </span>
            <span>Edge Token Service</span>
          </div>
          {props.children}
        </main>
      </body>
    </html>
  );
}
