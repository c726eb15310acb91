import { START, type ReadResult, type StoredEvent } from '../../src/log.js';
import { randomId } from '../../src/random.js';
import type { DurableObjectStateLike, DurableObjectStorageLike } from './types.js';

/**
 * The Durable Object behind `durableObjectLog()`: one object per channel stores the channel's
 * events in its SQLite storage and holds every poll waiting for them. The Worker side
 * (`do-log.ts`) talks to it with `fetch`; this file is the object.
 *
 * Positions are `<generation>-<seq>`: `generation` is drawn once and kept in the object's
 * storage, so positions survive the object's eviction and restart; storage that is lost (deleted,
 * or a new object) draws a new one, and older positions read as a `reset` gap. `seq` numbers the
 * channel's events from 1 (0 is "nothing yet"), in base 36 padded to 11 characters so positions
 * compare as strings. Events dropped by retention (count, age) are counted in `dropped`, so a
 * reader behind them gets a `retention` gap with the exact number missed.
 */

/** What the Worker sends with each call: the log's retention, applied by the object. */
export interface Retention {
  readonly maxEvents: number;
  /** `null`: no age limit. */
  readonly maxAgeMs: number | null;
  readonly idempotencyWindowMs: number;
}

/** The calls the object answers (POST `https://hangtime/<op>` with this JSON body). */
export type ChannelCall =
  | { readonly op: 'append'; readonly json: string; readonly bytes: number; readonly id: string | null; readonly retention: Retention }
  | { readonly op: 'read'; readonly after: string; readonly limit: number; readonly maxBytes: number; readonly retention: Retention }
  | { readonly op: 'start'; readonly from: 'now' | 'oldest' | { readonly last: number }; readonly retention: Retention }
  | { readonly op: 'wait'; readonly after: string };

const SEQ_DIGITS = 11;
export const POSITION_PATTERN = /^[0-9a-z]{8}-[0-9a-z]{11}$/;

/** Longest one wait stays open in the object; then it answers "look" (a spurious wake the hold
 * reads through and waits again). A bound for Workers that go away without cancelling. */
export const WAIT_CAP_MS = 120_000;

const position = (generation: string, seq: number): string => `${generation}-${seq.toString(36).padStart(SEQ_DIGITS, '0')}`;

const encoder = new TextEncoder();
const WOKEN = encoder.encode('1');

/** A poll waiting in the object: its response body, written once. */
interface Waiter {
  readonly after: number;
  controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The Durable Object class. Export it from your Worker under the class name of the binding:
 *
 * @example
 * // src/index.ts (wrangler.jsonc: durable_objects.bindings [{ name: "HANGTIME", class_name: "HangtimeChannel" }]
 * // and migrations [{ tag: "v1", new_sqlite_classes: ["HangtimeChannel"] }])
 * export { HangtimeChannel } from 'hangtime/cloudflare';
 */
export class HangtimeChannel {
  protected readonly storage: DurableObjectStorageLike;
  /** Polls waiting here, woken together by the next append. */
  protected readonly waiters = new Set<Waiter>();
  #generation = '';
  #lastSeq = 0;
  /** Events dropped by retention: seq 1 to `#dropped` are gone. */
  #dropped = 0;
  #wakeQueued = false;

  constructor(state: DurableObjectStateLike, _env?: unknown) {
    this.storage = state.storage;
    this.load();
  }

  /** (Re)read the channel's state from storage, creating it when storage is empty. */
  protected load(): void {
    this.run('CREATE TABLE IF NOT EXISTS hangtime_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)');
    this.run(
      'CREATE TABLE IF NOT EXISTS hangtime_events (seq INTEGER PRIMARY KEY, json TEXT NOT NULL, bytes INTEGER NOT NULL, at INTEGER NOT NULL)',
    );
    this.run('CREATE TABLE IF NOT EXISTS hangtime_ids (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, at INTEGER NOT NULL)');
    const meta = new Map<string, string>();
    for (const row of this.rows<{ k: string; v: string }>('SELECT k, v FROM hangtime_meta')) meta.set(row.k, row.v);
    let generation = meta.get('generation');
    if (generation === undefined) {
      generation = randomId(8);
      this.run('INSERT INTO hangtime_meta (k, v) VALUES (?, ?)', 'generation', generation);
    }
    this.#generation = generation;
    this.#lastSeq = Number(meta.get('last') ?? 0);
    this.#dropped = Number(meta.get('dropped') ?? 0);
  }

