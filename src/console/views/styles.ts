/**
 * The console's stylesheet, inline in every page (no external assets). The
 * palette is the sign-in pages' (src/browser/pages/layout.tsx), whose pairs
 * meet WCAG AA in light and dark; the console adds a success tone and a
 * solid danger button, chosen to meet it too (4.5:1 for text; 3:1 for a
 * focus ring against what is behind it, so in the dark header the ring takes
 * the header's text colour). Tables scroll inside their own box, so a phone
 * never scrolls the whole page sideways; there they keep a desktop's width
 * rather than squeeze a column to a few characters a line.
 */
export const CONSOLE_STYLES = `
:root { color-scheme: light dark; --bg: #f3f4f6; --card: #ffffff; --field: #ffffff; --text: #1b1f24;
  --muted: #5b6470; --border: #d5d9e0; --border-strong: #9aa3af; --accent: #3b5bdb; --accent-hover: #2f4ac0;
  --accent-text: #ffffff; --accent-soft: #e7ecff; --danger-bg: #fdecea; --danger-border: #f5c2bd;
  --danger: #a61b1b; --danger-solid: #b42318; --danger-solid-text: #ffffff; --ok-bg: #e6f4ea;
  --ok-border: #a8d5b5; --ok: #1e6b34; --focus: #3b5bdb; --header: #1b1f24; --header-text: #f3f4f6; }
@media (prefers-color-scheme: dark) { :root { --bg: #0f1216; --card: #1a1f26; --field: #12161b;
  --text: #e8eaed; --muted: #9aa4b2; --border: #343c47; --border-strong: #5b6675; --accent: #7b97ff;
  --accent-hover: #94abff; --accent-text: #0b0e13; --accent-soft: #25304d; --danger-bg: #3a1a1c;
  --danger-border: #6b2a2e; --danger: #ffaaa5; --danger-solid: #ff8f87; --danger-solid-text: #0b0e13;
  --ok-bg: #16301f; --ok-border: #2f5c3c; --ok: #9be3b0; --focus: #9db0ff; --header: #0b0e13;
  --header-text: #e8eaed; } }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
a { color: var(--accent); }
a:hover { color: var(--accent-hover); }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 8px; top: 8px; z-index: 10; background: var(--card); padding: 8px 12px; }
header.top { background: var(--header); color: var(--header-text); }
header.top .bar { max-width: 1100px; margin: 0 auto; padding: 10px 20px; display: flex; flex-wrap: wrap;
  align-items: center; gap: 8px 20px; }
.product { font-weight: 700; color: var(--header-text); text-decoration: none; margin-right: auto; }
.who { font-size: 14px; display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.who form { margin: 0; }
.who button { min-height: 36px; padding: 4px 12px; background: transparent; color: var(--header-text);
  border-color: var(--header-text); }
nav.sections { background: var(--card); border-bottom: 1px solid var(--border); }
nav.sections ul { list-style: none; margin: 0 auto; padding: 0 12px; max-width: 1100px; display: flex;
  flex-wrap: wrap; }
nav.sections a { display: block; padding: 12px 10px; color: var(--text); text-decoration: none;
  border-bottom: 3px solid transparent; }
nav.sections a[aria-current=page] { border-bottom-color: var(--accent); font-weight: 600; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 24px; line-height: 1.3; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 18px; margin: 0 0 12px; }
.lead { color: var(--muted); margin: 0 0 20px; overflow-wrap: anywhere; }
.panel { background: var(--card); border: 1px solid var(--border); border-radius: 12px; padding: 20px;
  margin: 0 0 20px; min-width: 0; }
.page-head { display: flex; flex-wrap: wrap; align-items: flex-start; justify-content: space-between;
  gap: 12px; margin-bottom: 16px; }
label, .label { display: block; font-weight: 600; font-size: 14px; margin: 0 0 4px; }
.field { margin: 0 0 16px; }
.hint { color: var(--muted); font-size: 13px; margin: 4px 0 0; }
.field-error { color: var(--danger); font-size: 14px; font-weight: 600; margin: 4px 0 0; }
input[type=text], input[type=password], input[type=number], input[type=search], select, textarea {
  display: block; width: 100%; max-width: 560px; min-height: 40px; padding: 8px 10px; font: inherit;
  color: var(--text); background: var(--field); border: 1px solid var(--border-strong); border-radius: 8px; }
textarea { min-height: 88px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
[aria-invalid=true] { border-color: var(--danger); border-width: 2px; }
input:focus-visible, select:focus-visible, textarea:focus-visible, button:focus-visible, a:focus-visible,
summary:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
header.top :focus-visible { outline-color: var(--header-text); }
.check { display: flex; gap: 8px; align-items: flex-start; font-weight: 400; margin: 0 0 6px; }
.check input { width: 18px; height: 18px; margin: 2px 0 0; flex: none; }
fieldset { border: 1px solid var(--border); border-radius: 10px; padding: 12px 16px 4px; margin: 0 0 16px;
  min-width: 0; }
legend { font-weight: 700; padding: 0 6px; }
button, .button { display: inline-block; font: inherit; font-weight: 600; min-height: 40px; padding: 8px 14px;
  border-radius: 8px; cursor: pointer; border: 1px solid var(--accent); background: var(--accent);
  color: var(--accent-text); text-decoration: none; }
button:hover, .button:hover { background: var(--accent-hover); border-color: var(--accent-hover);
  color: var(--accent-text); }
button.secondary, .button.secondary { background: var(--card); color: var(--text);
  border-color: var(--border-strong); }
button.secondary:hover, .button.secondary:hover { background: var(--bg); color: var(--text); }
button.danger, .button.danger { background: var(--danger-solid); border-color: var(--danger-solid);
  color: var(--danger-solid-text); }
.actions { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin-top: 8px; }
.actions form { margin: 0; }
.notice { background: var(--ok-bg); color: var(--ok); border: 1px solid var(--ok-border); border-radius: 8px;
  padding: 10px 12px; margin: 0 0 16px; font-weight: 600; }
.alert { background: var(--danger-bg); color: var(--danger); border: 1px solid var(--danger-border);
  border-radius: 8px; padding: 10px 12px; margin: 0 0 16px; }
.table-wrap { overflow-x: auto; max-width: 100%; border: 1px solid var(--border); border-radius: 10px; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: 10px 12px; border-top: 1px solid var(--border); vertical-align: top; }
thead th { border-top: 0; font-size: 13px; color: var(--muted); white-space: nowrap; }
td code, dd code { word-break: break-all; }
code, .secret { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 13px; font-weight: 600;
  border: 1px solid var(--border-strong); color: var(--text); white-space: nowrap; }
.badge.on { background: var(--ok-bg); border-color: var(--ok-border); color: var(--ok); }
.badge.off { background: var(--danger-bg); border-color: var(--danger-border); color: var(--danger); }
.badge.info { background: var(--accent-soft); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.search { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-end; margin: 0 0 16px; }
.search .field { margin: 0; flex: 1 1 200px; }
.pager { display: flex; gap: 12px; margin-top: 12px; }
.secret-box { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; }
.secret-box input { max-width: 640px; flex: 1 1 260px; font-family: ui-monospace, monospace; }
.empty { color: var(--muted); padding: 12px; margin: 0; }
@media (max-width: 640px) { main { padding: 16px 12px 40px; } .panel { padding: 14px; }
  .table-wrap table { min-width: 640px; } #keys td:first-child { min-width: 15ch; }
  dl.facts { grid-template-columns: 1fr; gap: 0 0; } dl.facts dd { margin-bottom: 8px; } }
`;
