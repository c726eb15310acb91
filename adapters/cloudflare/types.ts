/**
 * The few Workers runtime types this entry uses, written out so that neither the package nor its
 * users need `@cloudflare/workers-types` (structurally compatible with it: pass `env.HANGTIME`
 * and a Durable Object's `ctx` as they are).
 */

/** A Durable Object namespace binding (`env.HANGTIME`): what the log uses of one. */
export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: never): DurableObjectStubLike;
}

/** A stub of one Durable Object: the log talks to it with `fetch` (no RPC, so the class needs no
 * `cloudflare:workers` import and the entry loads anywhere). */
export interface DurableObjectStubLike {
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

/** A value of a SQLite row. */
export type SqlValueLike = string | number | null | ArrayBuffer;

/** A cursor of `ctx.storage.sql.exec()`. */
export interface SqlCursorLike {
  toArray(): Array<Record<string, SqlValueLike>>;
}

/** `ctx.storage` of a SQLite-backed Durable Object: what the channel uses of it. */
export interface DurableObjectStorageLike {
  readonly sql: {
    exec(query: string, ...bindings: never[]): SqlCursorLike;
  };
}

/** The `ctx` (state) a Durable Object's constructor receives. */
export interface DurableObjectStateLike {
  readonly storage: DurableObjectStorageLike;
}

/** The `ctx` of a Worker's `fetch`. */
export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
}
