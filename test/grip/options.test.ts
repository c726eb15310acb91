import { afterEach, describe, expect, it } from 'vitest';
import { createHangtime, memoryLog } from '../../src/index.js';
import { gripProxy, itemsOfAppend } from '../../src/grip/index.js';

const URL = 'http://127.0.0.1:5561/?verify-key=changeme';

describe('gripProxy() options', () => {
  const saved = { url: process.env.GRIP_URL, key: process.env.GRIP_VERIFY_KEY };
  afterEach(() => {
    if (saved.url === undefined) delete process.env.GRIP_URL;
    else process.env.GRIP_URL = saved.url;
    if (saved.key === undefined) delete process.env.GRIP_VERIFY_KEY;
    else process.env.GRIP_VERIFY_KEY = saved.key;
  });

  it('reads GRIP_URL (and GRIP_VERIFY_KEY) when no url is given, as Fanout libraries do', () => {
    delete process.env.GRIP_URL;
    expect(() => gripProxy()).toThrow(/GRIP_URL/);
    process.env.GRIP_URL = 'http://127.0.0.1:5561/';
    // A URL without a key cannot verify Grip-Sig: refused, rather than trusting any request.
    expect(() => gripProxy()).toThrow(/key to verify Grip-Sig/);
    process.env.GRIP_VERIFY_KEY = 'changeme';
    expect(() => gripProxy()).not.toThrow();
    process.env.GRIP_URL = 'http://127.0.0.1:5561/?key=changeme';
    delete process.env.GRIP_VERIFY_KEY;
    expect(() => gripProxy()).not.toThrow();
  });

  it('rejects unknown and bad options with a TypeError', () => {
    expect(() => gripProxy({ url: URL, timeout: 5 } as never)).toThrow(TypeError);
    expect(() => gripProxy({ url: URL, maxTimeoutSeconds: 0 })).toThrow(/maxTimeoutSeconds/);
    expect(() => gripProxy({ url: URL, maxChannels: 1.5 })).toThrow(/maxChannels/);
    expect(() => gripProxy({ url: URL, publishTimeoutMs: -1 })).toThrow(/publishTimeoutMs/);
    expect(() => gripProxy({ url: URL, onError: 'no' as never })).toThrow(/onError/);
    expect(() => gripProxy({ url: 'not a url' })).toThrow(TypeError);
    expect(() => gripProxy(null as never)).toThrow(TypeError);
    expect(() => createHangtime({ grip: {} as never })).toThrow(/grip/);
  });

  it('keeps the log as it is besides append: its other members, and close', async () => {
    const log = memoryLog();
    const hangtime = createHangtime({ log, grip: gripProxy({ url: URL, fetch: async () => new Response('', { status: 200 }) }) });
    expect(hangtime.log).not.toBe(log);
    await hangtime.log.append('c', 1);
    expect((hangtime.log as typeof log).stats().events).toBe(1);
    expect(hangtime.log.maxEventBytes).toBe(log.maxEventBytes);
  });
});

describe('the items of an append', () => {
  it('publish the answer on the channel and a hint on its hint channel, linked by prev-id', () => {
    const [answer, hint] = itemsOfAppend('chat', '{"text":"hi"}', { position: 'p2', previous: 'p1' });
    expect(answer).toMatchObject({ channel: 'chat', id: 'p2', 'prev-id': 'p1' });
    const body = (answer!.formats['http-response'] as { body: string }).body;
    expect(JSON.parse(body)).toMatchObject({ events: [{ channel: 'chat', position: 'p2', data: { text: 'hi' } }], more: false });
    expect(hint).toEqual({ channel: '~chat', id: 'p2', 'prev-id': 'p1', formats: { 'http-response': { action: 'hint' } } });
  });

  it('publish a hint without prev-id when the event before is unknown (a first event)', () => {
    const [answer] = itemsOfAppend('chat', '1', { position: 'p1', previous: null });
    expect(answer).toEqual({ channel: 'chat', id: 'p1', formats: { 'http-response': { action: 'hint' } } });
  });
});
