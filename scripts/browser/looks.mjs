/**
 * What a page must satisfy, measured in the live page: WCAG text contrast,
 * no horizontal scrolling, the login cards' layout, and an accessible name on
 * every control (as Chromium's accessibility tree computes it).
 */
import assert from "node:assert/strict";
import { check, MIN_CONTRAST } from "./harness.mjs";

/**
 * Reads layout and colours from the live page. Contrast follows WCAG 2.x
 * (relative luminance of sRGB): the text colour against the first opaque
 * background behind it.
 */
export function measurePage(minContrast) {
  const parse = (css) => {
    const m = css.match(/rgba?\(([^)]+)\)/);
    if (!m) return undefined;
    const [r, g, b, a = 1] = m[1]
      .split(/[\s,/]+/)
      .filter(Boolean)
      .map(Number);
    return { r, g, b, a };
  };
  const luminance = ({ r, g, b }) => {
    const lin = (c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a >= 0.99) return c;
    }
    return (
      parse(getComputedStyle(document.documentElement).backgroundColor) ?? {
        r: 255,
        g: 255,
        b: 255,
      }
    );
  };
  const contrast = (el) => {
    const fg = parse(getComputedStyle(el).color);
    const bg = background(el);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const describe = (el) =>
    `<${el.tagName.toLowerCase()}${el.className ? `.${el.className}` : ""}> "${(el.textContent ?? "").trim().slice(0, 40)}"`;

  // Every element that renders its own text (a non-empty text node child) or is a control.
  const textElements = [...document.body.querySelectorAll("*")].filter((el) => {
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden") return false;
    if (el.matches("input:not([type=hidden]), button")) return true;
    return [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  });
  const lowContrast = textElements
    .map((el) => ({ el: describe(el), ratio: contrast(el) }))
    .filter((x) => x.ratio < minContrast)
    .map((x) => `${x.el} ${x.ratio.toFixed(2)}:1`);

  const main = document.querySelector("main")?.getBoundingClientRect();
  const primary = document.querySelector("button[type=submit]:not(.secondary):not(.link)");
  const box = primary?.getBoundingClientRect();
  return {
    viewport: { width: window.innerWidth, height: window.innerHeight },
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    card: main && { left: main.left, right: window.innerWidth - main.right, width: main.width },
    primary: primary && {
      text: primary.textContent.trim(),
      box: { left: box.left, top: box.top, right: box.right, bottom: box.bottom },
      contrast: contrast(primary),
    },
    lowContrast,
    fontSize: Number.parseFloat(getComputedStyle(document.body).fontSize),
  };
}

/** The visual sanity checks every page of the flow must pass. */
export async function checkLooks(page, label) {
  const m = await page.evaluate(measurePage, MIN_CONTRAST);
  await check(`${label}: the primary button is visible and inside the viewport`, async () => {
    assert.ok(m.primary, "there is a primary (submit) button");
    assert.ok(await page.locator("button[type=submit]:not(.secondary):not(.link)").isVisible());
    const { box } = m.primary;
    assert.ok(
      box.left >= 0 &&
        box.top >= 0 &&
        box.right <= m.viewport.width &&
        box.bottom <= m.viewport.height,
      `button box ${JSON.stringify(box)} outside viewport ${JSON.stringify(m.viewport)}`,
    );
  });
  await check(`${label}: the card is centred horizontally`, () => {
    assert.ok(m.card, "there is a <main> card");
    assert.ok(
      Math.abs(m.card.left - m.card.right) <= 2,
      `left margin ${m.card.left}px, right margin ${m.card.right}px`,
    );
  });
  await check(`${label}: no horizontal scrolling`, () => {
    assert.ok(m.scrollWidth <= m.clientWidth, `scrollWidth ${m.scrollWidth} > ${m.clientWidth}`);
  });
  await check(`${label}: the primary button's text contrast is at least ${MIN_CONTRAST}:1`, () => {
    assert.ok(
      m.primary.contrast >= MIN_CONTRAST,
      `"${m.primary.text}" has ${m.primary.contrast.toFixed(2)}:1`,
    );
  });
  await check(`${label}: all text has a contrast of at least ${MIN_CONTRAST}:1`, () => {
    assert.deepEqual(m.lowContrast, []);
  });
}

/** The roles of controls (and links) that must have an accessible name (WCAG 4.1.2, 2.4.4). */
const NAMED_ROLES = new Set([
  "button",
  "checkbox",
  "combobox",
  "link",
  "listbox",
  "radio",
  "searchbox",
  "slider",
  "spinbutton",
  "switch",
  "textbox",
]);

/**
 * The page's controls without an accessible name, read from Chromium's own
 * accessibility tree (the name a screen reader announces: a <label>,
 * aria-label, a button's text), each as "role #id".
 */
export async function unnamedControls(page) {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send("Accessibility.enable");
    const { nodes } = await cdp.send("Accessibility.getFullAXTree");
    const unnamed = nodes.filter(
      (n) => !n.ignored && NAMED_ROLES.has(n.role?.value) && !String(n.name?.value ?? "").trim(),
    );
    const described = [];
    for (const node of unnamed) {
      let id = "";
      if (node.backendDOMNodeId) {
        const { node: dom } = await cdp.send("DOM.describeNode", {
          backendNodeId: node.backendDOMNodeId,
        });
        const attrs = dom.attributes ?? [];
        const at = attrs.indexOf("id");
        id = `<${dom.localName}${at >= 0 ? ` id=${attrs[at + 1]}` : ""}>`;
      }
      described.push(`${node.role.value} ${id}`);
    }
    return {
      controls: nodes.filter((n) => !n.ignored && NAMED_ROLES.has(n.role?.value)).length,
      unnamed: described,
    };
  } finally {
    await cdp.detach();
  }
}

/**
 * The checks every console page must pass where it is visited: every control
 * named, all text at least 4.5:1, no horizontal scrolling here and on a
 * 390 px phone (the page is measured again at that width, then put back).
 */
export async function checkConsolePage(page, label) {
  const names = await unnamedControls(page);
  await check(`${label}: every control has an accessible name (${names.controls} controls)`, () => {
    assert.deepEqual(names.unnamed, []);
  });
  const m = await page.evaluate(measurePage, MIN_CONTRAST);
  await check(`${label}: all text has a contrast of at least ${MIN_CONTRAST}:1`, () => {
    assert.deepEqual(m.lowContrast, []);
  });
  await check(`${label}: no horizontal scrolling at ${m.viewport.width} px`, () => {
    assert.ok(m.scrollWidth <= m.clientWidth, `scrollWidth ${m.scrollWidth} > ${m.clientWidth}`);
  });
  const size = page.viewportSize();
  if (size && size.width > PHONE_WIDTH) {
    await page.setViewportSize({ width: PHONE_WIDTH, height: 844 });
    const phone = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
    }));
    await page.setViewportSize(size);
    await check(`${label}: no horizontal scrolling on a ${PHONE_WIDTH} px phone`, () => {
      assert.ok(
        phone.scrollWidth <= phone.clientWidth,
        `scrollWidth ${phone.scrollWidth} > ${phone.clientWidth}`,
      );
    });
  }
}

const PHONE_WIDTH = 390;
