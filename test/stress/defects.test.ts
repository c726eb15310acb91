import { afterEach, describe, expect, it } from 'vitest';
import { createHangtime, memoryLog, type EventLog } from '../../src/index.js';
import { redisLog } from '../../src/redis/index.js';
import { serve } from '../../adapters/node/index.js';
import { subscribe, type Gap, type HangtimeEvent } from '../../src/client/index.js';
import { describeWithServers, startRedisServer } from '../redis/servers.js';
import { REDIS_URL, adminClient, deletePrefix, describeRedis, testPrefix } from '../support/redis.js';

/**
 * The two defects the stress test found, each shown in a second or two (no-loss.test.ts shows
 * them under load, in a minute):
 *
 * 1. A cursor taken at a channel's start (the client polled before anything was published)
 *    crossed a loss of history (a memory-log server restart, a Redis restart without
 *    persistence) without a gap: the events of the lost history were skipped silently.
 * 2. In a multi-channel poll, a channel starved while the first channel always had more than
 *    `limit` events waiting: every answer was filled from the first channel.
 */

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

interface PollAnswer {
  status: number;
  events: Array<HangtimeEvent<{ n: number }>>;
  gaps?: Gap[];
  cursor: string;
  more?: boolean;
}

/** A hangtime endpoint over `log` on a loopback port; `restart` starts it again over another log. */
async function endpoint(log: EventLog, options: { maxEvents?: number } = {}) {
  const open = (over: EventLog) => serve(createHangtime({ log: over, maxWaitMs: 2_000, ...options }), { port: 0 });
  let server = await open(log);
  cleanups.push(() => server.close());
  const poll = async (query: string): Promise<PollAnswer> => {
    const response = await fetch(`${server.url}/poll?${query}`);
    return { status: response.status, ...((await response.json()) as Omit<PollAnswer, 'status'>) };
  };
  return {
    poll,
    get url() {
      return `${server.url}/poll`;
    },
    /** A new process with the in-memory log: everything it held is gone. */
    async restartWith(fresh: EventLog) {
      await server.close();
      server = await open(fresh);
    },
  };
}

