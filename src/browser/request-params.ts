import { LIMITS } from "../config";
import { invalidRequest, OAuthError } from "../errors";
import type { AppContext } from "../http/context";
import { mediaType, readLimitedText } from "../http/form";
import { Params } from "../params";

/**
 * The parameters of a request a browser brings as a query (GET) or a form
 * (POST), as /authorize and /logout take them (OIDC Core §3.1.2.1 and
 * RP-Initiated Logout §2: "MUST support the use of the HTTP GET and POST
 * methods"), under the same size bound either way.
 */
export async function browserRequestParams(c: AppContext): Promise<Params> {
  let raw: string;
  if (c.req.method === "GET") {
    raw = new URL(c.req.url).search.slice(1);
    // A query is a GET's form: the same bound as a posted one (414 URI Too Long).
    if (raw.length > LIMITS.maxFormBytes) {
      throw new OAuthError(
        "invalid_request",
        `The request is larger than ${LIMITS.maxFormBytes} bytes.`,
        { status: 414 },
      );
    }
  } else {
    if (mediaType(c.req.raw) !== "application/x-www-form-urlencoded") {
      throw invalidRequest("The request must be a query string or a form.");
    }
    raw = await readLimitedText(c.req.raw, LIMITS.maxFormBytes);
  }
  return Params.parse(raw);
}
