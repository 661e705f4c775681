import { logError } from "../log";
import { clientDirectory } from "./directory";
import type { ClientRecord } from "./model";

/**
 * Tells the client directory that a self-registered client obtained a token,
 * so that it never expires as unused (./expiry.ts). The TokenFamily objects
 * say so for every grant that holds refresh tokens (their live-grant notes);
 * this covers the rest, client_credentials (which makes no family) and code
 * redemptions without a refresh token: the token endpoint calls it for each
 * token it issues.
 *
 * Off the hot path: the note is sent after the answer (`waitUntil`), and
 * only the first time per isolate for each client (a bounded set of those
 * noted), so a busy client costs one RPC per isolate, not one per token.
 * A failed send is logged and tried again with the client's next token. An
 * administrator's client never expires, and is never noted.
 */

const noted = new Set<string>();
/** Enough for every self-registered client an isolate serves; past it the set starts again. */
const MAX_NOTED = 10_000;

export function noteClientUse(
  env: Env,
  client: ClientRecord,
  waitUntil: (promise: Promise<unknown>) => void,
): void {
  const via = client.registration?.via;
  if ((via !== "open" && via !== "token") || noted.has(client.client_id)) return;
  waitUntil(
    clientDirectory(env)
      .noteUse(client.client_id)
      .then(() => {
        if (noted.size >= MAX_NOTED) noted.clear();
        noted.add(client.client_id);
      })
      .catch((error: unknown) =>
        logError("client_use_not_noted", error, { clientId: client.client_id }),
      ),
  );
}
