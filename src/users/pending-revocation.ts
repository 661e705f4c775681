import type { RevocationReason } from "../families/model";

/**
 * What a User object still owes its families, as pure functions: a password
 * change (with REVOKE_GRANTS_ON_PASSWORD_CHANGE), a block and a deletion each
 * revoke every family registered up to the moment they were asked for. Each
 * is stored before its pass runs, so that the alarm finishes a pass that died
 * halfway; one asked for while another is still owed is merged with it, never
 * written over it: none is lost, each family is revoked for the strongest
 * reason that covers it, and a deletion, once asked for, stays asked for.
 */

/** The revocations of every grant of a user, weakest first. */
export const USER_REVOCATIONS = ["password_changed", "user_blocked", "user_deleted"] as const;
export type UserRevocation = (typeof USER_REVOCATIONS)[number] & RevocationReason;

export interface PendingRevocations {
  /** Per reason asked for, the latest time asked: it covers every family registered up to then. */
  before: Partial<Record<UserRevocation, number>>;
  /** Counts the requests, so that a finished pass clears only what it ran. */
  seq: number;
}

/** `pending` with one more request merged in. */
export function request(
  pending: PendingRevocations | undefined,
  reason: UserRevocation,
  at: number,
): PendingRevocations {
  const earlier = pending?.before[reason];
  return {
    before: { ...pending?.before, [reason]: Math.max(earlier ?? at, at) },
    seq: (pending?.seq ?? 0) + 1,
  };
}

/** The strongest reason owed to a family registered at `createdAt`; none if it came after them all. */
export function reasonFor(
  pending: PendingRevocations,
  createdAt: number,
): UserRevocation | undefined {
  return USER_REVOCATIONS.findLast((reason) => createdAt <= (pending.before[reason] ?? -1));
}

/** Whether the account is to be deleted once every family is revoked. */
export const deletes = (pending: PendingRevocations): boolean =>
  pending.before.user_deleted !== undefined;

/**
 * What is still owed once a pass that ran `ran` has finished: nothing, unless
 * another request was merged in while it ran (that request's own pass, or
 * the alarm, finishes it).
 */
export function owedAfterPass(
  stored: PendingRevocations | undefined,
  ran: PendingRevocations,
): PendingRevocations | undefined {
  return stored && stored.seq !== ran.seq ? stored : undefined;
}

/** What an earlier version stored: one request. */
interface SingleRequest {
  reason: UserRevocation;
  before: number;
  thenDelete: boolean;
}

/** What is stored, in today's shape (an earlier version's single request is read as one). */
export function readPending(
  stored: PendingRevocations | SingleRequest | undefined,
): PendingRevocations | undefined {
  if (!stored || !("thenDelete" in stored)) return stored;
  const reason = stored.thenDelete ? "user_deleted" : stored.reason;
  return { before: { [reason]: stored.before }, seq: 0 };
}
