import type { AttemptOutcome } from "./logout-deliveries";

/**
 * One back-channel logout request (OIDC Back-Channel Logout 1.0 §2.5): "The
 * OP sends an HTTP POST request to the RP's back-channel logout URI ...
 * using the application/x-www-form-urlencoded ... format", with the token
 * as `logout_token`. At most 5 seconds; a redirect is a failure, never
 * followed (the client registered this URL, not where it points to).
 *
 * Fetches go through BACKCHANNEL_LOGOUT_FETCHER when it is bound (only the
 * tests bind it: test/fixtures/logout-receiver), else to the internet.
 */

export const LOGOUT_POST_TIMEOUT_MS = 5_000;

type FetchEnv = Env & { BACKCHANNEL_LOGOUT_FETCHER?: Fetcher };

export async function postLogoutToken(
  env: Env,
  uri: string,
  logoutToken: string,
): Promise<AttemptOutcome> {
  const fetcher = (env as FetchEnv).BACKCHANNEL_LOGOUT_FETCHER ?? globalThis;
  let response: Response;
  try {
    response = await fetcher.fetch(
      new Request(uri, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ logout_token: logoutToken }).toString(),
        redirect: "manual",
        signal: AbortSignal.timeout(LOGOUT_POST_TIMEOUT_MS),
      }),
    );
  } catch (error) {
    const timedOut = error instanceof Error && error.name === "TimeoutError";
    return { error: timedOut ? "timeout" : "unreachable" };
  }
  // The body says nothing we act on (§2.8 allows an error description): not read, let go.
  await response.body?.cancel().catch(() => undefined);
  return { status: response.status };
}
