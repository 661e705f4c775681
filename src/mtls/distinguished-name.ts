/**
 * Distinguished names as strings (RFC 4514, and the RFC 2253 form Cloudflare
 * reports), compared the way RFC 8705 §2.1 asks: "a predictable treatment of
 * DN values, such as the distinguishedNameMatch rule from [RFC4517], is
 * needed in comparing the certificate's subject DN to the client's
 * registered DN".
 *
 * distinguishedNameMatch (RFC 4517 §4.2.15): the same number of RDNs, in the
 * same order, each with the same set of attribute type and value pairs, each
 * value compared by its attribute's equality rule. What that means here:
 *
 * - Types are compared without case, and a numeric OID names the same type
 *   as its short name (2.5.4.3 is CN, "OID.2.5.4.3" too).
 * - Values are unescaped first (`\,`, `\"`, `\2C`: RFC 4514 §2.4 and §3),
 *   so every spelling of one value is one value; a `#` hex value (the BER
 *   encoding) is decoded when it is a UTF8String, PrintableString or
 *   IA5String.
 * - Then compared as caseIgnoreMatch does (RFC 4518 preparation): NFKC,
 *   case folded, leading and trailing spaces dropped and inner runs of spaces
 *   made one. Every attribute a client certificate's subject commonly holds
 *   (CN, O, OU, C, L, ST, STREET, SERIALNUMBER, DC, UID, emailAddress) is
 *   caseIgnoreMatch or caseIgnoreIA5Match, so one rule serves them all.
 * - The AVAs of a multi-valued RDN (`CN=a+UID=b`) are a set: order-free.
 * - The RDNs' order is significant, and never reversed to make a match.
 *
 * Parsing follows RFC 4514 §3, with RFC 2253 §4's leniencies for what
 * others print: spaces around `,` `+` `=`, `;` as a separator, and quoted
 * values.
 */

interface Ava {
  type: string;
  /**
   * `=` and the prepared text, or `#` and the lower-case hex of a value kept
   * as BER: the two forms never meet, so a text value that happens to start
   * with "#" (written `\#...`) never equals a hex value.
   */
  value: string;
}

/** A value kept as BER, not decoded to text (see hexValue). */
interface RawValue {
  hex: string;
}

const SHORT_NAMES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.4": "SN",
  "2.5.4.5": "SERIALNUMBER",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "STREET",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "0.9.2342.19200300.100.1.1": "UID",
  "0.9.2342.19200300.100.1.25": "DC",
  "1.2.840.113549.1.9.1": "EMAILADDRESS",
  E: "EMAILADDRESS",
};

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
const encoder = new TextEncoder();
const MAX_LENGTH = 1024;

function attributeType(raw: string): string | undefined {
  const name = raw.replace(/^oid\./i, "").toUpperCase();
  const descr = /^[A-Z][A-Z0-9-]*$/.test(name);
  const numeric = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$/.test(name);
  if (!descr && !numeric) return undefined;
  return SHORT_NAMES[name] ?? name;
}

/** RFC 4518 §2 for caseIgnoreMatch, as far as it matters for certificate subjects. */
const prepared = (value: string): string =>
  value.normalize("NFKC").toLowerCase().trim().replace(/\s+/g, " ");

/** A `#` value (RFC 4514 §2.4): the BER of a string type becomes that string; anything else stays hex. */
function hexValue(hex: string): string | RawValue | undefined {
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
  const bytes = Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
  const tag = bytes[0];
  let length = bytes[1] ?? 0;
  let offset = 2;
  // Definite lengths only (X.690 §8.1.3): short form, or long form in one or two bytes.
  if (length === 0x81 || length === 0x82) {
    const count = length - 0x80;
    length = 0;
    for (let i = 0; i < count; i++) length = (length << 8) | (bytes[offset + i] ?? 0);
    offset += count;
  } else if (length >= 0x80) {
    return { hex: hex.toLowerCase() };
  }
  const stringTag = tag === 0x0c || tag === 0x13 || tag === 0x16;
  if (stringTag && offset + length === bytes.length) {
    try {
      return strictUtf8.decode(bytes.subarray(offset));
    } catch {
      return undefined;
    }
  }
  return { hex: hex.toLowerCase() };
}

