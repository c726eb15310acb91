import { describe, expect, it } from 'vitest';
import { memoryLog, type EventLog } from '../../src/index.js';
import { startServer, until, type PollBody } from './support.js';

/** Every status of docs/protocol.md, over real HTTP to a real node:http server on loopback. */

/** The data of every retained event of a channel. */
async function eventsIn(log: EventLog, channel: string): Promise<unknown[]> {
  const result = await log.read(channel, await log.start(channel, 'oldest'), { limit: 1_000, maxBytes: 10_000_000 });
  if (result.kind !== 'events') throw new Error(`Expected events, got ${JSON.stringify(result)}`);
  return result.events.map((event) => JSON.parse(event.json) as unknown);
}

async function expectError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('cache-control')).toBe('no-store');
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  return body;
}

describe('GET: polls', () => {
  it('200 with events at once when events follow the cursor', async () => {
    const { hangtime, poll } = await startServer({ maxWaitMs: 10_000 });
    const first = (await (await poll('channels=chat&wait=0')).json()) as PollBody;
    await hangtime.log.append('chat', { text: 'hi' });
    const started = Date.now();
    const response = await poll(`channels=chat&cursor=${first.cursor}`);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('server-timing')).toMatch(/^hold;dur=[\d.]+;desc="events"$/);
    const body = (await response.json()) as PollBody;
    expect(body.events).toEqual([{ channel: 'chat', position: expect.any(String), data: { text: 'hi' } }]);
    expect(body.more).toBe(false);
    expect(body.cursor).not.toBe(first.cursor);
  });

  it('200 with events when one arrives during the hold', async () => {
    const { hangtime, poll } = await startServer({ maxWaitMs: 20_000 });
    const first = (await (await poll('channels=a,b&wait=0')).json()) as PollBody;
    const pending = poll(`channels=a,b&cursor=${first.cursor}`);
    await until(() => hangtime.stats().waiting === 1);
    await hangtime.log.append('b', 42);
    const response = await pending;
    const body = (await response.json()) as PollBody;
    expect(body.events.map((e) => [e.channel, e.data])).toEqual([['b', 42]]);
    expect(response.headers.get('server-timing')).toContain('desc="events"');
  });

  it('200 empty with the same cursor when the budget runs out', async () => {
    const { poll } = await startServer({ maxWaitMs: 1_000 });
    const first = (await (await poll('channels=chat&wait=0')).json()) as PollBody;
    const started = Date.now();
    const response = await poll(`channels=chat&cursor=${first.cursor}`);
    const elapsed = Date.now() - started;
    // Budget 1000 ms less up to 1/16 jitter; generous upper bound for a loaded machine.
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(4_000);
    expect(response.status).toBe(200);
    expect(response.headers.get('server-timing')).toContain('desc="timeout"');
    expect(await response.json()).toEqual({ events: [], cursor: first.cursor, more: false });
  });

  it('holds no longer than the client asks with `wait` or `Prefer: wait`', async () => {
    const { poll } = await startServer({ maxWaitMs: 20_000 });
    let started = Date.now();
    await (await poll('channels=chat&wait=0.5')).text();
    expect(Date.now() - started).toBeLessThan(4_000);
    started = Date.now();
    await (await poll('channels=chat', { headers: { prefer: 'wait=1' } })).text();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('answers before the adapter deadline, reporting `deadline`', async () => {
    const { poll } = await startServer({ maxWaitMs: 20_000, safetyMarginMs: 500 }, { timeLimitMs: 1_500 });
    const started = Date.now();
    const response = await poll('channels=chat');
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(response.headers.get('server-timing')).toContain('desc="deadline"');
  });

  it('`from=oldest` starts at the oldest retained event, `from=now` after the newest', async () => {
    const { hangtime, poll } = await startServer({ maxWaitMs: 1_000 });
    await hangtime.log.append('chat', 1);
    await hangtime.log.append('chat', 2);
    const oldest = (await (await poll('channels=chat&from=oldest')).json()) as PollBody;
    expect(oldest.events.map((e) => e.data)).toEqual([1, 2]);
    const now = (await (await poll('channels=chat&from=now&wait=0')).json()) as PollBody;
    expect(now.events).toEqual([]);
    await hangtime.log.append('chat', 3);
    const next = (await (await poll(`channels=chat&cursor=${now.cursor}`)).json()) as PollBody;
    expect(next.events.map((e) => e.data)).toEqual([3]);
  });

  it('`limit` and `more` page through a backlog', async () => {
    const { hangtime, poll } = await startServer({ maxWaitMs: 1_000 });
    for (let i = 0; i < 5; i++) await hangtime.log.append('chat', i);
    const page = (await (await poll('channels=chat&from=oldest&limit=2')).json()) as PollBody;
    expect(page.events.map((e) => e.data)).toEqual([0, 1]);
    expect(page.more).toBe(true);
    const rest = (await (await poll(`channels=chat&cursor=${page.cursor}&limit=10`)).json()) as PollBody;
    expect(rest.events.map((e) => e.data)).toEqual([2, 3, 4]);
    expect(rest.more).toBe(false);
  });

  it('410 with gaps and a resuming cursor when history is gone', async () => {
    const { hangtime, poll } = await startServer({ log: memoryLog({ maxEventsPerChannel: 3 }), maxWaitMs: 1_000 });
    const first = (await (await poll('channels=chat,other&wait=0')).json()) as PollBody;
    for (let i = 0; i < 10; i++) await hangtime.log.append('chat', i);
    const response = await poll(`channels=chat,other&cursor=${first.cursor}`);
    const body = (await expectError(response, 410, 'cursor_expired')) as unknown as {
      gaps: Array<{ channel: string; resumeAfter: string; missed: number | null; reason: string }>;
      cursor: string;
    };
    expect(body.gaps).toEqual([{ channel: 'chat', resumeAfter: expect.any(String), missed: 7, reason: 'retention' }]);
    const resumed = (await (await poll(`channels=chat,other&cursor=${body.cursor}`)).json()) as PollBody;
    expect(resumed.events.map((e) => e.data)).toEqual([7, 8, 9]);
  });

  it('410 for a cursor from an earlier life of the log (a restarted server)', async () => {
    const before = await startServer({ maxWaitMs: 1_000 });
    await before.hangtime.log.append('chat', 'old');
    const old = (await (await before.poll('channels=chat&from=oldest')).json()) as PollBody;
    const after = await startServer({ maxWaitMs: 1_000 });
    await after.hangtime.log.append('chat', 'new');
    const response = await after.poll(`channels=chat&cursor=${old.cursor}`);
    const body = (await expectError(response, 410, 'cursor_expired')) as unknown as {
      gaps: Array<{ missed: null; reason: string }>;
      cursor: string;
    };
    expect(body.gaps[0]).toMatchObject({ missed: null, reason: 'reset' });
    const resumed = (await (await after.poll(`channels=chat&cursor=${body.cursor}`)).json()) as PollBody;
    expect(resumed.events.map((e) => e.data)).toEqual(['new']);
  });
});

describe('GET: errors', () => {
  it.each([
    ['', 'missing_channels'],
    ['channels=', 'bad_channel'],
    ['channels=a,,b', 'bad_channel'],
    ['channels=has%20space', 'bad_channel'],
    [`channels=${'x'.repeat(129)}`, 'bad_channel'],
    [`channels=${Array.from({ length: 33 }, (_, i) => `c${i}`).join(',')}`, 'too_many_channels'],
    ['channels=a&cursor=nonsense', 'bad_cursor'],
    [`channels=a&cursor=${'A'.repeat(100_00)}`, 'bad_cursor'],
    ['channels=a&wait=-1', 'bad_parameter'],
    ['channels=a&wait=soon', 'bad_parameter'],
    ['channels=a&limit=0', 'bad_parameter'],
    ['channels=a&limit=101', 'bad_parameter'],
    ['channels=a&from=yesterday', 'bad_parameter'],
    ['channels=a&wait=1&wait=2', 'bad_parameter'],
    ['channels=a&timeout=5', 'unknown_parameter'],
  ])('400 for %j (%s)', async (query, code) => {
    const { poll } = await startServer();
    await expectError(await poll(query), 400, code);
  });

  it('401 and 403 from `authorize`, called once per poll with the channels', async () => {
    const calls: string[][] = [];
    const { poll } = await startServer({
      maxWaitMs: 500,
      authorize: (request, channels) => {
        calls.push([...channels]);
        const token = request.headers.get('authorization');
        if (token === null) return { status: 401, message: 'Sign in', headers: { 'www-authenticate': 'Bearer' } };
        return token === 'Bearer good' && !channels.includes('secret');
      },
    });
    const unauthorized = await poll('channels=chat');
    expect(unauthorized.headers.get('www-authenticate')).toBe('Bearer');
    await expectError(unauthorized, 401, 'unauthorized');
    await expectError(await poll('channels=chat,secret', { headers: { authorization: 'Bearer good' } }), 403, 'forbidden');
    expect((await poll('channels=chat&wait=0', { headers: { authorization: 'Bearer good' } })).status).toBe(200);
    expect(calls).toEqual([['chat'], ['chat', 'secret'], ['chat']]);
  });

  it('405 for other methods, with Allow', async () => {
    const { url } = await startServer();
    for (const method of ['PUT', 'DELETE', 'PATCH', 'POST']) {
      const response = await fetch(`${url}/poll`, { method });
      expect(response.headers.get('allow')).toBe('GET');
      await expectError(response, 405, 'method_not_allowed');
    }
  });

  it('503 with Retry-After when the process holds maxWaiters polls', async () => {
    const { hangtime, poll } = await startServer({ maxWaiters: 2, maxWaitMs: 5_000 });
    const controller = new AbortController();
    const held = [poll('channels=a', { signal: controller.signal }), poll('channels=b', { signal: controller.signal })];
    await until(() => hangtime.stats().waiting === 2);
    const response = await poll('channels=c');
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await expectError(response, 503, 'too_many_waiters');
    controller.abort();
    await Promise.allSettled(held);
  });

  it('503 with Retry-After when the log does not answer in time, never past the deadline', async () => {
    const base = memoryLog();
    const hanging: EventLog = { ...base, read: () => new Promise(() => {}) };
    // An event to read: the hold reads only once the log says one follows the cursor.
    await base.append('a', 'waiting to be read');
    const errors: unknown[] = [];
    const { poll } = await startServer(
      { log: hanging, maxWaitMs: 20_000, safetyMarginMs: 1_000, onError: (e) => errors.push(e) },
      { timeLimitMs: 3_000 },
    );
    const started = Date.now();
    const response = await poll('channels=a&from=oldest');
    // Reads give up half the margin before the deadline (2.5 s), leaving time to answer.
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(response.headers.get('retry-after')).toBe('1');
    await expectError(response, 503, 'log_unavailable');
    expect(errors).toHaveLength(1);
  });

  it('503 `log_unavailable` when the log fails, and the next poll works again', async () => {
    const base = memoryLog();
    let failing = true;
    const flaky: EventLog = {
      ...base,
      read: (...args) => (failing ? Promise.reject(new Error('connection reset')) : base.read(...args)),
    };
    const errors: unknown[] = [];
    await base.append('a', 'waiting to be read');
    const { poll } = await startServer({ log: flaky, maxWaitMs: 500, onError: (e) => errors.push(e) });
    await expectError(await poll('channels=a&from=oldest'), 503, 'log_unavailable');
    expect((errors[0] as Error).cause).toMatchObject({ message: 'connection reset' });
    failing = false;
    expect((await poll('channels=a&wait=0')).status).toBe(200);
  });

  it('503 in time when `start` hangs for a new reader, and the waiter slot is freed', async () => {
    const base = memoryLog();
    // A copy that replaces `start` drops `startKnown`, which would answer for it (src/log.ts).
    const hanging: EventLog = { ...base, start: () => new Promise(() => {}), startKnown: undefined };
    const { hangtime, poll } = await startServer({ log: hanging, maxWaitMs: 20_000, safetyMarginMs: 1_000 }, { timeLimitMs: 3_000 });
    const started = Date.now();
    await expectError(await poll('channels=a'), 503, 'log_unavailable');
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(hangtime.stats().waiting).toBe(0);
  });

  it('500 `internal` without details when a hook throws, reported to onError', async () => {
    const errors: unknown[] = [];
    const { poll } = await startServer({
      authorize: () => {
        throw new Error('database password is hunter2');
      },
      onError: (error) => errors.push(error),
    });
    const body = await expectError(await poll('channels=a'), 500, 'internal');
    expect(body.error.message).not.toContain('hunter2');
    expect(errors).toHaveLength(1);
  });
});

describe('POST: publishing', () => {
  const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

  it('201 with the position, and pollers get the event', async () => {
    const { url, poll } = await startServer({ maxWaitMs: 1_000, authorizePublish: () => true });
    const first = (await (await poll('channels=chat&wait=0')).json()) as PollBody;
    const response = await fetch(`${url}/poll`, json({ channel: 'chat', data: { text: 'hi' } }));
    expect(response.status).toBe(201);
    const published = (await response.json()) as { channel: string; position: string };
    expect(published.channel).toBe('chat');
    const body = (await (await poll(`channels=chat&cursor=${first.cursor}`)).json()) as PollBody;
    expect(body.events).toEqual([{ channel: 'chat', position: published.position, data: { text: 'hi' } }]);
  });

  it('401/403 from `authorizePublish`, and nothing is appended', async () => {
    const { url, hangtime } = await startServer({
      authorizePublish: (request, channel) => (request.headers.get('authorization') === null ? { status: 401 } : channel !== 'readonly'),
    });
    await expectError(await fetch(`${url}/p`, json({ channel: 'chat', data: 1 })), 401, 'unauthorized');
    await expectError(await fetch(`${url}/p`, json({ channel: 'readonly', data: 1 }, { authorization: 'x' })), 403, 'forbidden');
    expect(await eventsIn(hangtime.log, 'chat')).toEqual([]);
    expect(await eventsIn(hangtime.log, 'readonly')).toEqual([]);
  });

  it.each([
    ['not json', 'bad_parameter'],
    ['[1,2]', 'bad_parameter'],
    [JSON.stringify({ channel: 'bad channel', data: 1 }), 'bad_channel'],
    [JSON.stringify({ channel: 'chat' }), 'bad_parameter'],
    [JSON.stringify({ channel: 'chat', data: 1, extra: true }), 'unknown_parameter'],
  ])('400 for body %j (%s), and nothing is appended', async (body, code) => {
    const { url, hangtime } = await startServer({ authorizePublish: () => true });
    await expectError(await fetch(`${url}/p`, json(body)), 400, code);
    expect(await eventsIn(hangtime.log, 'chat')).toEqual([]);
  });

  it.each([['channel=chat'], ['channels=chat'], ['wait=0'], ['idempotency-key=k1'], ['x']])(
    '400 `unknown_parameter` for the query %j (a publish takes none, as a poll takes none it does not define), and nothing is appended',
    async (query) => {
      const { url, hangtime } = await startServer({ authorizePublish: () => true });
      const body = await expectError(await fetch(`${url}/p?${query}`, json({ channel: 'chat', data: 1 })), 400, 'unknown_parameter');
      expect(body.error.message).toBe(`Unknown parameter \`${query.split('=')[0]}\``);
      expect(await eventsIn(hangtime.log, 'chat')).toEqual([]);
    },
  );

  it('413 for an event over maxEventBytes, 415 for a non-JSON body', async () => {
    const { url } = await startServer({ log: memoryLog({ maxEventBytes: 100 }), maxResponseBytes: 20_000, authorizePublish: () => true });
    await expectError(await fetch(`${url}/p`, json({ channel: 'chat', data: 'x'.repeat(200) })), 413, 'payload_too_large');
    await expectError(await fetch(`${url}/p`, json({ channel: 'chat', data: 'x'.repeat(5_000) })), 413, 'payload_too_large');
    await expectError(
      await fetch(`${url}/p`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' }),
      415,
      'unsupported_media_type',
    );
  });
});

describe('CORS', () => {
  it('204 preflight and allow-origin headers for allowed origins only', async () => {
    const { url, poll } = await startServer({ cors: { origin: ['https://app.example'] }, maxWaitMs: 500 });
    const preflight = await fetch(`${url}/poll`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization');
    const allowed = await poll('channels=a&wait=0', { headers: { origin: 'https://app.example' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await poll('channels=a&wait=0', { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // A held poll woken by an event, and an error, carry them too (the page must read both).
    const { hangtime, poll: pollHeld } = await startServer({ cors: { origin: ['https://app.example'] }, maxWaitMs: 20_000 });
    const held = pollHeld('channels=a', { headers: { origin: 'https://app.example' } });
    await until(() => hangtime.stats().waiting === 1);
    await hangtime.log.append('a', 'hello');
    const woken = await held;
    expect([woken.status, woken.headers.get('access-control-allow-origin')]).toEqual([200, 'https://app.example']);
    const bad = await pollHeld('channels=a&bogus=1', { headers: { origin: 'https://app.example' } });
    expect([bad.status, bad.headers.get('access-control-allow-origin')]).toEqual([400, 'https://app.example']);
  });

  it('sends no CORS headers and 405s OPTIONS when not configured', async () => {
    const { url, poll } = await startServer();
    expect(
      (await poll('channels=a&wait=0', { headers: { origin: 'https://app.example' } })).headers.get('access-control-allow-origin'),
    ).toBeNull();
    await expectError(await fetch(`${url}/poll`, { method: 'OPTIONS' }), 405, 'method_not_allowed');
  });

  it('an answer Node cannot write (a bad header from authorize) resets that connection; the server goes on', async () => {
    let bad = true;
    const { poll } = await startServer({
      authorize: () => (bad ? { status: 401, headers: { 'www-authenticate': 'Bearer\nbroken' } } : true),
    });
    await expect(poll('channels=a&wait=0')).rejects.toThrow();
    bad = false;
    expect((await poll('channels=a&wait=0')).status).toBe(200);
  });
});
