import { createServer } from 'node:http';
import { expect, it } from 'vitest';
import { subscribe } from '../../src/client/index.js';
import { describePushpin, freePorts } from '../support/pushpin.js';
import { get, gripSetup, onCleanup, sleep, uniqueChannel, until, useHangtime } from './support.js';

// Races, fan-out and failures, against a real Pushpin (test/support/pushpin.ts).
describePushpin('GRIP: races and failures', () => {
  const setup = gripSetup();

  /** Hold one poll on `channel` to its timeout, so that Pushpin has subscribed to the channel
   * (and had its first look at it): later holds are saved by publishes only. */
  async function holdOnce(channel: string): Promise<string> {
    const start = (await get(setup.pushpin.url, `channels=${channel}&wait=0`)).body.cursor;
    const held = await get(setup.pushpin.url, `channels=${channel}&cursor=${start}&wait=5`);
    expect(held.body.events).toEqual([]);
    setup.requests.length = 0;
    return held.body.cursor;
  }

  it('an append published before Pushpin takes the hold (or just after) is delivered at once, not at the hold timeout', async () => {
    const channel = uniqueChannel('race');
    const hangtime = useHangtime(setup);
    // After the first hold, Pushpin keeps the channel subscribed (`subscription_linger`, 60 s):
    // what saves the later polls is the prev-id check, not its first look at a new channel.
    let cursor = (await get(setup.pushpin.url, `channels=${channel}&wait=0`)).body.cursor;
    const received: unknown[] = [];
    // Appends timed around the hold instruction: before the answer leaves the origin (the
    // publish reaches Pushpin before the hold does), and 0 to 40 ms after.
    const delays = [-1, -1, 0, 5, 10, 20, 40, -1, 0, 15];
    for (const [i, delay] of delays.entries()) {
      setup.beforeAnswer = async (answer) => {
        if (answer.headers['grip-hold'] === undefined) return;
        setup.beforeAnswer = undefined;
        if (delay < 0) await hangtime.log.append(channel, i);
        else setTimeout(() => void hangtime.log.append(channel, i), delay);
      };
      const answer = await get(setup.pushpin.url, `channels=${channel}&cursor=${cursor}&wait=30`);
      expect(answer.status).toBe(200);
      // Far below the hold timeout (30 s): the event came with the publish or the re-ask.
      expect(answer.ms, `append ${i} (${delay} ms)`).toBeLessThan(8_000);
      received.push(...answer.body.events.map((event) => event.data));
      cursor = answer.body.cursor;
      // The append may come after the answer when it was scheduled late: catch up first.
      while (received.length < i + 1) {
        const next = await get(setup.pushpin.url, `channels=${channel}&cursor=${cursor}&wait=30`);
        expect(next.ms).toBeLessThan(8_000);
        received.push(...next.body.events.map((event) => event.data));
        cursor = next.body.cursor;
      }
    }
    expect(received).toEqual(delays.map((_, i) => i));
  });

  it('a multi-channel poll: an append published before Pushpin takes the hold is not missed either', async () => {
    const a = uniqueChannel('ra');
    const b = uniqueChannel('rb');
    const hangtime = useHangtime(setup);
    await hangtime.log.append(a, 'seed');
    let cursor = (await get(setup.pushpin.url, `channels=${a},${b}&from=oldest&wait=0`)).body.cursor;
    const received: unknown[] = [];
    for (const [i, channel] of [a, b, a, b].entries()) {
      setup.beforeAnswer = async (answer) => {
        if (answer.headers['grip-hold'] === undefined) return;
        setup.beforeAnswer = undefined;
        await hangtime.log.append(channel, i);
      };
      const answer = await get(setup.pushpin.url, `channels=${a},${b}&cursor=${cursor}&wait=30`);
      expect(answer.ms, `append ${i}`).toBeLessThan(8_000);
      received.push(...answer.body.events.map((event) => event.data));
      cursor = answer.body.cursor;
    }
    expect(received).toEqual([0, 1, 2, 3]);
  });

  it('many clients on one channel each get every event once, in order; the origin runs once per client per event', async () => {
    const channel = uniqueChannel('many');
    const hangtime = useHangtime(setup);
    const clients = 60;
    const events = 4;
    // A channel's first event has no event before it (readers hold a stamp): it is published as
    // a hint, and each held client's poll asks the origin again. Measured from the second on.
    await hangtime.log.append(channel, 'first');
    const start = (await get(setup.pushpin.url, `channels=${channel}&wait=0`)).body.cursor;
    const got: unknown[][] = Array.from({ length: clients }, () => []);
    const loops = got.map(async (list) => {
      let cursor = start;
      while (list.length < events) {
        const answer = await get(setup.pushpin.url, `channels=${channel}&cursor=${cursor}&wait=30`);
        list.push(...answer.body.events.map((event) => event.data));
        cursor = answer.body.cursor;
      }
    });
    // Pushpin asks the origin again (with `Grip-Last`) about the polls it holds when it first
    // subscribes to a channel, about a second later: let that pass, then count.
    await until(() => setup.requests.filter((request) => request.gripHold === 'response').length >= clients, 15_000, 'the first holds');
    await sleep(2_000);
    setup.requests.length = 0;
    for (let n = 0; n < events; n++) {
      if (n > 0) {
        // Every client held again before the next append.
        await until(
          () => setup.requests.filter((request) => request.gripHold === 'response').length >= clients * n,
          15_000,
          `holds before append ${n}`,
        );
      }
      await sleep(200);
      expect(hangtime.stats().waiting).toBe(0);
      await hangtime.log.append(channel, n);
    }
    await Promise.all(loops);
    for (const list of got) expect(list).toEqual([0, 1, 2, 3]);
    // Exactly one origin request per client per event (its re-poll, held again; none after the
    // last, where the loops stop): the answers themselves were published, and Pushpin asked
    // nothing again.
    const proxied = setup.requests.filter((request) => request.proxied);
    expect(proxied.filter((request) => request.headers['grip-last'] !== undefined)).toEqual([]);
    expect(proxied.length).toBe(clients * (events - 1));
  });

  it('hangtime/client works unchanged through Pushpin, and across a Pushpin restart mid-hold loses nothing', async () => {
    const channel = uniqueChannel('client');
    const hangtime = useHangtime(setup);
    const received: unknown[] = [];
    const subscription = subscribe(`${setup.pushpin.url}/poll`, {
      channels: [channel],
      waitMs: 20_000,
      backoffMs: 200,
      maxBackoffMs: 1_000,
      onEvents: (batch) => void received.push(...batch.map((event) => event.data)),
      onError: () => {},
    });
    onCleanup(() => subscription.close());
    await until(() => setup.requests.some((request) => request.gripHold === 'response'), 10_000, 'the first hold');
    await hangtime.log.append(channel, 1);
    await until(() => received.length === 1, 10_000, 'event 1');

    await until(() => setup.requests.filter((request) => request.gripHold === 'response').length >= 2, 10_000, 'the hold after event 1');
    const restarted = setup.pushpin.restart();
    // Appended while Pushpin is down: the publish fails (reported), the log keeps the event.
    await sleep(100);
    await hangtime.log.append(channel, 2);
    await restarted;
    await hangtime.log.append(channel, 3);
    await until(() => received.length >= 3, 20_000, 'events 2 and 3 after the restart');
    await sleep(300);
    expect(received).toEqual([1, 2, 3]);
  });

  it('with the publish endpoint down, appends succeed and a held client gets the event at its hold timeout', async () => {
    const channel = uniqueChannel('down');
    const [closedPort] = await freePorts(1);
    const errors: unknown[] = [];
    const hangtime = useHangtime(
      setup,
      {},
      { url: `http://127.0.0.1:${closedPort}/?verify-key=${setup.pushpin.sigKey}`, onError: (error) => errors.push(error) },
    );
    const cursor = await holdOnce(channel);
    const waiting = get(setup.pushpin.url, `channels=${channel}&cursor=${cursor}&wait=5`);
    await until(() => setup.requests.some((request) => request.gripHold === 'response'), 5_000, 'the hold');
    const position = await hangtime.log.append(channel, 'kept');
    expect(errors.length).toBe(1);
    // Nothing published: Pushpin answers at the hold timeout (5 s), with the cursor that still
    // reads the event: the worst-case delay is the hold timeout.
    const timedOut = await waiting;
    expect(timedOut.body.events).toEqual([]);
    expect(timedOut.ms).toBeGreaterThanOrEqual(4_000);
    const next = await get(setup.pushpin.url, `channels=${channel}&cursor=${timedOut.body.cursor}&wait=5`);
    expect(next.body.events).toEqual([{ channel, position, data: 'kept' }]);
  });

  it('with a publish endpoint that never answers, an append waits publishTimeoutMs at most, and the client still gets the event', async () => {
    const channel = uniqueChannel('slow');
    const hanging = createServer(() => {});
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise((resolve) => hanging.close(() => resolve(undefined)).closeAllConnections()));
    const errors: Error[] = [];
    const hangtime = useHangtime(
      setup,
      {},
      {
        url: `http://127.0.0.1:${(hanging.address() as { port: number }).port}/?verify-key=${setup.pushpin.sigKey}`,
        publishTimeoutMs: 300,
        onError: (error) => errors.push(error as Error),
      },
    );
    const cursor = await holdOnce(channel);
    const waiting = get(setup.pushpin.url, `channels=${channel}&cursor=${cursor}&wait=5`);
    await until(() => setup.requests.some((request) => request.gripHold === 'response'), 5_000, 'the hold');
    const started = Date.now();
    const position = await hangtime.log.append(channel, 'late');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(errors.map((error) => error.message)).toEqual([expect.stringContaining('publishTimeoutMs')]);
    const timedOut = await waiting;
    expect(timedOut.body.events).toEqual([]);
    const next = await get(setup.pushpin.url, `channels=${channel}&cursor=${timedOut.body.cursor}&wait=5`);
    expect(next.body.events).toEqual([{ channel, position, data: 'late' }]);
  });
});
