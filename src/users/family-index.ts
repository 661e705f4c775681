/**
 * The index of a user's grants (token families), in the user's Durable
 * Object: what "revoke everything for this user", a block, a logout and the
 * grants lists reach, without a KV list.
 */

export interface FamilyEntry {
  clientId: string;
  /** Milliseconds. */
  createdAt: number;
  /**
   * The login session the grant was made in, when it belongs to it (OIDC
   * Core §11: made without offline_access, under the client's policy): the
   * grant ends when that session ends (README, "Sessions and logout").
   */
  sid?: string;
}

const PREFIX = "family:";
const key = (familyId: string) => `${PREFIX}${familyId}`;

export class FamilyIndex {
  constructor(private readonly kv: SyncKvStorage) {}

  add(familyId: string, entry: FamilyEntry): void {
    this.kv.put<FamilyEntry>(key(familyId), entry);
  }

  get(familyId: string): FamilyEntry | undefined {
    return this.kv.get<FamilyEntry>(key(familyId));
  }

  forget(familyId: string): void {
    this.kv.delete(key(familyId));
  }

  ids(): string[] {
    return [...this.kv.list({ prefix: PREFIX })].map(([k]) => k.slice(PREFIX.length));
  }

  /** The grants that end with session `sid`. */
  ofSession(sid: string): string[] {
    return [...this.kv.list<FamilyEntry>({ prefix: PREFIX })]
      .filter(([, entry]) => entry.sid === sid)
      .map(([k]) => k.slice(PREFIX.length));
  }

  /** The grants of client `clientId` (the account page's "Remove access"). */
  ofClient(clientId: string): string[] {
    return [...this.kv.list<FamilyEntry>({ prefix: PREFIX })]
      .filter(([, entry]) => entry.clientId === clientId)
      .map(([k]) => k.slice(PREFIX.length));
  }
}
