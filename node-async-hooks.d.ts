// The one Node.js API the Worker uses (src/log.ts), which workerd provides
// natively under nodejs_compat (on by default at our compatibility date).
// Declared here rather than by adding @types/node, which would also declare
// every Node global the Workers runtime does not have.
declare module "node:async_hooks" {
  export class AsyncLocalStorage<T> {
    /** Runs `callback` with `store` as what getStore() answers, in it and in all it awaits or starts. */
    run<R>(store: T, callback: () => R): R;
    getStore(): T | undefined;
  }
}