/** What a subscriber told the app, in order: events and gaps. */
function watch(url: string, cursor: string | undefined, channels: string[]) {
  const seen: string[] = [];
  const subscription = subscribe<{ n: number }>(url, {
    channels,
    cursor,
    backoffMs: 20,
    maxBackoffMs: 200,
    onEvents: (events) => void seen.push(...events.map((event) => `${event.channel}:${event.data.n}`)),
    onGap: (gaps) => void seen.push(...gaps.map((gap) => `gap:${gap.channel}`)),
    onError: () => {},
  });
  cleanups.push(() => subscription.close());
  return { seen, subscription };
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("defect 1: a cursor at a channel's start crosses a loss of history (memory log)", () => {
  it('a poll with it, after a restart, answers 410 with a gap, then the new events', async () => {
    const first = memoryLog();
    const server = await endpoint(first);
    const start = await server.poll('channels=chat&wait=0');
    expect(start).toMatchObject({ status: 200, events: [] });
    // Published while this client was away, then lost with the process.
    await first.append('chat', { n: 1 });
    await first.append('chat', { n: 2 });
    const second = memoryLog();
    await server.restartWith(second);
    await second.append('chat', { n: 3 });

    const answer = await server.poll(`channels=chat&wait=0&cursor=${start.cursor}`);
    expect(answer.status, `answered ${answer.status} with ${JSON.stringify(answer.events)}: events 1 and 2 skipped without a gap`).toBe(
      410,
    );
    expect(answer.gaps).toEqual([expect.objectContaining({ channel: 'chat', missed: null })]);
    const next = await server.poll(`channels=chat&wait=0&cursor=${answer.cursor}`);
    expect(next.events.map((event) => event.data.n)).toEqual([3]);
  });

  it('the client is told of the gap before the first event of the new life, even when it polled the empty new life first', async () => {
    const first = memoryLog();
    const server = await endpoint(first);
    // A subscriber that polled once, before anything was published, then went away.
    const early = watch(server.url, undefined, ['chat']);
    await until(() => early.subscription.status.state === 'live', 'the first answer');
    early.subscription.close();
    await early.subscription.done;
    await first.append('chat', { n: 1 });
    await first.append('chat', { n: 2 });

    const second = memoryLog();
    await server.restartWith(second);
    // Back, from its cursor, while the new life is still empty; then an event arrives.
    const back = watch(server.url, early.subscription.cursor, ['chat']);
    await until(() => back.subscription.status.state === 'live', 'the answer after the restart');
    await second.append('chat', { n: 3 });
    await until(() => back.seen.includes('chat:3'), 'event 3');
    expect(back.seen, 'events 1 and 2 were lost: the client must hear of it before event 3').toEqual(['gap:chat', 'chat:3']);
  });
});

describeWithServers("defect 1: a cursor at a channel's start crosses a loss of history (Redis without persistence)", () => {
  it('a poll with it, after a Redis restart, answers 410 with a gap, then the new events', async () => {
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    const log = redisLog({ url: redis.url, prefix: testPrefix(), commandTimeoutMs: 1_000, onError: () => {} });
    cleanups.push(() => log.close());
    const server = await endpoint(log);
    const start = await server.poll('channels=chat&wait=0');
    expect(start).toMatchObject({ status: 200, events: [] });
    await log.append('chat', { n: 1 });
    await log.append('chat', { n: 2 });

    await redis.restart();
    // The log reconnects on its own; until it has, appends and polls fail (503).
    for (let attempt = 0; ; attempt++) {
      try {
        await log.append('chat', { n: 3 });
        break;
      } catch (error) {
        if (attempt > 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    let answer: PollAnswer;
    do answer = await server.poll(`channels=chat&wait=0&cursor=${start.cursor}`);
    while (answer.status === 503);
    expect(answer.status, `answered ${answer.status} with ${JSON.stringify(answer.events)}: events 1 and 2 skipped without a gap`).toBe(
      410,
    );
    expect(answer.gaps).toEqual([expect.objectContaining({ channel: 'chat', missed: null })]);
    const next = await server.poll(`channels=chat&wait=0&cursor=${answer.cursor}`);
    expect(next.events.map((event) => event.data.n)).toEqual([3]);
  });
});

/** Defect 2, on one log: the quiet channel's event comes in the next answer. */
async function starvation(log: EventLog) {
  const LIMIT = 5;
  const server = await endpoint(log, { maxEvents: LIMIT });
  let { cursor } = await server.poll('channels=hot,quiet&wait=0');
  for (let round = 0; round < 4; round++) {
    // The first channel always has more than one answer's worth waiting.
    for (let i = 0; i <= LIMIT; i++) await log.append('hot', { n: round * 100 + i });
    await log.append('quiet', { n: round });
    const answer = await server.poll(`channels=hot,quiet&wait=0&cursor=${cursor}`);
    expect(answer.status).toBe(200);
    expect(answer.events.length).toBeLessThanOrEqual(LIMIT);
    expect(
      answer.events.filter((event) => event.channel === 'quiet').map((event) => event.data.n),
      `round ${round}: the answer carried ${answer.events.map((event) => `${event.channel}:${event.data.n}`).join(' ')}`,
    ).toEqual([round]);
    expect(answer.more).toBe(true);
    cursor = answer.cursor;
  }
}

describe('defect 2: a channel of a multi-channel poll starves behind a busy first channel', () => {
  it("memory log: the quiet channel's event arrives in the next answer", async () => {
    const log = memoryLog();
    cleanups.push(() => log.close());
    await starvation(log);
  });
});

describeRedis('defect 2: a channel of a multi-channel poll starves behind a busy first channel (Redis)', () => {
  it("Redis log: the quiet channel's event arrives in the next answer", async () => {
    const prefix = testPrefix();
    const log = redisLog({ url: REDIS_URL, prefix });
    cleanups.push(async () => {
      await log.close();
      const admin = adminClient();
      await deletePrefix(admin, prefix);
      admin.disconnect();
    });
    await starvation(log);
  });
});
