import { invalidRequest, OAuthError } from "../errors";
import { mediaType } from "../http/form";
import type { ConsoleContext } from "./context";

/**
 * The longest form the console takes: an application's form may carry a JWK
 * Set with certificates, larger than a token request's form.
 */
export const MAX_CONSOLE_FORM_BYTES = 64 * 1024;

/**
 * A posted console form, as URLSearchParams (checkboxes repeat a name).
 * Read through Hono's request, which keeps the body once read, so the
 * sign-in layer's CSRF check and the handler can both read it.
 */
export async function readConsoleForm(c: ConsoleContext): Promise<URLSearchParams> {
  if (mediaType(c.req.raw) !== "application/x-www-form-urlencoded")
    throw invalidRequest("A console form must be sent as application/x-www-form-urlencoded.");
  const declared = Number(c.req.header("content-length") ?? 0);
  if (declared > MAX_CONSOLE_FORM_BYTES) throw tooLarge();
  const text = await c.req.text();
  if (text.length > MAX_CONSOLE_FORM_BYTES) throw tooLarge();
  return new URLSearchParams(text);
}

const tooLarge = () =>
  new OAuthError("invalid_request", `The form is larger than ${MAX_CONSOLE_FORM_BYTES} bytes.`, {
    status: 413,
  });

/** Viewers may look, not change: the pages that exist only to change something say so. */
export function requireChange(c: ConsoleContext): void {
  if (c.get("administrator").role !== "admin")
    throw new OAuthError("access_denied", "Your role may look at the console, not change it.", {
      status: 403,
    });
}
