import { describe, expect, it } from 'vitest';
import { isChannel } from '../../src/index.js';
import { startServer } from './support.js';

/** Bad input gets a 400 with a JSON error and never a 500 (nor a crash). */

const randomBytes = (max: number) => crypto.getRandomValues(new Uint8Array(1 + Math.floor(Math.random() * max)));
const randomText = (max: number) => String.fromCharCode(...randomBytes(max));
const encode = (text: string) => encodeURIComponent(text).replace(/%2C/g, ',');

describe('fuzzed requests', () => {
  it('random parameter values get 400 JSON errors, never 5xx', async () => {
    const { poll } = await startServer({ maxWaitMs: 200 });
    const makers: Array<() => string> = [
      () => `channels=${encode(randomText(40))}`,
      () => `channels=ok&cursor=${encode(randomText(120))}`,
      () => `channels=ok&cursor=${encode(btoa(randomText(60)))}.${encode(randomText(6))}`,
      () => `channels=ok&wait=${encode(randomText(8))}`,
      () => `channels=ok&limit=${encode(randomText(8))}`,
      () => `channels=ok&from=${encode(randomText(8))}`,
      () => `${encode(randomText(12))}=${encode(randomText(12))}&channels=ok`,
      () => `channels=${Array.from({ length: 1 + Math.floor(Math.random() * 60) }, () => encode(randomText(6))).join(',')}`,
    ];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 400; i++) {
      const response = await poll(makers[i % makers.length]!());
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      expect(response.status, `request ${i}`).toBeLessThan(500);
      const body = (await response.json()) as { error?: { code: string } };
      if (response.status === 400) expect(body.error?.code).toMatch(/^[a-z_]+$/);
    }
    expect(statuses.get(400)).toBeGreaterThan(300);
  });

  it('very long inputs get 400, not a crash', async () => {
    const { poll, url } = await startServer({ maxWaitMs: 200 });
    for (const query of [
      // Long, but under Node's 16 KiB header limit (past it Node itself answers 431).
      `channels=${'a'.repeat(12_000)}`,
      `channels=${Array.from({ length: 2_000 }, (_, i) => `c${i}`).join(',')}`,
      `channels=ok&cursor=${'Zm9v'.repeat(3_000)}.abc`,
      `channels=ok&wait=${'9'.repeat(12_000)}`,
    ]) {
      const response = await poll(query);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toMatch(/^bad_|too_many_channels/);
    }
    // The server still serves.
    expect((await fetch(`${url}/?channels=ok&wait=0`)).status).toBe(200);
  });

  it('random publish bodies get 4xx JSON errors, never 5xx', async () => {
    const { url, hangtime } = await startServer({ authorizePublish: () => true });
    let accepted = 0;
    for (let i = 0; i < 200; i++) {
      const channel = randomText(10);
      const body = i % 2 === 0 ? randomText(200) : JSON.stringify({ channel, data: randomText(10) });
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      // A random channel name is occasionally valid: then the publish must succeed.
      const valid = i % 2 === 1 && isChannel(channel);
      expect(response.status).toBe(valid ? 201 : 400);
      if (valid) accepted++;
      await response.json();
    }
    expect(accepted).toBeLessThan(100);
    expect(hangtime.stats().waiting).toBe(0);
  });
});
