import { afterEach, describe, expect, it } from 'vitest';
import { memoryLog, type EventLog, type HangtimeRequest } from '../../src/index.js';
import { AppendUncertainError } from '../../src/errors.js';
import { redisLog } from '../../src/redis/index.js';
import { REDIS_URL, adminClient, deletePrefix, describeRedis, testPrefix } from '../support/redis.js';
import { startServer, type PollBody } from './support.js';

/**
 * Publishing over real HTTP, with each log: a request that can never succeed is a 4xx with a
 * precise code, never a 503 (which tells the client to retry) nor a log failure in onError.
 */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** `data` nested `depth` levels deep: arrays, with an object every other level. */
function nested(depth: number): unknown {
  let data: unknown = 'bottom';
  for (let i = 0; i < depth; i++) data = i % 2 === 0 ? [data] : { inner: data };
  return data;
}

/** The same, as JSON text built without JSON.stringify (which overflows its stack on deep values). */
function nestedText(depth: number): string {
  let open = '';
  let close = '';
  for (let i = depth - 1; i >= 0; i--) {
    open += i % 2 === 0 ? '[' : '{"inner":';
    close = (i % 2 === 0 ? ']' : '}') + close;
  }
  return `${open}"bottom"${close}`;
}

/** The data of every retained event of a channel. */
async function eventsIn(log: EventLog, channel: string): Promise<unknown[]> {
  const result = await log.read(channel, await log.start(channel, 'oldest'), { limit: 1_000, maxBytes: 10_000_000 });
  if (result.kind !== 'events') throw new Error(`Expected events, got ${JSON.stringify(result)}`);
  return result.events.map((event) => JSON.parse(event.json) as unknown);
}

function publishSuite(makeLog: () => EventLog): void {
  async function start(onError: (error: unknown) => void = () => {}) {
    const server = await startServer({ log: makeLog(), maxWaitMs: 1_000, authorizePublish: () => true, onError });
    const post = (body: string) => fetch(`${server.url}/poll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { ...server, post };
  }

  it('a body nested 5,000 levels deep (10 KB) is 400 `bad_event`: not retryable, not a log failure, nothing appended', async () => {
    const errors: unknown[] = [];
    const { post, hangtime } = await start((error) => errors.push(error));
    const body = `{"channel":"chat","data":${nestedText(5_000)}}`;
    expect(body.length).toBeLessThan(40_000);
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(response.headers.get('retry-after')).toBeNull();
    const answer = (await response.json()) as { error: { code: string; message: string } };
    expect(answer.error.code).toBe('bad_event');
    expect(answer.error.message).toMatch(/nested deeper than 64 levels/);
    expect(errors).toEqual([]);
    expect(await eventsIn(hangtime.log, 'chat')).toEqual([]);
  });

  it('nesting is counted the same for every size, at the documented limit (64 levels accepted, 65 refused)', async () => {
    const errors: unknown[] = [];
    const { post, poll, hangtime } = await start((error) => errors.push(error));
    const first = (await (await poll('channels=chat&wait=0')).json()) as PollBody;
    // Depths where JSON.stringify may or may not overflow, depending on the stack: all refused alike.
    for (const depth of [65, 1_000, 3_000, 20_000]) {
      const response = await post(`{"channel":"chat","data":${nestedText(depth)}}`);
      expect([depth, response.status]).toEqual([depth, 400]);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('bad_event');
    }
    expect(await eventsIn(hangtime.log, 'chat')).toEqual([]);
    const accepted = await post(JSON.stringify({ channel: 'chat', data: nested(64) }));
    expect(accepted.status).toBe(201);
    const delivered = (await (await poll(`channels=chat&cursor=${first.cursor}`)).json()) as PollBody;
    expect(delivered.events.map((e) => e.data)).toEqual([nested(64)]);
    expect(errors).toEqual([]);
  });

  it('an `Idempotency-Key` makes a retried publish store once and answer the first position', async () => {
    const { url, poll } = await start();
    const first = (await (await poll('channels=chat&wait=0')).json()) as PollBody;
    const publishWith = (key: string, data: unknown) =>
      fetch(`${url}/poll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ channel: 'chat', data }),
      });
    const a = await publishWith('msg-1', 'hello');
    const b = await publishWith('msg-1', 'hello');
    const c = await publishWith('msg-2', 'again');
    expect([a.status, b.status, c.status]).toEqual([201, 201, 201]);
    const [pa, pb, pc] = (await Promise.all([a.json(), b.json(), c.json()])) as Array<{ position: string }>;
    expect(pb!.position).toBe(pa!.position);
    expect(pc!.position).not.toBe(pa!.position);
    const body = (await (await poll(`channels=chat&cursor=${first.cursor}&wait=0`)).json()) as PollBody;
    expect(body.events.map((event) => event.data)).toEqual(['hello', 'again']);
    const bad = await publishWith('not a key', 'x');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('bad_parameter');
  });

  it('brackets inside strings are not nesting', async () => {
    const { post } = await start();
    const data = `${'['.repeat(5_000)} \\"{{{ ${'{'.repeat(100)}`;
    const response = await post(`{"channel":"chat","data":{"text":"${data}","escaped":"\\\\","quote":"\\"["}}`);
    expect(response.status).toBe(201);
  });
}

