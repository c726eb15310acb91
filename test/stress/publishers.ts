import type { Random } from '../fuzz/prng.js';
import type { Ledger } from './ledger.js';

/**
 * Publishers of a stress run. Each publish carries a unique id (`{ id }`) and is recorded in
 * the ledger before it is sent, and acknowledged with the position the log returned; a failed
 * publish is never retried with the same id (a retry may legitimately land twice; a new id
 * may not be confused with the old).
 */

export type Append = (channel: string, data: { id: string }) => Promise<string>;

/** Publishing through the protocol's `POST` (the server configures `authorizePublish`). */
export const postTo =
  (url: string): Append =>
  async (channel, data) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel, data }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json().catch(() => null)) as { position?: unknown; channel?: unknown } | null;
    if (response.status !== 201 || typeof body?.position !== 'string') throw new Error(`POST answered ${response.status}`);
    if (body.channel !== channel) throw new Error(`POST to ${channel} answered for ${String(body.channel)}`);
    return body.position;
  };

/** Publish one event; true when acknowledged. */
export async function publishOne(ledger: Ledger, append: Append, via: string, id: string, channel: string): Promise<boolean> {
  ledger.attempt(id, channel, via);
  try {
    const position = await append(channel, { id });
    ledger.acknowledge(id, position);
    return true;
  } catch (error) {
    ledger.fail(id, String(error));
    return false;
  }
}

/**
 * A steady publisher: one event at a time to a random channel, `intervalMs` apart on average,
 * until `until()` says stop.
 */
export async function steady(options: {
  name: string;
  via: string;
  append: Append;
  ledger: Ledger;
  random: Random;
  channels: readonly string[];
  intervalMs: number;
  until: () => boolean;
}): Promise<void> {
  const { name, via, append, ledger, random, channels, intervalMs, until } = options;
  for (let n = 0; !until(); n++) {
    const acknowledged = await publishOne(ledger, append, via, `${name}:${n}`, random.pick(channels));
    // After a failure (a restart under way), wait a little longer than usual.
    await sleep(random.next() * 2 * intervalMs + (acknowledged ? 0 : 100));
  }
}

/**
 * A bursting publisher: every `everyMs` (on average), `size` events to one channel at once
 * (concurrent appends: their order is the log's, by position), so that readers of that channel
 * find far more than one answer's `limit` waiting.
 */
export async function bursts(options: {
  name: string;
  via: string;
  append: Append;
  ledger: Ledger;
  random: Random;
  channel: string;
  size: number;
  everyMs: number;
  until: () => boolean;
}): Promise<void> {
  const { name, via, append, ledger, random, channel, size, everyMs, until } = options;
  let n = 0;
  while (!until()) {
    await sleep(random.next() * 2 * everyMs);
    if (until()) break;
    await Promise.all(Array.from({ length: size }, () => publishOne(ledger, append, via, `${name}:${n++}`, channel)));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
