// `hangtime/react` in real Chromium, with React 18 and React 19, in StrictMode (development
// builds, where React mounts, unmounts and mounts again): one held poll per hook, history then
// live events, a reload that resumes from the persisted cursor and state without a duplicate,
// the retrying status with its time and retryNow(), and cleanup on unmount.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serve, type NodeServer } from '../../adapters/node/index.js';
import { createHangtime, memoryLog, type Hangtime, type MemoryLog } from '../../src/index.js';
import { chromiumAvailable, launch } from './browser.js';

const TIMEOUT = 60_000;
const SOON = { timeout: 10_000, interval: 50 };
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// React 19 is the package's dev dependency; React 18 lives in test/browser/react18 (npm cannot
// hold both at the root: react-dom 18 wants react 18 as its peer). `.ci/run` installs it.
const REACT18 = here('./react18/node_modules');
const react18Installed = existsSync(`${REACT18}/react-dom/package.json`);
if (!react18Installed && process.env.CI === 'true') {
  throw new Error('test/browser/react18 is not installed, and CI=true: run `npm ci --prefix test/browser/react18`');
}

const versions: Array<[string, Record<string, string>]> = [['19', {}]];
if (react18Installed) versions.push(['18', { react: `${REACT18}/react`, 'react-dom': `${REACT18}/react-dom` }]);
else
  process.stderr.write(
    'Skipping the React 18 browser tests: test/browser/react18 is not installed (npm ci --prefix test/browser/react18)\n',
  );

