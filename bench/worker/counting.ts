/**
 * Counts what one kind of request costs in platform calls (Durable Object
 * RPCs, KV reads and writes) by wrapping the bindings the Worker sees: the
 * bench worker (index.ts) hands the app a counting env for requests that
 * carry `x-bench-count: <kind>`. Calls made inside Durable Objects (for
 * example a revocation published to KV) go through their own env and are not
 * seen here; the benchmark checks those from outside (the KV key counts).
 */

export interface Tally {
  requests: number;
  doCalls: number;
  kvReads: number;
  kvWrites: number;
  /** Calls by binding and method, e.g. "TOKEN_FAMILY.refresh". */
  calls: Record<string, number>;
}

const tallies = new Map<string, Tally>();

export function tallyFor(op: string): Tally {
  let tally = tallies.get(op);
  if (!tally) {
    tally = { requests: 0, doCalls: 0, kvReads: 0, kvWrites: 0, calls: {} };
    tallies.set(op, tally);
  }
  return tally;
}

export const allTallies = (): Record<string, Tally> => Object.fromEntries(tallies);
export const resetTallies = (): void => tallies.clear();

const KV_WRITES = new Set(["put", "delete"]);
const KV_READS = new Set(["get", "getWithMetadata", "list"]);
/** Properties of a stub that are not RPC calls. */
const STUB_FIELDS = new Set(["id", "name", "then"]);

const isNamespace = (value: unknown): value is DurableObjectNamespace =>
  typeof (value as DurableObjectNamespace | undefined)?.idFromName === "function";
const isKv = (value: unknown): value is KVNamespace =>
  typeof (value as KVNamespace | undefined)?.getWithMetadata === "function";

function note(tally: Tally, what: string): void {
  tally.calls[what] = (tally.calls[what] ?? 0) + 1;
}

function countingStub(stub: object, binding: string, tally: Tally): object {
  return new Proxy(stub, {
    get(target, prop) {
      const member = Reflect.get(target, prop);
      if (typeof prop === "symbol" || STUB_FIELDS.has(prop) || typeof member !== "function")
        return member;
      return (...args: unknown[]) => {
        tally.doCalls++;
        note(tally, `${binding}.${prop}`);
        return Reflect.apply(member, target, args);
      };
    },
  });
}

function countingNamespace(ns: DurableObjectNamespace, binding: string, tally: Tally): object {
  return new Proxy(ns, {
    get(target, prop) {
      const member = Reflect.get(target, prop);
      if (typeof member !== "function") return member;
      if (prop === "get" || prop === "getByName") {
        return (...args: unknown[]) =>
          countingStub(Reflect.apply(member, target, args) as object, binding, tally);
      }
      return member.bind(target);
    },
  });
}

function countingKv(kv: KVNamespace, binding: string, tally: Tally): object {
  return new Proxy(kv, {
    get(target, prop) {
      const member = Reflect.get(target, prop);
      if (typeof member !== "function" || typeof prop === "symbol") return member;
      return (...args: unknown[]) => {
        if (KV_WRITES.has(prop)) tally.kvWrites++;
        if (KV_READS.has(prop)) tally.kvReads++;
        note(tally, `${binding}.${prop}`);
        return Reflect.apply(member, target, args);
      };
    },
  });
}

/**
 * One counting wrapper per binding and tally, reused by every request of
 * that kind: the isolate caches are kept per binding object
 * (src/lib/isolate-cache.ts), so fresh wrappers would make every counted
 * request a cache miss and count the cold path only.
 */
const wrappers = new WeakMap<object, WeakMap<Tally, object>>();

function countingBinding(value: unknown, binding: string, tally: Tally): unknown {
  if (!isNamespace(value) && !isKv(value)) return value;
  let byTally = wrappers.get(value);
  if (!byTally) {
    byTally = new WeakMap();
    wrappers.set(value, byTally);
  }
  let wrapper = byTally.get(tally);
  if (!wrapper) {
    wrapper = isNamespace(value)
      ? countingNamespace(value, binding, tally)
      : countingKv(value as KVNamespace, binding, tally);
    byTally.set(tally, wrapper);
  }
  return wrapper;
}

/**
 * One counting env per env object and tally, for the same reason: the
 * provider's config is kept per env object (src/config.ts), and the runtime
 * hands every request of an isolate the same env.
 */
const envs = new WeakMap<object, WeakMap<Tally, object>>();

/** The Worker's env, with every Durable Object and KV binding counting into `tally`. */
export function countingEnv<E extends Env>(env: E, tally: Tally): E {
  let byTally = envs.get(env);
  if (!byTally) {
    byTally = new WeakMap();
    envs.set(env, byTally);
  }
  let counting = byTally.get(tally) as E | undefined;
  if (!counting) {
    counting = new Proxy(env, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        return typeof prop === "symbol" ? value : countingBinding(value, prop, tally);
      },
    });
    byTally.set(tally, counting);
  }
  return counting;
}