  async fetch(request: Request): Promise<Response> {
    let call: ChannelCall;
    try {
      call = (await request.json()) as ChannelCall;
    } catch {
      return Response.json({ error: 'Expected a JSON call' }, { status: 400 });
    }
    try {
      switch (call.op) {
        case 'append':
          return Response.json(this.append(call.json, call.bytes, call.id, call.retention));
        case 'read':
          return Response.json(this.read(call.after, call.limit, call.maxBytes, call.retention));
        case 'start':
          return Response.json(this.start(call.from, call.retention));
        case 'wait':
          return this.wait(call.after, request.signal);
        default:
          return Response.json({ error: 'Unknown call' }, { status: 400 });
      }
    } catch (error) {
      return Response.json({ error: (error as Error).message }, { status: 500 });
    }
  }

  /** The rows of a query, as the caller knows them to be (the schema is this file's). */
  protected rows<Row>(query: string, ...bindings: Array<string | number>): Row[] {
    return this.storage.sql.exec(query, ...(bindings as never[])).toArray() as Row[];
  }

  /** Run a statement. */
  protected run(query: string, ...bindings: Array<string | number>): void {
    this.storage.sql.exec(query, ...(bindings as never[]));
  }

  protected now(): number {
    return Date.now();
  }

  append(json: string, bytes: number, id: string | null, retention: Retention): string {
    const now = this.now();
    if (id !== null) {
      this.run('DELETE FROM hangtime_ids WHERE at <= ?', now - retention.idempotencyWindowMs);
      const earlier = this.rows<{ seq: number }>('SELECT seq FROM hangtime_ids WHERE id = ?', id)[0];
      if (earlier !== undefined) return position(this.#generation, earlier.seq);
    }
    const seq = this.#lastSeq + 1;
    this.run('INSERT INTO hangtime_events (seq, json, bytes, at) VALUES (?, ?, ?, ?)', seq, json, bytes, now);
    if (id !== null) this.run('INSERT INTO hangtime_ids (id, seq, at) VALUES (?, ?, ?)', id, seq, now);
    this.#lastSeq = seq;
    this.run("INSERT OR REPLACE INTO hangtime_meta (k, v) VALUES ('last', ?)", String(seq));
    this.trim(retention, now);
    this.wakeSoon();
    return position(this.#generation, seq);
  }

  /** Drop what retention no longer keeps, counting it in `#dropped`. */
  protected trim(retention: Retention, now = this.now()): void {
    let dropped = Math.max(this.#dropped, this.#lastSeq - retention.maxEvents);
    // Events are appended in time order: only when the oldest is too old is there anything to find.
    const oldest =
      retention.maxAgeMs === null ? undefined : this.rows<{ at: number }>('SELECT at FROM hangtime_events ORDER BY seq LIMIT 1')[0];
    if (retention.maxAgeMs !== null && oldest !== undefined && oldest.at <= now - retention.maxAgeMs) {
      const newestOld = this.rows<{ seq: number | null }>(
        'SELECT MAX(seq) AS seq FROM hangtime_events WHERE at <= ?',
        now - retention.maxAgeMs,
      )[0]?.seq;
      if (newestOld != null) dropped = Math.max(dropped, newestOld);
    }
    if (dropped === this.#dropped) return;
    this.run('DELETE FROM hangtime_events WHERE seq <= ?', dropped);
    this.run("INSERT OR REPLACE INTO hangtime_meta (k, v) VALUES ('dropped', ?)", String(dropped));
    this.#dropped = dropped;
  }

  /** The seq a position names in this generation, or `undefined` for another generation or START. */
  #seqOf(after: string): number | undefined {
    if (after === START || !POSITION_PATTERN.test(after) || !after.startsWith(`${this.#generation}-`)) return undefined;
    return parseInt(after.slice(9), 36);
  }

  read(after: string, limit: number, maxBytes: number, retention: Retention): ReadResult {
    this.trim(retention);
    const seq = this.#seqOf(after);
    const gen = this.#generation;
    // Another generation (lost history) or the position of none: everything retained is new.
    if (seq === undefined) return { kind: 'gap', resumeAfter: position(gen, this.#dropped), missed: null, reason: 'reset' };
    // Ahead of the channel: a position this history never gave (a forged or lost-history cursor).
    if (seq > this.#lastSeq) return { kind: 'gap', resumeAfter: position(gen, this.#lastSeq), missed: null, reason: 'reset' };
    if (seq < this.#dropped) {
      return { kind: 'gap', resumeAfter: position(gen, this.#dropped), missed: this.#dropped - seq, reason: 'retention' };
    }
    const events: StoredEvent[] = [];
    let bytes = 0;
    let last = seq;
    for (const row of this.rows<{ seq: number; json: string; bytes: number }>(
      'SELECT seq, json, bytes FROM hangtime_events WHERE seq > ? ORDER BY seq LIMIT ?',
      seq,
      limit,
    )) {
      bytes += row.bytes;
      if (events.length > 0 && bytes > maxBytes) break;
      events.push({ position: position(gen, row.seq), json: row.json });
      last = row.seq;
    }
    return { kind: 'events', events, more: last < this.#lastSeq };
  }

  start(from: 'now' | 'oldest' | { readonly last: number }, retention: Retention): string {
    this.trim(retention);
    if (from === 'now') return position(this.#generation, this.#lastSeq);
    const oldest = this.#dropped;
    if (from === 'oldest') return position(this.#generation, oldest);
    return position(this.#generation, Math.max(oldest, this.#lastSeq - from.last));
  }

  /** Whether a reader after `after` has something to read (events, or a gap). */
  follows(after: string): boolean {
    const seq = this.#seqOf(after);
    return seq === undefined || seq !== this.#lastSeq;
  }

  /**
   * Answer at once with headers and a body that says `1` when something follows `after` (at
   * once when it already does). Headers first, so that a Worker waiting on several channels
   * holds no connection "waiting for response headers" (Workers allow six at a time).
   * The Worker aborting its request (the hold ended: woken elsewhere, timed out, its client
   * left) releases the waiter; that needs the `enable_request_signal` compatibility flag, and
   * without it the waiter stays until it is woken or {@link WAIT_CAP_MS} passes.
   */
  wait(after: string, signal?: AbortSignal): Response {
    if (this.follows(after)) return new Response('1');
    const seq = this.#seqOf(after)!;
    const waiter: Waiter = { after: seq, controller: undefined, timer: undefined };
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        waiter.controller = controller;
        this.waiters.add(waiter);
        waiter.timer = setTimeout(() => this.#settle(waiter), WAIT_CAP_MS);
      },
      cancel: () => this.#release(waiter),
    });
    signal?.addEventListener('abort', () => this.#release(waiter), { once: true });
    return new Response(body, { headers: { 'content-type': 'text/plain' } });
  }

  #release(waiter: Waiter): void {
    this.waiters.delete(waiter);
    clearTimeout(waiter.timer);
    waiter.controller = undefined;
  }

  #settle(waiter: Waiter): void {
    const controller = waiter.controller;
    this.#release(waiter);
    if (controller === undefined) return;
    try {
      controller.enqueue(WOKEN);
      controller.close();
    } catch {
      // The Worker went away meanwhile: nothing to tell.
    }
  }

  /** Wake every waiter in a microtask, so that appends made together reach a poll as one batch. */
  protected wakeSoon(): void {
    if (this.#wakeQueued) return;
    this.#wakeQueued = true;
    queueMicrotask(() => {
      this.#wakeQueued = false;
      for (const waiter of [...this.waiters]) if (waiter.after !== this.#lastSeq) this.#settle(waiter);
    });
  }
}