/** The page script for one React version, in React's development build (StrictMode's checks). */
async function pageScript(alias: Record<string, string>): Promise<string> {
  const result = await build({
    entryPoints: [here('./react-page.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    write: false,
    alias,
    define: { 'process.env.NODE_ENV': '"development"' },
    logLevel: 'warning',
  });
  return result.outputFiles[0]!.text;
}

const PAGE =
  '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><div id="root"></div><script type="module" src="/page.js"></script>';

/** The page and a hangtime endpoint over one memory log, restartable on its port with the same log. */
async function startSite(script: string) {
  const log: MemoryLog = memoryLog();
  let hangtime: Hangtime;
  let server: NodeServer | undefined;
  const listen = async (port: number) => {
    hangtime = createHangtime({ log, maxWaitMs: 10_000 });
    const current = hangtime;
    server = await serve(
      (request, context) => {
        const { pathname } = new URL(request.url);
        if (pathname === '/api/poll') return current.handler(request, context);
        const type = pathname === '/page.js' ? 'text/javascript' : 'text/html';
        return new Response(pathname === '/page.js' ? script : PAGE, {
          headers: { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' },
        });
      },
      { port },
    );
  };
  await listen(0);
  const port = Number(new URL(server!.url).port);
  return {
    log,
    url: `http://127.0.0.1:${port}/`,
    waiting: () => hangtime.stats().waiting,
    async stop() {
      await hangtime.close();
      await server?.close();
      server = undefined;
    },
    restart: () => listen(port),
  };
}

const texts = (page: Page) => page.locator('#events li').allTextContents();
const state = (page: Page) => page.locator('#status').getAttribute('data-state');

describe.skipIf(!chromiumAvailable).each(versions)('useHangtime with React %s in Chromium', (version, alias) => {
  let browser: Browser;
  let context: BrowserContext;
  let site: Awaited<ReturnType<typeof startSite>>;
  let script: string;

  beforeAll(async () => {
    [browser, script] = await Promise.all([launch(), pageScript(alias)]);
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await context?.close();
    await site?.stop();
  });

  async function open(): Promise<Page> {
    site = await startSite(script);
    context = await browser.newContext();
    return context.newPage();
  }

  it('StrictMode keeps one loop per hook: the last events at once, then live ones, each once', { timeout: TIMEOUT }, async () => {
    const page = await open();
    for (const text of ['one', 'two', 'three', 'four']) await site.log.append('chat', { text });
    const polls: string[] = [];
    page.on('request', (request) => void (new URL(request.url()).pathname === '/api/poll' && polls.push(request.url())));
    await page.goto(site.url);
    expect(await page.evaluate(() => window.reactVersion)).toMatch(new RegExp(`^${version}\\.`));
    await expect.poll(() => texts(page), SOON).toEqual(['two', 'three', 'four']);
    await expect.poll(() => state(page), SOON).toBe('live');
    expect(await page.locator('#stats').textContent()).toBe('3 three');
    // Two hooks, two held polls: StrictMode's second mount did not open a loop of its own.
    await expect.poll(() => site.waiting(), SOON).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(site.waiting()).toBe(2);
    // Re-renders (each with new option objects and callbacks) start no new loop.
    const before = polls.length;
    await site.log.append('chat', { text: 'five!' });
    await expect.poll(() => texts(page), SOON).toEqual(['two', 'three', 'four', 'five!']);
    await expect.poll(() => page.locator('#stats').textContent(), SOON).toBe('4 three');
    await expect.poll(() => site.waiting(), SOON).toBe(2);
    // One answer and one new held poll per hook; nothing else.
    expect(polls.length - before).toBe(2);
    expect(await page.evaluate(() => window.renders)).toBeGreaterThan(2);
  });

  it('a reload shows the persisted events and resumes after the persisted cursor: nothing twice, nothing lost', {
    timeout: TIMEOUT,
  }, async () => {
    const page = await open();
    await site.log.append('chat', { text: 'a' });
    await page.goto(site.url);
    await expect.poll(() => texts(page), SOON).toEqual(['a']);
    await site.log.append('chat', { text: 'b' });
    await expect.poll(() => texts(page), SOON).toEqual(['a', 'b']);
    const stored = await page.evaluate(
      () => JSON.parse(localStorage.getItem('react-chat') ?? 'null') as { cursor: string; events: unknown[] } | null,
    );
    expect(stored?.events).toHaveLength(2);

    await page.goto('about:blank');
    await expect.poll(() => site.waiting(), SOON).toBe(0);
    await site.log.append('chat', { text: 'c' });
    const firstPoll = page.waitForResponse((response) => new URL(response.url()).pathname === '/api/poll');
    await page.goto(site.url);
    // Resumed from the stored cursor (not `from=last:3` again), with exactly what it missed.
    const answer = await firstPoll;
    expect(new URL(answer.url()).searchParams.get('cursor')).toBe(stored!.cursor);
    await expect.poll(() => texts(page), SOON).toEqual(['a', 'b', 'c']);
    await page.reload();
    await expect.poll(() => state(page), SOON).toBe('live');
    expect(await texts(page)).toEqual(['a', 'b', 'c']);
    await site.log.append('chat', { text: 'd' });
    await expect.poll(() => texts(page), SOON).toEqual(['a', 'b', 'c', 'd']);
  });

  it('retrying says when, retryNow() tries at once; unmounting closes the loops', { timeout: TIMEOUT }, async () => {
    const page = await open();
    await page.goto(site.url);
    await expect.poll(() => state(page), SOON).toBe('live');
    await site.stop();
    await expect.poll(() => state(page), SOON).toBe('retrying');
    expect(await page.locator('#error').textContent()).not.toBe('');
    // The backoff grows with each failed attempt (full jitter): wait for one 2 s away or more.
    const retryAt = async () => Number(await page.locator('#status').getAttribute('data-retry-at'));
    await expect.poll(async () => (await retryAt()) - Date.now(), { timeout: 45_000, interval: 50 }).toBeGreaterThan(2_000);
    const planned = await retryAt();
    await site.restart();
    await page.click('#retry');
    await expect.poll(() => state(page), SOON).toBe('live');
    // Live before the attempt the backoff had planned.
    expect(Date.now()).toBeLessThan(planned);
    expect(await page.locator('#error').textContent()).toBe('');
    await site.log.append('chat', { text: 'back' });
    await expect.poll(() => texts(page), SOON).toEqual(['back']);

    await expect.poll(() => site.waiting(), SOON).toBe(2);
    await page.click('#toggle');
    await expect.poll(() => site.waiting(), SOON).toBe(0);
    await page.click('#toggle');
    await expect.poll(() => site.waiting(), SOON).toBe(2);
  });
});
