import { invalidRequest } from "./errors";

/**
 * Parameters of an x-www-form-urlencoded body or a query string, read
 * strictly: RFC 6749 §3.1 ("parameters sent without a value MUST be treated
 * as if they were omitted"; "request and response parameters MUST NOT be
 * included more than once"), UTF-8 only, malformed percent-encoding refused.
 */
/**
 * The one exception to "not more than once": RFC 8707 §2, "Multiple resource
 * parameters MAY be used to indicate that the requested token is intended to
 * be used at multiple resources." Read them with `all`.
 */
const REPEATABLE: ReadonlySet<string> = new Set(["resource"]);

export class Params {
  private constructor(
    private readonly values: ReadonlyMap<string, string>,
    private readonly repeated: ReadonlyMap<string, readonly string[]>,
  ) {}

  static parse(encoded: string): Params {
    const values = new Map<string, string>();
    const repeated = new Map<string, string[]>();
    const seen = new Set<string>();
    for (const pair of encoded.split("&")) {
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      const name = decode(eq === -1 ? pair : pair.slice(0, eq));
      const value = eq === -1 ? "" : decode(pair.slice(eq + 1));
      if (REPEATABLE.has(name)) {
        if (value === "") continue;
        repeated.set(name, [...(repeated.get(name) ?? []), value]);
        if (!values.has(name)) values.set(name, value);
        continue;
      }
      if (seen.has(name)) {
        throw invalidRequest(`The ${describe(name)} parameter is included more than once.`);
      }
      seen.add(name);
      if (value !== "") values.set(name, value);
    }
    return new Params(values, repeated);
  }

  /** The first value; for a repeatable parameter, check `all` when one value is all that is allowed. */
  get(name: string): string | undefined {
    return this.values.get(name);
  }

  /** Every value of a repeatable parameter, in request order. */
  all(name: string): readonly string[] {
    return this.repeated.get(name) ?? [];
  }

  /** A parameter the request cannot do without. */
  require(name: string): string {
    const value = this.values.get(name);
    if (value === undefined) throw invalidRequest(`The ${name} parameter is missing.`);
    return value;
  }

  has(name: string): boolean {
    return this.values.has(name);
  }
}

function decode(component: string): string {
  try {
    return decodeURIComponent(component.replace(/\+/g, " "));
  } catch {
    throw invalidRequest(
      "The request contains malformed percent-encoding or bytes that are not UTF-8.",
    );
  }
}

/** Parameter names are echoed only when they look like parameter names. */
function describe(name: string): string {
  return /^[A-Za-z_]{1,40}$/.test(name) ? name : "same";
}
