import { afterEach, describe, expect, it } from 'vitest';
import { memoryLog, type EventLog } from '../../src/index.js';
import { redisLog } from '../../src/redis/index.js';
import { REDIS_URL, adminClient, deletePrefix, redisAvailable, testPrefix } from '../support/redis.js';
import { startServer, until, type PollBody } from './support.js';

/**
 * `from=last:N` (docs/protocol.md, "History for new readers"), over real HTTP to a real server,
 * on the memory log and on the real Redis at REDIS_URL (skipped without one, except in CI).
 */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

const logs: Array<[string, () => EventLog]> = [['memory', () => memoryLog()]];
if (redisAvailable || process.env.CI === 'true') {
  logs.push([
    'redis',
    () => {
      const prefix = testPrefix();
      const log = redisLog({ url: REDIS_URL, prefix });
      cleanups.push(async () => {
        const admin = adminClient();
        await deletePrefix(admin, prefix);
        admin.disconnect();
      });
      return log;
    },
  ]);
}

const data = (body: PollBody) => body.events.map((e) => [e.channel, e.data]);

describe.each(logs)('from=last:N on the %s log', (_, makeLog) => {
  it('answers at once with the last N events of each channel (fewer when fewer exist), then goes on live without a duplicate or a skip', async () => {
    const { hangtime, poll } = await startServer({ log: makeLog(), maxWaitMs: 10_000 });
    for (let i = 1; i <= 8; i++) await hangtime.log.append('busy', i);
    await hangtime.log.append('quiet', 'q1');
    const started = Date.now();
    const first = (await (await poll('channels=busy,quiet,empty&from=last:3')).json()) as PollBody;
    // At once: events follow the start positions, so there is nothing to hold for.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(data(first)).toEqual([
      ['busy', 6],
      ['busy', 7],
      ['busy', 8],
      ['quiet', 'q1'],
    ]);
    expect(first.more).toBe(false);
    // Appended after the history answer, before the next poll: delivered once, from the cursor.
    await hangtime.log.append('busy', 9);
    await hangtime.log.append('empty', 'e1');
    const next = (await (await poll(`channels=busy,quiet,empty&from=last:3&cursor=${first.cursor}`)).json()) as PollBody;
    expect(data(next)).toEqual([
      ['busy', 9],
      ['empty', 'e1'],
    ]);
    // Held, then woken by an append: `from` never applies again to a channel the cursor names.
    const held = poll(`channels=busy,quiet,empty&from=last:3&cursor=${next.cursor}`);
    await until(() => hangtime.stats().waiting === 1);
    await hangtime.log.append('quiet', 'q2');
    expect(data((await (await held).json()) as PollBody)).toEqual([['quiet', 'q2']]);
  });

  it('pages the history with `limit` and `more`, every event once', async () => {
    const { hangtime, poll } = await startServer({ log: makeLog(), maxWaitMs: 1_000 });
    for (let i = 1; i <= 10; i++) await hangtime.log.append('chat', i);
    const page = (await (await poll('channels=chat&from=last:7&limit=4')).json()) as PollBody;
    expect(page.events.map((e) => e.data)).toEqual([4, 5, 6, 7]);
    expect(page.more).toBe(true);
    const rest = (await (await poll(`channels=chat&from=last:7&limit=4&cursor=${page.cursor}`)).json()) as PollBody;
    expect(rest.events.map((e) => e.data)).toEqual([8, 9, 10]);
    expect(rest.more).toBe(false);
  });

  it('a channel the cursor lacks (added to a poll) starts at its last N; the others keep their position', async () => {
    const { hangtime, poll } = await startServer({ log: makeLog(), maxWaitMs: 1_000 });
    await hangtime.log.append('a', 'a1');
    const first = (await (await poll('channels=a&from=last:5')).json()) as PollBody;
    expect(data(first)).toEqual([['a', 'a1']]);
    for (let i = 1; i <= 3; i++) await hangtime.log.append('b', `b${i}`);
    const widened = (await (await poll(`channels=a,b&from=last:2&cursor=${first.cursor}`)).json()) as PollBody;
    expect(data(widened)).toEqual([
      ['b', 'b2'],
      ['b', 'b3'],
    ]);
  });
});

describe('from=last:N with retention and errors', () => {
  it('never reaches behind retention: last:50 of a channel that keeps 3 is those 3, no gap', async () => {
    const { hangtime, poll } = await startServer({ log: memoryLog({ maxEventsPerChannel: 3 }), maxWaitMs: 1_000 });
    for (let i = 1; i <= 10; i++) await hangtime.log.append('chat', i);
    const response = await poll('channels=chat&from=last:50');
    expect(response.status).toBe(200);
    expect(((await response.json()) as PollBody).events.map((e) => e.data)).toEqual([8, 9, 10]);
  });

  it('the maximum is accepted', async () => {
    const { hangtime, poll } = await startServer({ maxWaitMs: 1_000 });
    await hangtime.log.append('chat', 'only');
    expect(((await (await poll('channels=chat&from=last:1000')).json()) as PollBody).events.map((e) => e.data)).toEqual(['only']);
  });

  it.each(['last:0', 'last:1001', 'last:-1', 'last:', 'last:05', 'last:1.5', 'last:1e3', 'last:ten', 'last', 'LAST:5', 'last:5 '])(
    '400 bad_parameter for from=%j',
    async (from) => {
      const { poll } = await startServer();
      const response = await poll(`channels=chat&from=${encodeURIComponent(from)}`);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('bad_parameter');
      expect(body.error.message).toContain('last:N');
    },
  );
});
