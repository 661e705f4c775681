import { TokenFamily as ProductionTokenFamily } from "../../src/index";

/**
 * The production TokenFamily, plus one read-only method for the benchmark.
 * Exported under the same name, so wrangler.toml's TOKEN_FAMILY binding
 * (class_name "TokenFamily") serves this class in the bench worker; every
 * state transition is the production class's own.
 */
export class TokenFamily extends ProductionTokenFamily {
  /**
   * What this family keeps on disk, to show that it does not grow with the
   * length of the refresh chain (only the newest two tokens are stored).
   * `stateBytes` is the JSON size of every stored value.
   */
  storageBytes(): { databaseBytes: number; stateBytes: number; keys: number } {
    const storage = this.ctx.storage;
    let stateBytes = 0;
    let keys = 0;
    for (const [, value] of storage.kv.list()) {
      stateBytes += JSON.stringify(value ?? null).length;
      keys++;
    }
    return { databaseBytes: storage.sql.databaseSize, stateBytes, keys };
  }
}
