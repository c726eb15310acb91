// examples/netlify's page in real Chromium, against a real hangtime server standing in for the
// two Netlify functions: it shows events, and after a gap (a 410: here the server restarted with
// a fresh in-memory log, so the page's cursor names a generation that is gone) it resumes and
// shows the events that follow, instead of retrying the 410 forever.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { serve, type NodeServer } from '../../adapters/node/index.js';
import { createHangtime, memoryLog, type Hangtime } from '../../src/index.js';
import { describeChromium, launch } from '../browser/browser.js';

const example = join(import.meta.dirname, '..', '..', 'examples', 'netlify');
const SOON = { timeout: 15_000, interval: 50 };

/** The page script as `npm run build:page` bundles it, with hangtime/client from the source tree. */
async function pageScript(): Promise<string> {
  const result = await build({
    entryPoints: [join(example, 'src', 'page.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    alias: { 'hangtime/client': join(import.meta.dirname, '..', '..', 'src', 'client', 'index.ts') },
  });
  return result.outputFiles[0]!.text;
}

describeChromium('examples/netlify public/index.html in Chromium', () => {
  let browser: Browser;
  let server: NodeServer;
  // Short holds, so that the page's next poll reaches a restarted server soon.
  const fresh = (): Hangtime => createHangtime({ log: memoryLog(), maxWaitMs: 1_000, minHoldMs: 0 });
  let hangtime = fresh();

  beforeAll(async () => {
    const html = readFileSync(join(example, 'public', 'index.html'), 'utf8');
    const script = await pageScript();
    // What Netlify serves: public/ (index.html, app.js), and the poll function at /api/poll.
    server = await serve(
      async (request, context) => {
        const { pathname } = new URL(request.url);
        if (pathname === '/api/poll') return hangtime.handler(request, context);
        if (pathname === '/app.js') return new Response(script, { headers: { 'content-type': 'text/javascript' } });
        if (pathname === '/') return new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8' } });
        return new Response('not found', { status: 404 });
      },
      { port: 0 },
    );
    browser = await launch();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists events, and after a 410 gap resumes and lists the events that follow', { timeout: 60_000 }, async () => {
    const page = await browser.newPage();
    const items = () => page.locator('#events li').allTextContents();
    await page.goto(`${server.url}/`);
    await expect.poll(() => page.locator('#status').textContent(), SOON).toBe('live');

    await hangtime.log.append('chat', { text: 'before the restart' });
    await expect.poll(items, SOON).toEqual(['{"text":"before the restart"}']);

    // The server restarts with an empty memory log: the page's cursor is from a lost generation.
    hangtime = fresh();
    await hangtime.log.append('chat', { text: 'after the restart' });
    await expect
      .poll(items, SOON)
      .toEqual([
        '{"text":"before the restart"}',
        '(chat: an unknown number of events may be missing; the server lost its history)',
        '{"text":"after the restart"}',
      ]);
    await page.close();
  });
});
