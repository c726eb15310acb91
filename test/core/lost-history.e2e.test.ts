import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/cursor.js';
import { startServer, type PollBody } from './support.js';

// Issue 9.1: a client that polled before a channel's first event holds a "nothing yet"
// position. When the server restarts with the in-memory log, the history appended meanwhile is
// gone; the next poll used to answer 200 with only the newest events, skipping the rest silently.

describe('a cursor taken before the first event, across a restart of the in-memory log', () => {
  it('gets a 410 reset gap, then the events appended after the restart', async () => {
    const before = await startServer({ maxWaitMs: 1_000 });
    const first = (await (await before.poll('channels=x,y&wait=0')).json()) as PollBody;
    await before.hangtime.log.append('x', 'lost 1');
    await before.hangtime.log.append('x', 'lost 2');

    const after = await startServer({ maxWaitMs: 1_000 });
    await after.hangtime.log.append('x', 'after the restart');
    const response = await after.poll(`channels=x,y&cursor=${first.cursor}`);
    expect(response.status).toBe(410);
    const body = (await response.json()) as { gaps: Array<{ channel: string; missed: number | null; reason: string }>; cursor: string };
    expect(body.gaps).toEqual([
      expect.objectContaining({ channel: 'x', missed: null, reason: 'reset' }),
      expect.objectContaining({ channel: 'y', missed: null, reason: 'reset' }),
    ]);
    const resumed = (await (await after.poll(`channels=x,y&cursor=${body.cursor}&wait=0`)).json()) as PollBody;
    expect(resumed.events.map((event) => event.data)).toEqual(['after the restart']);
  });

  it('gets a 410 also when nothing was appended after the restart', async () => {
    const before = await startServer({ maxWaitMs: 1_000 });
    const first = (await (await before.poll('channels=x&wait=0')).json()) as PollBody;
    await before.hangtime.log.append('x', 'lost');
    const after = await startServer({ maxWaitMs: 1_000 });
    expect((await after.poll(`channels=x&cursor=${first.cursor}&wait=0`)).status).toBe(410);
  });

  it('gets no gap when nothing was lost: the cursor works on the same server', async () => {
    const { hangtime, poll } = await startServer({ maxWaitMs: 1_000 });
    const first = (await (await poll('channels=x&wait=0')).json()) as PollBody;
    await hangtime.log.append('x', 'kept');
    const next = (await (await poll(`channels=x&cursor=${first.cursor}&wait=0`)).json()) as PollBody;
    expect(next.events.map((event) => event.data)).toEqual(['kept']);
  });
});

describe('a cursor written by a server on another log', () => {
  it('gets a 410 reset gap (not a 400 that would stop the client), then the events of this log', async () => {
    const { hangtime, poll } = await startServer({ maxWaitMs: 1_000 });
    await hangtime.log.append('x', 'here');
    // What a Redis-log server writes: `<generation>-<ms>-<seq>`, not a memory-log position.
    const foreign = encodeCursor(new Map([['x', 'k3x9a0b1-d1700000000000-10']]));
    const response = await poll(`channels=x&cursor=${foreign}&wait=0`);
    expect(response.status).toBe(410);
    const body = (await response.json()) as { gaps: Array<{ reason: string; missed: null }>; cursor: string };
    expect(body.gaps).toEqual([expect.objectContaining({ channel: 'x', reason: 'reset', missed: null })]);
    const resumed = (await (await poll(`channels=x&cursor=${body.cursor}&wait=0`)).json()) as PollBody;
    expect(resumed.events.map((event) => event.data)).toEqual(['here']);
  });
});
