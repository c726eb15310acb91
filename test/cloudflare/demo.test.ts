// The demo chat (examples/demo: its page, and its script with hangtime/client) served by a
// Worker in workerd, polling and publishing through `cloudflare()` and the Durable Object log,
// in real Chromium: two tabs see each other's messages, and a reload resumes from the cursor.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGE } from '../../examples/demo/page.js';
import { chromiumAvailable, launch, messages, send, statusOf } from '../browser/browser.js';
import { waitersOf } from './subject.js';
import { startTestWorker, type TestWorker } from './worker.js';

const SOON = { timeout: 15_000, interval: 50 };

describe.skipIf(!chromiumAvailable)('the demo chat through a Worker, in Chromium', () => {
  let browser: Browser;
  let worker: TestWorker;
  let context: BrowserContext;

  beforeAll(async () => {
    const app = await build({
      entryPoints: [fileURLToPath(new URL('../../examples/demo/app.ts', import.meta.url))],
      bundle: true,
      format: 'esm',
      target: 'es2022',
      write: false,
      logLevel: 'warning',
    });
    worker = await startTestWorker({ bindings: { PAGE, APP_JS: app.outputFiles[0]!.text } });
    browser = await launch();
    context = await browser.newContext();
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await worker?.dispose();
  });

  it('two tabs chat, each holding its poll in the channel’s Durable Object; a reload resumes', { timeout: 60_000 }, async () => {
    const baseline = await waitersOf(worker, 'chat');
    const open = async (): Promise<Page> => {
      const page = await context.newPage();
      await page.goto(worker.url.href);
      return page;
    };
    const [a, b] = await Promise.all([open(), open()]);
    await expect.poll(() => waitersOf(worker, 'chat'), SOON).toBe(baseline + 2);
    await send(a, 'hello from A');
    await expect.poll(() => messages(b), SOON).toEqual(['hello from A']);
    await send(b, 'hello from B');
    await expect.poll(() => messages(a), SOON).toEqual(['hello from A', 'hello from B']);
    expect(await statusOf(a)).toBe('live');

    // A reload resumes from the stored cursor: the history is there, nothing twice.
    await b.reload();
    await send(a, 'after the reload');
    await expect.poll(() => messages(b), SOON).toContain('after the reload');
    const lines = await messages(b);
    expect(lines.filter((line) => line === 'after the reload')).toHaveLength(1);
    expect(new Set(lines).size).toBe(lines.length);
  });
});
