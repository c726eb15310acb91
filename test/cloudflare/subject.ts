import { AppendUncertainError } from '../../src/errors.js';
import { START, type EventLog, type ReadResult, type StartFrom, type WaitSink, type WaitTarget } from '../../src/log.js';
import type { SignalLike } from '../../src/signal.js';
import type { LogSubjectOptions } from '../conformance/event-log.js';
import type { TestWorker } from './worker.js';

/**
 * The Durable Object log, driven from Node through the test Worker (fixtures/worker.ts): each
 * call is an HTTP request that the Worker turns into the same call on `durableObjectLog()` in
 * workerd, where the log and its objects run. The conformance suite is a vitest suite and runs in
 * Node, so this is how it reaches the log; nothing of the log runs here.
 *
 * What cannot travel as JSON (`undefined`, a function, a BigInt, a cycle) is refused here with the
 * `TypeError` the log gives, since it could not be sent; everything else, including oversized
 * data and bad ids, is checked by the log in workerd.
 */
export function proxyLog(worker: TestWorker, options: LogSubjectOptions): EventLog {
  async function call<T>(op: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
    const response = await fetch(new URL(`/log/${op}`, worker.url), {
      method: 'POST',
      body: JSON.stringify({ ...body, options }),
      signal,
    });
    const answer = (await response.json()) as T | { error: { name: string; message: string } };
    if (response.status === 500) {
      const { name, message } = (answer as { error: { name: string; message: string } }).error;
      const Class = name === 'TypeError' ? TypeError : name === 'RangeError' ? RangeError : Error;
      if (name === 'AppendUncertainError') throw new AppendUncertainError(message, { channel: String(body.channel), appendId: '' });
      throw new Class(`(in workerd) ${message}`);
    }
    return answer as T;
  }

  /** Waits in flight, each ended (`false`) by `close()`. */
  const pending = new Set<() => void>();
  let closed = false;

  const waitFor = (targets: readonly WaitTarget[], signal: SignalLike): Promise<boolean> => {
    if (signal.aborted || closed) return Promise.resolve(false);
    const controller = new AbortController();
    return new Promise<boolean>((resolve) => {
      const end = (woken: boolean): void => {
        pending.delete(onAbort);
        signal.removeEventListener('abort', onAbort);
        if (!woken) controller.abort();
        resolve(woken);
      };
      const onAbort = (): void => end(false);
      pending.add(onAbort);
      signal.addEventListener('abort', onAbort, { once: true });
      call<boolean>('wait', { targets }, controller.signal).then(end, () => end(false));
    });
  };

  // Appends travel in batches, in the order they were made, one batch at a time: HTTP requests
  // on separate connections may arrive in any order, where a client of a log (like a Redis
  // connection) sends in order. The Worker starts a batch's appends together, in order.
  interface Queued {
    readonly body: Record<string, unknown>;
    resolve(position: string): void;
    reject(error: unknown): void;
  }
  let queue: Queued[] = [];
  let sending = false;
  async function flush(): Promise<void> {
    if (sending) return;
    sending = true;
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        const results = await call<Array<{ position?: string; error?: { name: string; message: string } }>>('append-batch', {
          appends: batch.map((queued) => queued.body),
        });
        results.forEach((result, i) => {
          if (result.error === undefined) return batch[i]!.resolve(result.position!);
          const { name, message } = result.error;
          const Class = name === 'TypeError' ? TypeError : name === 'RangeError' ? RangeError : Error;
          batch[i]!.reject(new Class(`(in workerd) ${message}`));
        });
      } catch (error) {
        for (const queued of batch) queued.reject(error);
      }
    }
    sending = false;
  }

  return {
    maxEventBytes: options.maxEventBytes ?? 262_144,
    append(channel, data, appendOptions) {
      let json: string | undefined;
      try {
        json = JSON.stringify(data);
      } catch (error) {
        return Promise.reject(new TypeError(`Expected event data to be JSON-serialisable: ${(error as Error).message}`));
      }
      if (json === undefined) return Promise.reject(new TypeError(`Expected event data to be JSON-serialisable, got ${typeof data}`));
      return new Promise<string>((resolve, reject) => {
        queue.push({ body: { channel, json, ...(appendOptions === undefined ? {} : { appendOptions }) }, resolve, reject });
        void flush();
      });
    },
    read: (channel, after, read) => call<ReadResult>('read', { channel, after, read }),
    start: (channel, from: StartFrom) => call<string>('start', { channel, from }),
    waitFor,
    waitInto(targets: readonly WaitTarget[], signal: SignalLike, sink: WaitSink) {
      void waitFor(targets, signal).then((woken) => sink.woken(woken));
    },
    isPosition: (value) => value === START || /^[0-9a-z]{8}-[0-9a-z]{11}$/.test(value),
    async close() {
      closed = true;
      for (const end of [...pending]) end();
    },
  };
}

/** Waiters held by a channel's object (a test hook of the test Worker). */
export async function waitersOf(worker: TestWorker, channel: string): Promise<number> {
  return (await (await fetch(new URL(`/test/waiters?channel=${encodeURIComponent(channel)}`, worker.url))).json()) as number;
}

/** Restart a channel's object; with `loseStorage`, delete its storage first. */
export async function restartChannel(worker: TestWorker, channel: string, loseStorage = false): Promise<void> {
  const response = await fetch(new URL(`/test/${loseStorage ? 'forget' : 'restart'}?channel=${encodeURIComponent(channel)}`, worker.url));
  await response.text();
  // The object resets 10 ms after answering.
  await new Promise((resolve) => setTimeout(resolve, 50));
}