describe('publishing with the memory log', () => {
  publishSuite(() => memoryLog());
});

describeRedis('publishing with the Redis log', () => {
  publishSuite(() => {
    const prefix = testPrefix();
    const log = redisLog({ url: REDIS_URL, prefix });
    cleanups.push(async () => {
      const admin = adminClient();
      await deletePrefix(admin, prefix);
      admin.disconnect();
    });
    return log;
  });
});

describe('what the log says about an append', () => {
  const post = (url: string) =>
    fetch(`${url}/poll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'chat', data: 1 }),
    });

  it('its TypeError (data it cannot serialise, by the EventLog contract) is 400 `bad_event`, not reported', async () => {
    const base = memoryLog();
    const picky: EventLog = { ...base, append: () => Promise.reject(new TypeError('Expected event data to be JSON-serialisable')) };
    const errors: unknown[] = [];
    const { url } = await startServer({ log: picky, authorizePublish: () => true, onError: (error) => errors.push(error) });
    const response = await post(url);
    expect([response.status, response.headers.get('retry-after')]).toEqual([400, null]);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('bad_event');
    expect(errors).toEqual([]);
  });

  it('an append the log cannot confirm is a 503 with the Idempotency-Key to retry with (it may be stored)', async () => {
    const base = memoryLog();
    const unsure: EventLog = {
      ...base,
      append: (channel) =>
        Promise.reject(new AppendUncertainError('no replica confirmed', { channel, appendId: 'k1234', position: undefined })),
    };
    const errors: unknown[] = [];
    const { url } = await startServer({ log: unsure, authorizePublish: () => true, onError: (error) => errors.push(error) });
    const response = await post(url);
    expect([response.status, response.headers.get('retry-after')]).toEqual([503, '1']);
    const body = (await response.json()) as { error: { code: string; message: string }; idempotencyKey: string };
    expect(body.error.code).toBe('log_unavailable');
    expect(body.error.message).toMatch(/may or may not be stored/);
    expect(body.idempotencyKey).toBe('k1234');
    expect(errors).toHaveLength(1);
  });

  it("any other failure is the log's: 503 `log_unavailable` with Retry-After, reported to onError", async () => {
    const base = memoryLog();
    const down: EventLog = { ...base, append: () => Promise.reject(new Error('connection reset')) };
    const errors: unknown[] = [];
    const { url } = await startServer({ log: down, authorizePublish: () => true, onError: (error) => errors.push(error) });
    const response = await post(url);
    expect([response.status, response.headers.get('retry-after')]).toEqual([503, '1']);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('log_unavailable');
    expect(errors).toHaveLength(1);
  });
});

describe('an authorize hook that returns neither a boolean nor a decision', () => {
  it.each([
    ['undefined (a forgotten `return`)', undefined],
    ['null', null],
    ['a string', 'yes'],
    ['a number', 1],
    ['an object without a 401/403 status', { status: 200 }],
  ])('denies the poll with 403 when it returns %s, and reports one TypeError', async (_, value) => {
    const errors: unknown[] = [];
    const { poll } = await startServer({ authorize: () => value as never, onError: (error) => errors.push(error) });
    for (let i = 0; i < 3; i++) {
      const response = await poll('channels=chat&wait=0');
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    }
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TypeError);
    expect((errors[0] as Error).message).toMatch(/^Expected `authorize` to return true, false or \{ status: 401 \| 403 \}, got /);
  });

  it('denies the publish with 403 (nothing appended) when an async hook forgets its `return`', async () => {
    const errors: unknown[] = [];
    const { url, hangtime } = await startServer({
      // The usual bug: the decision is computed, not returned (TypeScript catches it; JavaScript does not).
      authorizePublish: (async (request: HangtimeRequest) => {
        void (request.headers.get('authorization') !== null);
      }) as never,
      onError: (error) => errors.push(error),
    });
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${url}/poll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer x' },
        body: JSON.stringify({ channel: 'chat', data: 1 }),
      });
      expect(response.status).toBe(403);
    }
    expect(await eventsIn(hangtime.log, 'chat')).toEqual([]);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toMatch(
      /^Expected `authorizePublish` to return true, false or \{ status: 401 \| 403 \}, got undefined/,
    );
  });
});
