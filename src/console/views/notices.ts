/**
 * What a change did, in one line, keyed by the `done` value of the 303 that
 * follows it (`?done=blocked`). An unknown key shows nothing: the query is
 * the operator's to edit, and no text of it is ever echoed.
 */
export const NOTICES: Record<string, string> = {
  "application-created": "The application was created.",
  "application-updated": "The application's settings were saved.",
  "application-deleted": "The application was deleted; its grants no longer work.",
  "user-created": "The user was created.",
  "user-updated": "The user's profile was saved.",
  "password-set": "The password was set.",
  "password-set-grants-revoked": "The password was set, and the user's grants were revoked.",
  blocked: "The user was blocked: sign-in is refused and every grant was revoked.",
  unblocked: "The user was unblocked: they can sign in again.",
  "user-deleted": "The user was deleted, and their grants revoked.",
  "grant-revoked": "The grant was revoked: its refresh and access tokens no longer work.",
  "grants-revoked": "Every grant of the user was revoked.",
  "keys-rotated":
    "A new signing key signs access tokens now; the old one stays published while its tokens live.",
  "key-revoked": "The key was revoked: it is out of the JWKS, and tokens it signed are refused.",
};

export const noticeFor = (done: string | undefined): string | undefined =>
  done === undefined ? undefined : NOTICES[done];