const byTypeThenValue = (a: Ava, b: Ava): number =>
  a.type === b.type ? (a.value < b.value ? -1 : 1) : a.type < b.type ? -1 : 1;

/** Parses an RFC 4514 (or RFC 2253) DN into its RDNs, or undefined if it is not one. */
function parse(text: string): Ava[][] | undefined {
  if (text.length === 0 || text.length > MAX_LENGTH) return undefined;
  let i = 0;
  const spaces = () => {
    while (text[i] === " ") i++;
  };
  const rdns: Ava[][] = [];
  for (;;) {
    const rdn: Ava[] = [];
    for (;;) {
      spaces();
      const typeStart = i;
      while (i < text.length && /[A-Za-z0-9.-]/.test(text[i] as string)) i++;
      const type = attributeType(text.slice(typeStart, i));
      spaces();
      if (!type || text[i] !== "=") return undefined;
      i++;
      spaces();
      const value = attributeValue();
      if (value === undefined) return undefined;
      rdn.push({
        type,
        value: typeof value === "string" ? `=${prepared(value)}` : `#${value.hex}`,
      });
      spaces();
      if (text[i] !== "+") break;
      i++;
    }
    rdns.push(rdn.sort(byTypeThenValue));
    if (i === text.length) return rdns;
    if (text[i] !== "," && text[i] !== ";") return undefined;
    i++;
  }

  function attributeValue(): string | RawValue | undefined {
    if (text[i] === "#") {
      const start = ++i;
      while (i < text.length && /[0-9a-fA-F]/.test(text[i] as string)) i++;
      return hexValue(text.slice(start, i));
    }
    if (text[i] === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) return undefined;
      const quoted = text.slice(i + 1, end);
      i = end + 1;
      return quoted.includes("\\") ? undefined : quoted;
    }
    // Bytes, since `\C3\A9` is one character; unescaped trailing spaces are not part of the value.
    const bytes: number[] = [];
    let significant = 0;
    while (i < text.length && !",+;".includes(text[i] as string)) {
      const c = text[i] as string;
      if (c === "\\") {
        const next = text.slice(i + 1, i + 3);
        if (/^[0-9a-fA-F]{2}$/.test(next)) {
          bytes.push(Number.parseInt(next, 16));
          i += 3;
        } else if (next.length > 0 && ' "#+,;<=>\\'.includes(next[0] as string)) {
          bytes.push(...encoder.encode(next[0]));
          i += 2;
        } else {
          return undefined;
        }
        significant = bytes.length;
        continue;
      }
      // RFC 4514 §3: these are never part of a value unescaped (NUL neither).
      if (c === '"' || c === "<" || c === ">" || c === "\0") return undefined;
      bytes.push(...encoder.encode(c));
      if (c !== " ") significant = bytes.length;
      i++;
    }
    try {
      return strictUtf8.decode(Uint8Array.from(bytes.slice(0, significant)));
    } catch {
      return undefined;
    }
  }
}

/**
 * The DN in a canonical form (two DNs match exactly when their forms are
 * equal), or undefined when the text is not a DN. Used to check a
 * registration, and by the comparison below.
 */
export function canonicalDistinguishedName(text: string): string | undefined {
  const rdns = parse(text);
  return rdns && JSON.stringify(rdns.map((rdn) => rdn.map((ava) => [ava.type, ava.value])));
}

/** RFC 8705 §2.1: does the certificate's subject DN match the registered one? */
export function sameDistinguishedName(registered: string, presented: string): boolean {
  const a = canonicalDistinguishedName(registered);
  return a !== undefined && a === canonicalDistinguishedName(presented);
}
