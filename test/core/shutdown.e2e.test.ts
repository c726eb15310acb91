import { afterEach, describe, expect, it } from 'vitest';
import { serve } from '../../adapters/node/index.js';
import { createHangtime, isHangtimeError, memoryLog, type EventLog } from '../../src/index.js';
import { decodeCursor } from '../../src/cursor.js';
import { redisLog } from '../../src/redis/index.js';
import { REDIS_URL, adminClient, deletePrefix, describeRedis, testPrefix } from '../support/redis.js';
import { startServer, until, type PollBody } from './support.js';

/**
 * Graceful shutdown over real HTTP, with each log: `hangtime.close()` and `serve().close()`
 * answer every held poll with its normal empty answer and cursor, refuse what arrives after
 * with a retryable 503, and close only what hangtime itself opened.
 */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

const publish = (url: string, data: unknown) =>
  fetch(`${url}/poll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channel: 'chat', data }),
  });

async function expectShuttingDown(response: Response): Promise<void> {
  expect(response.status).toBe(503);
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe('shutting_down');
}

function shutdownSuite(makeLog: () => EventLog): void {
  it('hangtime.close() answers every held poll at once, with its cursor; what arrives later gets 503 `shutting_down`', async () => {
    const errors: unknown[] = [];
    const log = makeLog();
    const { hangtime, url, poll } = await startServer({
      log,
      maxWaitMs: 60_000,
      authorizePublish: () => true,
      onError: (e) => errors.push(e),
    });
    await publish(url, 'before');
    const first = (await (await poll('channels=chat&wait=0')).json()) as PollBody;
    const held = Array.from({ length: 20 }, () => poll(`channels=chat&cursor=${first.cursor}`));
    await until(() => hangtime.stats().waiting === 20);
    const started = Date.now();
    await hangtime.close();
    for (const response of await Promise.all(held)) {
      expect(response.status).toBe(200);
      expect(response.headers.get('server-timing')).toMatch(/^hold;dur=[\d.]+;desc="shutdown"$/);
      expect(await response.json()).toEqual({ events: [], cursor: first.cursor, more: false });
    }
    // Not the 60 s budget: at once (bound generous for a loaded machine).
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(hangtime.stats().waiting).toBe(0);
    await expectShuttingDown(await poll(`channels=chat&cursor=${first.cursor}`));
    await expectShuttingDown(await publish(url, 'after'));
    expect(errors).toEqual([]);
    // The log was passed in: it is the caller's, still open.
    const before = await log.start('chat', 'now');
    await log.append('chat', 'still open');
    expect(await log.start('chat', 'now')).not.toBe(before);
    // Idempotent.
    await Promise.all([hangtime.close(), hangtime.close()]);
  });

  it('serve().close() with 2,000 held polls: every one gets a 200 with its cursor, then the server stops', {
    timeout: 120_000,
  }, async () => {
    const log = makeLog();
    const hangtime = createHangtime({ log, maxWaitMs: 120_000, maxWaiters: 5_000 });
    const server = await serve(hangtime, { port: 0 });
    cleanups.push(() => server.close());
    const first = (await (await fetch(`${server.url}/poll?channels=chat&wait=0`)).json()) as PollBody;
    const held = Array.from({ length: 2_000 }, () =>
      fetch(`${server.url}/poll?channels=chat&cursor=${first.cursor}`).then(async (response) => ({
        status: response.status,
        timing: response.headers.get('server-timing'),
        body: (await response.json()) as PollBody,
      })),
    );
    await until(() => hangtime.stats().waiting === 2_000, 60_000);
    await server.close();
    const answers = await Promise.all(held);
    expect(answers.filter((a) => a.status !== 200 || a.body.cursor !== first.cursor || !a.timing?.includes('desc="shutdown"'))).toEqual([]);
    expect(answers).toHaveLength(2_000);
    await expect(fetch(`${server.url}/poll?channels=chat&wait=0`)).rejects.toThrow();
  });

  it('wait() during shutdown ends with reason `shutdown` and its cursor; after, it rejects with `shutting_down`', async () => {
    const hangtime = createHangtime({ log: makeLog(), maxWaitMs: 60_000 });
    const { cursor } = await hangtime.wait({ channels: ['chat'], waitMs: 0 });
    const waiting = hangtime.wait({ channels: ['chat'], cursor });
    await until(() => hangtime.stats().waiting === 1);
    await hangtime.close();
    expect(await waiting).toMatchObject({ events: [], cursor, reason: 'shutdown' });
    const error = await hangtime.wait({ channels: ['chat'], cursor }).catch((e: unknown) => e);
    expect(isHangtimeError(error) && [error.status, error.code]).toEqual([503, 'shutting_down']);
  });
}

describe('shutdown with the memory log', () => {
  shutdownSuite(() => memoryLog());

  it('closes the log hangtime created itself', async () => {
    const hangtime = createHangtime();
    await hangtime.close();
    await expect(hangtime.log.append('chat', 1)).rejects.toThrow(/closed/);
  });

  it('a poll that arrives while shutdown waits for a read in flight gets 503; the read ends, then close() resolves', async () => {
    const base = memoryLog();
    let releaseRead: () => void = () => {};
    const gate = new Promise<void>((resolve) => (releaseRead = resolve));
    let gated = false;
    // Reads wait for the gate once it is up: the woken poll is mid-read when shutdown begins.
    const slow: EventLog = { ...base, read: async (...args) => (gated && (await gate), base.read(...args)) };
    const { hangtime, poll } = await startServer({ log: slow, maxWaitMs: 60_000, logTimeoutMs: 30_000 });
    const first = (await (await poll('channels=chat&wait=0')).json()) as PollBody;
    gated = true;
    const reading = poll(`channels=chat&cursor=${first.cursor}`);
    await until(() => hangtime.stats().waiting === 1);
    await base.append('chat', 'in flight');
    await new Promise((resolve) => setTimeout(resolve, 50));
    let closed = false;
    const closing = hangtime.close().then(() => (closed = true));
    await expectShuttingDown(await poll(`channels=chat&cursor=${first.cursor}`));
    expect(closed).toBe(false);
    releaseRead();
    await closing;
    // The poll that was reading gets its event: shutdown never drops one.
    const body = (await (await reading).json()) as PollBody;
    expect(body.events.map((e) => e.data)).toEqual(['in flight']);
  });
});

describe('shutdown around the steps before a hold', () => {
  it('a new reader whose start() is still pending gets its answer with the cursor start() gives, not a cut', async () => {
    const base = memoryLog();
    await base.append('chat', 'before');
    let releaseHead: () => void = () => {};
    const gate = new Promise<void>((resolve) => (releaseHead = resolve));
    // A copy that replaces `start` drops `startKnown`, which would answer for it (src/log.ts).
    const slow: EventLog = {
      ...base,
      start: async (channel, from) => (await gate, base.start(channel, from)),
      startKnown: undefined,
    };
    const { hangtime, poll } = await startServer({ log: slow, maxWaitMs: 60_000 });
    const pending = poll('channels=chat');
    await until(() => hangtime.stats().waiting === 1);
    const closing = hangtime.close();
    releaseHead();
    await closing;
    const response = await pending;
    expect([response.status, response.headers.get('server-timing')?.includes('desc="shutdown"')]).toEqual([200, true]);
    const body = (await response.json()) as PollBody;
    expect(body.events).toEqual([]);
    // From now on: the event before is behind the cursor, the next one after it.
    await base.append('chat', 'after');
    const position = decodeCursor(body.cursor, (p) => base.isPosition(p)).get('chat')!;
    const next = await base.read('chat', position, { limit: 10, maxBytes: 1_000_000 });
    expect(next.kind === 'events' && next.events.map((e) => JSON.parse(e.json))).toEqual(['after']);
  });

  it('a poll whose authorize decides after close() began gets 503 `shutting_down`, and the hook runs no more', async () => {
    let decide: (decision: boolean) => void = () => {};
    let calls = 0;
    const { hangtime, poll } = await startServer({
      maxWaitMs: 60_000,
      authorize: () => {
        calls++;
        return new Promise<boolean>((resolve) => (decide = resolve));
      },
    });
    const pending = poll('channels=chat');
    await until(() => calls === 1);
    await hangtime.close();
    decide(true);
    await expectShuttingDown(await pending);
    await expectShuttingDown(await poll('channels=chat'));
    expect(calls).toBe(1);
  });
});

describeRedis('shutdown with the Redis log', () => {
  shutdownSuite(() => {
    const prefix = testPrefix();
    const log = redisLog({ url: REDIS_URL, prefix });
    cleanups.push(async () => {
      await log.close();
      const admin = adminClient();
      await deletePrefix(admin, prefix);
      admin.disconnect();
    });
    return log;
  });
});
