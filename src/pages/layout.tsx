import { raw } from "hono/html";
import type { Child } from "hono/jsx";

/**
 * The shell of every page: no scripts, no external assets, readable without
 * CSS, and a calm, product-like look with it.
 */
const styles = `
:root { color-scheme: light dark; --bg: #f4f5f7; --card: #ffffff; --text: #1b1f24; --muted: #5b6470;
  --border: #d8dce2; --accent: #3b5bdb; --accent-text: #ffffff; --danger-bg: #fdecea; --danger: #a61b1b;
  --focus: #91a7ff; }
@media (prefers-color-scheme: dark) { :root { --bg: #111418; --card: #1b2027; --text: #e8eaed; --muted: #9aa4b2;
  --border: #323a45; --accent: #6c8cff; --accent-text: #0b0e13; --danger-bg: #3a1a1a; --danger: #ff9b9b; } }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center; padding: 24px;
  background: var(--bg); color: var(--text);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { width: 100%; max-width: 400px; background: var(--card); border: 1px solid var(--border); border-radius: 12px;
  padding: 32px; box-shadow: 0 1px 2px rgba(0,0,0,.04), 0 8px 24px rgba(0,0,0,.06); }
.brand { display: flex; align-items: center; gap: 10px; color: var(--muted); font-size: 14px; margin-bottom: 24px; }
.mark { width: 28px; height: 28px; border-radius: 8px; background: var(--accent); color: var(--accent-text);
  display: grid; place-items: center; font-weight: 700; font-size: 14px; }
h1 { font-size: 22px; line-height: 1.3; margin: 0 0 6px; }
.lead { color: var(--muted); margin: 0 0 24px; }
label { display: block; font-weight: 600; font-size: 14px; margin: 16px 0 6px; }
input[type=text], input[type=password] { width: 100%; padding: 10px 12px; font: inherit; color: var(--text);
  background: transparent; border: 1px solid var(--border); border-radius: 8px; }
input:focus, button:focus { outline: 3px solid var(--focus); outline-offset: 1px; }
button { font: inherit; font-weight: 600; padding: 10px 16px; border-radius: 8px; cursor: pointer;
  border: 1px solid var(--accent); background: var(--accent); color: var(--accent-text); }
button.secondary { background: transparent; color: var(--text); border-color: var(--border); }
.actions { display: flex; gap: 12px; margin-top: 24px; }
.actions button { flex: 1; }
.alert { background: var(--danger-bg); color: var(--danger); border-radius: 8px; padding: 10px 12px; margin: 0 0 16px;
  font-size: 14px; }
ul.scopes { list-style: none; padding: 0; margin: 0; border: 1px solid var(--border); border-radius: 8px; }
ul.scopes li { padding: 12px 14px; border-top: 1px solid var(--border); }
ul.scopes li:first-child { border-top: 0; }
ul.scopes strong { display: block; font-size: 15px; }
ul.scopes span { color: var(--muted); font-size: 14px; }
.fine { color: var(--muted); font-size: 13px; margin: 20px 0 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; word-break: break-all; }
`;

export function Layout(props: { title: string; children: Child }) {
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
        <main>
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
