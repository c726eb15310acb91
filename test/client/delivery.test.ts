// The main paths of the client against the real handler on a real `node:http` server:
// events arrive in order, exactly once, across timeouts, gateway errors, restarts and gaps.
import { describe, expect, it } from 'vitest';
import { subscribe, type Gap, type HangtimeClientError, type HangtimeEvent, type Status } from '../../src/client/index.js';
import { expectedByChannel, numbersByChannel, onCleanup, publishSpread, sleep, startProxy, startServer, until } from './support.js';

type N = { n: number };

/** Subscribe and record everything the app would see. */
function record(url: string, options: Partial<Parameters<typeof subscribe<N>>[1]> = {}) {
  const events: Array<HangtimeEvent<N>> = [];
  const errors: HangtimeClientError[] = [];
  const statuses: Array<Status['state']> = [];
  const gaps: Array<readonly Gap[]> = [];
  const subscription = subscribe<N>(url, {
    channels: ['a', 'b'],
    backoffMs: 20,
    maxBackoffMs: 200,
    onEvents: (batch) => {
      events.push(...batch);
    },
    onError: (error) => errors.push(error),
    onStatus: (status) => statuses.push(status.state),
    onGap: (g) => {
      gaps.push(g);
    },
    ...options,
  });
  onCleanup(() => subscription.close());
  return { subscription, events, errors, statuses, gaps };
}

/** A server and a live subscriber that has received one event (`n: 0` on `a`). */
async function afterFirstEvent(options: Parameters<typeof record>[1] = {}) {
  const server = await startServer();
  const app = record(server.url, options);
  await until(() => app.subscription.status.state === 'live', 10_000, 'first answer');
  await server.log.append('a', { n: 0 });
  await until(() => app.events.length === 1);
  return { server, app };
}

