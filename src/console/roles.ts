import { mayChange } from "../administrators/model";
import { OAuthError } from "../errors";
import type { ConsoleContext } from "./context";

/**
 * Whether to show the forms and buttons that change something. A courtesy
 * only: consoleAuth refuses every POST of a viewer, whatever a page shows.
 */
export const canChange = (c: ConsoleContext): boolean => mayChange(c.get("administrator"));

/** The pages that exist only to change something (a new-item form, a confirmation) tell a viewer so. */
export function requireChange(c: ConsoleContext): void {
  if (!canChange(c))
    throw new OAuthError(
      "access_denied",
      "Your role is viewer: you may look at everything here, and change nothing.",
      { status: 403 },
    );
}
