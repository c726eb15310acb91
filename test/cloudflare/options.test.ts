import { describe, expect, it } from 'vitest';
import { cloudflare, durableObjectLog } from '../../adapters/cloudflare/index.js';
import { createHangtime } from '../../src/index.js';

// Option checks run at startup, in any runtime (the entry imports nothing of workerd).
const namespace = { idFromName: (name: string) => name, get: () => ({ fetch: () => Promise.reject(new Error('not used')) }) };

describe('durableObjectLog() options', () => {
  it('needs a namespace binding', () => {
    expect(() => durableObjectLog({} as never)).toThrow(/namespace.*binding/);
    expect(() => durableObjectLog({ namespace: 'HANGTIME' } as never)).toThrow(TypeError);
    expect(() => durableObjectLog(null as never)).toThrow(TypeError);
  });

  it('refuses unknown and invalid options with precise TypeErrors', () => {
    expect(() => durableObjectLog({ namespace, maxEvents: 10 } as never)).toThrow(/Unknown option `maxEvents`/);
    expect(() => durableObjectLog({ namespace, maxEventsPerChannel: 0 })).toThrow(TypeError);
    expect(() => durableObjectLog({ namespace, maxAgeMs: -1 })).toThrow(TypeError);
    expect(() => durableObjectLog({ namespace, maxEventBytes: 3_000_000 })).toThrow(/at most 2000000/);
    expect(durableObjectLog({ namespace, maxAgeMs: 60_000 }).maxEventBytes).toBe(262_144);
  });

  it('checks channels, ids and data before any call to an object', async () => {
    const log = durableObjectLog({ namespace, maxEventBytes: 16 });
    await expect(log.append('bad channel', 1)).rejects.toBeInstanceOf(TypeError);
    await expect(log.append('ok', 'x'.repeat(20))).rejects.toBeInstanceOf(RangeError);
    await expect(log.append('ok', 1, { id: 'has space' })).rejects.toBeInstanceOf(TypeError);
    await expect(log.start('ok', 'newest' as never)).rejects.toBeInstanceOf(TypeError);
  });
});

describe('cloudflare() options', () => {
  it('refuses unknown options, bad values and bad targets', () => {
    const make = () => createHangtime();
    expect(() => cloudflare(make, { maxWait: 1 } as never)).toThrow(/Unknown option `maxWait`/);
    expect(() => cloudflare(make, { maxWaitMs: -5 })).toThrow(TypeError);
    expect(() => cloudflare(make, null as never)).toThrow(TypeError);
    expect(() => cloudflare(42 as never)).toThrow(TypeError);
    expect(typeof cloudflare(make).fetch).toBe('function');
  });
});
