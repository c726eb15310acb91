import { expect, it } from 'vitest';
import { memoryLog } from '../../src/index.js';
import { describePushpin } from '../support/pushpin.js';
import { get, gripSetup, sleep, uniqueChannel, until, useHangtime } from './support.js';

// Real Pushpin in front of a real hangtime origin on loopback (test/support/pushpin.ts).
describePushpin('GRIP: polls held by Pushpin', () => {
  const setup = gripSetup();

  /** A Grip-Sig Pushpin really sent (to replay it to the origin directly). */
  async function realSignature(channel: string): Promise<string> {
    const hangtime = setup.hangtime;
    await get(setup.pushpin.url, `channels=${channel}&wait=0`);
    const proxied = setup.requests.find((request) => request.proxied);
    expect(proxied, 'Pushpin signs what it proxies').toBeDefined();
    setup.requests.length = 0;
    expect(setup.hangtime).toBe(hangtime);
    return proxied!.headers['grip-sig'] as string;
  }

  it('answers a verified empty poll at once with hold instructions; direct and unverifiable requests are held in the function', async () => {
    const a = uniqueChannel('a');
    const b = uniqueChannel('b');
    const hangtime = useHangtime(setup, { maxWaitMs: 5_000 });
    await hangtime.log.append(a, 'before');
    const signature = await realSignature(a);
    const start = await get(setup.originUrl, `channels=${a}&wait=0`);

    const delegated = await get(setup.originUrl, `channels=${a}&cursor=${start.body.cursor}&wait=10`, {
      headers: { 'grip-sig': signature },
    });
    expect(delegated.status).toBe(200);
    expect(delegated.headers.get('grip-hold')).toBe('response');
    const [channelEntry] = delegated.headers.get('grip-channel')!.split(', ');
    // prev-id: the position the cursor holds, the channel's newest event.
    const newest = (await hangtime.wait({ channels: [a], from: { last: 1 }, waitMs: 0 })).events[0]!.position;
    expect(channelEntry).toBe(`${a}; prev-id=${newest}`);
    // 10 s asked, jitter of up to 1/16 down: 9 or 10.
    expect(Number(delegated.headers.get('grip-timeout'))).toBeGreaterThanOrEqual(9);
    expect(Number(delegated.headers.get('grip-timeout'))).toBeLessThanOrEqual(10);
    // The body is the normal empty answer, with the same cursor: what the proxy sends at timeout.
    expect(delegated.body).toEqual({ events: [], cursor: start.body.cursor, more: false });
    expect(delegated.ms).toBeLessThan(1_000);
    expect(hangtime.stats().waiting).toBe(0);

    // Several channels: hint channels, one per channel, each at its own position.
    const both = await get(setup.originUrl, `channels=${a},${b}&wait=100`, { headers: { 'grip-sig': signature } });
    const entries = both.headers.get('grip-channel')!.split(', ');
    expect(entries.map((entry) => entry.split(';')[0])).toEqual([`~${a}`, `~${b}`]);
    // Capped by the proxy-side maximum (55 s by default).
    expect(Number(both.headers.get('grip-timeout'))).toBeLessThanOrEqual(55);
    expect(Number(both.headers.get('grip-timeout'))).toBeGreaterThanOrEqual(51);

    // Direct (no signature) and forged (wrong key): held in the function, no instructions.
    for (const headers of [{}, { 'grip-sig': `${signature.slice(0, -4)}AAAA` }] as Array<Record<string, string>>) {
      const held = await get(setup.originUrl, `channels=${a}&cursor=${start.body.cursor}&wait=1`, { headers });
      expect(held.headers.get('grip-hold')).toBeNull();
      expect(held.ms).toBeGreaterThanOrEqual(800);
    }
    // A poll with events answers them at once, without instructions.
    const withEvents = await get(setup.originUrl, `channels=${a}&from=oldest&wait=10`, { headers: { 'grip-sig': signature } });
    expect(withEvents.headers.get('grip-hold')).toBeNull();
    expect(withEvents.body.events.map((event) => event.data)).toEqual(['before']);
  });

  it('through Pushpin: a waiting client costs the origin one request and no held poll; an append is delivered as the published answer', async () => {
    const channel = uniqueChannel('c');
    const hangtime = useHangtime(setup);
    const start = await get(setup.pushpin.url, `channels=${channel}&wait=0`);
    await hangtime.log.append(channel, 'first');
    const first = await get(setup.pushpin.url, `channels=${channel}&cursor=${start.body.cursor}&wait=20`);
    expect(first.body.events.map((event) => event.data)).toEqual(['first']);
    setup.requests.length = 0;

    const waiting = get(setup.pushpin.url, `channels=${channel}&cursor=${first.body.cursor}&wait=20`);
    await until(() => setup.requests.some((request) => request.gripHold === 'response'), 5_000, 'the hold');
    await sleep(300);
    // Held by Pushpin: not by the function, and the origin was asked once.
    expect(hangtime.stats().waiting).toBe(0);
    expect(setup.requests).toHaveLength(1);
    const position = await hangtime.log.append(channel, { n: 2 });
    const answer = await waiting;
    expect(answer.status).toBe(200);
    expect(answer.body.events).toEqual([{ channel, position, data: { n: 2 } }]);
    expect(answer.ms).toBeLessThan(5_000);
    // The published answer: the origin was not asked again (single-channel polls).
    expect(setup.requests).toHaveLength(1);
    // Its cursor is the origin's own: the next poll reads nothing twice.
    const next = await get(setup.pushpin.url, `channels=${channel}&cursor=${answer.body.cursor}&wait=0`);
    expect(next.body.events).toEqual([]);
    expect(next.body.cursor).toBe(answer.body.cursor);
  });

  it('the proxy answers at the hold timeout with the empty answer and the same cursor', async () => {
    const channel = uniqueChannel('t');
    useHangtime(setup);
    const start = await get(setup.pushpin.url, `channels=${channel}&wait=0`);
    setup.requests.length = 0;
    const answer = await get(setup.pushpin.url, `channels=${channel}&cursor=${start.body.cursor}&wait=5`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ events: [], cursor: start.body.cursor, more: false });
    expect(answer.ms).toBeGreaterThanOrEqual(4_000);
    expect(answer.ms).toBeLessThan(9_000);
    // The hold, and at most one more: Pushpin asks the origin again (with `Grip-Last`) about a
    // second after it subscribes to a channel no one held before, in case a publish was missed
    // meanwhile (once per channel subscription, not per client: see the many-clients test).
    expect(setup.requests.length).toBeGreaterThanOrEqual(1);
    expect(setup.requests.length).toBeLessThanOrEqual(2);
    for (const request of setup.requests) expect(request.gripHold).toBe('response');
    // Shorter than Pushpin's shortest hold (5 s): held in the function, answered in time.
    setup.requests.length = 0;
    const short = await get(setup.pushpin.url, `channels=${channel}&cursor=${start.body.cursor}&wait=1`);
    expect(short.ms).toBeLessThan(3_000);
    expect(setup.requests[0]!.gripHold).toBeUndefined();
  });

  it('a poll of several channels is woken by a hint and answered by the origin from its own cursor', async () => {
    const a = uniqueChannel('a');
    const b = uniqueChannel('b');
    const hangtime = useHangtime(setup);
    const start = await get(setup.pushpin.url, `channels=${a},${b}&wait=0`);
    setup.requests.length = 0;
    const waiting = get(setup.pushpin.url, `channels=${a},${b}&cursor=${start.body.cursor}&wait=20`);
    await until(() => setup.requests.some((request) => request.gripHold === 'response'), 5_000, 'the hold');
    const position = await hangtime.log.append(b, 'on b');
    const answer = await waiting;
    expect(answer.body.events).toEqual([{ channel: b, position, data: 'on b' }]);
    expect(answer.ms).toBeLessThan(5_000);
    // The hold, then the hint's request.
    expect(setup.requests.filter((request) => request.proxied)).toHaveLength(2);
    const next = await get(setup.originUrl, `channels=${a},${b}&cursor=${answer.body.cursor}&wait=0`);
    expect(next.body.events).toEqual([]);
  });

  it('POST publishing through the proxy publishes too, and a poll the authorize hook denies is never held', async () => {
    const channel = uniqueChannel('p');
    useHangtime(setup, {
      authorizePublish: () => true,
      authorize: (request) => request.headers.get('authorization') === 'Bearer ok',
    });
    const headers = { authorization: 'Bearer ok' };
    const denied = await get(setup.pushpin.url, `channels=${channel}&wait=20`);
    expect(denied.status).toBe(403);
    expect(denied.ms).toBeLessThan(3_000);
    const start = await get(setup.pushpin.url, `channels=${channel}&wait=0`, { headers });
    const waiting = get(setup.pushpin.url, `channels=${channel}&cursor=${start.body.cursor}&wait=20`, { headers });
    await until(() => setup.requests.some((request) => request.gripHold === 'response'), 5_000, 'the hold');
    const published = await fetch(`${setup.pushpin.url}/poll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel, data: 'posted' }),
    });
    expect(published.status).toBe(201);
    const answer = await waiting;
    expect(answer.body.events.map((event) => event.data)).toEqual(['posted']);
  });

  it('a gap is a 410 through the proxy, never a hold', async () => {
    const channel = uniqueChannel('g');
    const hangtime = useHangtime(setup, { log: memoryLog({ maxEventsPerChannel: 2 }) });
    const start = await get(setup.pushpin.url, `channels=${channel}&wait=0`);
    await hangtime.log.append(channel, 1);
    await hangtime.log.append(channel, 2);
    const behind = (await get(setup.pushpin.url, `channels=${channel}&cursor=${start.body.cursor}&wait=0`)).body.cursor;
    for (let i = 3; i <= 6; i++) await hangtime.log.append(channel, i);
    const gap = await get(setup.pushpin.url, `channels=${channel}&cursor=${behind}&wait=20`);
    expect(gap.status).toBe(410);
    expect(gap.body.error?.code).toBe('cursor_expired');
    expect(gap.ms).toBeLessThan(3_000);
    // A cursor of a log that restarted (another generation): a reset gap, also at once.
    const other = useHangtime(setup);
    const reset = await get(setup.pushpin.url, `channels=${channel}&cursor=${gap.body.cursor}&wait=20`);
    expect(reset.status).toBe(410);
    expect(other.stats().waiting).toBe(0);
  });
});