describe('subscribe() against a real server', () => {
  it('delivers in order, exactly once, across many server-side timeouts', async () => {
    // Holds of ~150 ms: the 3 s of publishing cross many empty answers.
    const server = await startServer({ maxWaitMs: 150, minHoldMs: 20 });
    const app = record(server.url);
    await until(() => app.subscription.status.state === 'live', 10_000, 'first answer');
    await publishSpread(server.log, ['a', 'b'], 150, 3_000);
    await until(() => app.events.length >= 150, 15_000, 'all events');
    await sleep(300);
    expect(numbersByChannel(app.events)).toEqual(expectedByChannel(['a', 'b'], 150));
    expect(app.errors).toEqual([]);
  });

  it.each(['before', 'after'] as const)(
    'retries 502/503/504 from a gateway (%s the function ran) with the same cursor: nothing lost or repeated',
    async (when) => {
      const server = await startServer({ maxWaitMs: 300, minHoldMs: 20 });
      const statuses = [502, 503, 504];
      // Every third request fails; `after` means the server answered (maybe with events) and
      // the gateway replaced the answer: the client must ask again from the same cursor.
      const proxy = await startProxy(server.url, (_req, i) =>
        i % 3 === 2 ? { status: statuses[i % 9 === 2 ? 0 : i % 9 === 5 ? 1 : 2]!, when } : 'forward',
      );
      const app = record(proxy.url, { backoffMs: 5, maxBackoffMs: 40 });
      await until(() => app.subscription.status.state === 'live', 10_000, 'first answer');
      await publishSpread(server.log, ['a', 'b'], 120, 2_500);
      await until(() => app.events.length >= 120, 20_000, 'all events');
      await sleep(300);
      expect(numbersByChannel(app.events)).toEqual(expectedByChannel(['a', 'b'], 120));
      const seen = new Set(app.errors.map((e) => e.status));
      expect(seen).toEqual(new Set([502, 503, 504]));
      expect(app.errors.every((e) => e.willRetry && e.code === 'http')).toBe(true);
      // Every retried request carried the cursor the failed one carried.
      const cursors = proxy.requests.map((path) => new URL(path, 'http://x').searchParams.get('cursor'));
      for (let i = 2; i < cursors.length - 1; i += 3) expect(cursors[i + 1]).toBe(cursors[i]);
    },
  );

  it('recovers from a server restart (same log): events published while it was down arrive', async () => {
    const { server, app } = await afterFirstEvent();
    await server.stop();
    await until(() => app.subscription.status.state === 'retrying', 10_000, 'retrying');
    await server.log.append('a', { n: 1 });
    await server.log.append('b', { n: 2 });
    await server.restart();
    await until(() => app.events.length === 3, 15_000, 'events after restart');
    expect(app.events.map((e) => e.data.n)).toEqual([0, 1, 2]);
    expect(app.errors.length).toBeGreaterThan(0);
    expect(app.errors.every((e) => e.code === 'network' && e.willRetry)).toBe(true);
    await until(() => app.subscription.status.state === 'live');
  });

  it('tells the app about the gap when a memory-log server restarts, then resumes', async () => {
    const { server, app } = await afterFirstEvent();
    await server.restart({ freshLog: true });
    // History is gone; the client's cursor names the old generation: a 410, then resume.
    await until(() => app.gaps.length === 1, 15_000, 'the gap');
    expect(app.gaps[0]!.map((gap) => gap.channel)).toContain('a');
    await until(() => app.subscription.status.state === 'live');
    await sleep(100);
    await server.log.append('a', { n: 1 });
    await server.log.append('b', { n: 2 });
    await until(() => app.events.length === 3, 15_000, 'events after the gap');
    expect(app.events.map((e) => e.data.n)).toEqual([0, 1, 2]);
  });

  it('reports a gap from retention with what was missed, and resumes from the oldest retained event', async () => {
    const { memoryLog } = await import('../../src/index.js');
    const server = await startServer({ log: memoryLog({ maxEventsPerChannel: 5 }) });
    const first = record(server.url, { channels: ['a'] });
    await until(() => first.subscription.cursor !== undefined, 10_000, 'a cursor');
    const cursor = first.subscription.cursor!;
    first.subscription.close();
    for (let n = 0; n < 12; n++) await server.log.append('a', { n });
    const later = record(server.url, { channels: ['a'], cursor });
    await until(() => later.events.length === 5, 10_000, 'retained events');
    expect(later.gaps).toEqual([[{ channel: 'a', resumeAfter: expect.any(String), missed: 7, reason: 'retention' }]]);
    expect(later.events.map((e) => e.data.n)).toEqual([7, 8, 9, 10, 11]);
  });

  it('without onGap, reports the gap through onError (never silently) and resumes', async () => {
    const { memoryLog } = await import('../../src/index.js');
    const server = await startServer({ log: memoryLog({ maxEventsPerChannel: 2 }) });
    await server.log.append('a', { n: 0 });
    const head = await server.log.start('a', 'now');
    for (let n = 1; n < 6; n++) await server.log.append('a', { n });
    const { encodeCursor } = await import('../../src/cursor.js');
    const errors: HangtimeClientError[] = [];
    const events: number[] = [];
    const subscription = subscribe<N>(server.url, {
      channels: ['a'],
      cursor: encodeCursor(new Map([['a', head]])),
      onEvents: (batch) => void events.push(...batch.map((e) => e.data.n)),
      onError: (error) => errors.push(error),
    });
    onCleanup(() => subscription.close());
    await until(() => events.length === 2);
    expect(errors.map((e) => [e.code, e.status, e.willRetry])).toEqual([['cursor_expired', 410, true]]);
    expect((errors[0]!.cause as Gap[])[0]).toMatchObject({ channel: 'a', missed: 3 });
    expect(events).toEqual([4, 5]);
  });

  describe('a gap says why (`reason`) where the server does, and works without it (older servers)', () => {
    /** A `fetch` that edits each gap of a 410 answer: the server of this branch, older or newer. */
    const editGaps =
      (edit: (gap: Record<string, unknown>) => void) =>
      async (input: string, init: RequestInit): Promise<Response> => {
        const answer = await fetch(input, init);
        if (answer.status !== 410) return answer;
        const body = (await answer.json()) as { gaps: Array<Record<string, unknown>> };
        body.gaps.forEach(edit);
        return new Response(JSON.stringify(body), { status: 410, headers: answer.headers });
      };

    type Edit = (gap: Record<string, unknown>) => void;
    const cases: Array<[string, Edit, Record<string, string>]> = [
      ['reset', (gap) => void (gap.reason = 'reset'), { reason: 'reset' }],
      ['absent', (gap) => void delete gap.reason, {}],
    ];
    it.each(cases)('reason %s: onGap gets the gap as the server sent it, then the loop resumes', async (_name, edit, extra) => {
      const { server, app } = await afterFirstEvent({ fetch: editGaps(edit) });
      await server.restart({ freshLog: true });
      await until(() => app.gaps.length === 1, 15_000, 'the gap');
      // A restarted memory log cannot tell what was missed: `null`, never a guess.
      expect(app.gaps[0]).toContainEqual({ channel: 'a', resumeAfter: expect.any(String), missed: null, ...extra });
      expect('reason' in app.gaps[0]![0]!).toBe('reason' in extra);
      await until(() => app.subscription.status.state === 'live');
      await server.log.append('a', { n: 1 });
      await until(() => app.events.length === 2, 15_000, 'an event after the gap');
    });

    it("without onGap, the error carries the gaps with their reason and the server's message", async () => {
      const { memoryLog } = await import('../../src/index.js');
      const server = await startServer({ log: memoryLog({ maxEventsPerChannel: 2 }) });
      await server.log.append('a', { n: 0 });
      const head = await server.log.start('a', 'now');
      for (let n = 1; n < 6; n++) await server.log.append('a', { n });
      const { encodeCursor } = await import('../../src/cursor.js');
      const errors: HangtimeClientError[] = [];
      const subscription = subscribe<N>(server.url, {
        channels: ['a'],
        cursor: encodeCursor(new Map([['a', head]])),
        fetch: editGaps((gap) => void (gap.reason = 'retention')),
        onEvents: () => {},
        onError: (error) => errors.push(error),
      });
      onCleanup(() => subscription.close());
      await until(() => errors.length === 1);
      expect(errors[0]).toMatchObject({ code: 'cursor_expired', status: 410, willRetry: true, message: expect.stringContaining('"a"') });
      expect(errors[0]!.cause).toEqual([{ channel: 'a', resumeAfter: expect.any(String), missed: 3, reason: 'retention' }]);
    });
  });

  it('stops when onGap returns false, leaving the cursor before the gap', async () => {
    const seenGaps: Array<readonly Gap[]> = [];
    const { server, app } = await afterFirstEvent({ onGap: (gaps) => (seenGaps.push(gaps), false) });
    const before = app.subscription.cursor;
    await server.restart({ freshLog: true });
    await app.subscription.done;
    expect(app.subscription.status.state).toBe('closed');
    expect(app.subscription.cursor).toBe(before);
    expect(seenGaps).toHaveLength(1);
    // The restart cut the held poll (a network error, retried); nothing else went wrong.
    expect(app.errors.every((e) => e.code === 'network')).toBe(true);
  });
});
