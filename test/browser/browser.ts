import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page, type Request, type Route } from 'playwright-core';
import { describe } from 'vitest';
import { startDemo, type Demo } from '../../examples/demo/server.js';

/** Debian's Chromium; `.ci/run` installs it. Never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const chromiumAvailable = existsSync(CHROMIUM);

if (!chromiumAvailable && process.env.CI === 'true') {
  throw new Error(`No Chromium at ${CHROMIUM}, and CI=true: browser tests must run in CI (apt-get install -y chromium)`);
}

/** `describe` for suites that need Chromium; skipped without it, with one line saying why. */
export function describeChromium(name: string, body: () => void): void {
  if (chromiumAvailable) {
    describe(name, body);
    return;
  }
  process.stderr.write(`Skipping "${name}": no Chromium at ${CHROMIUM} (apt-get install -y chromium)\n`);
  describe.skip(name, body);
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** The demo server, restartable on its port (a restart loses the memory log, as in real life). */
export interface DemoHandle {
  current: Demo;
  url: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function demoServer(): Promise<DemoHandle> {
  const handle: DemoHandle = {
    current: await startDemo({ port: 0 }),
    url: '',
    async restart() {
      handle.current = await startDemo({ port: handle.current.port });
    },
    stop: () => handle.current.close(),
  };
  handle.url = `${handle.current.url}/`;
  return handle;
}

/** The poll requests (GET /api/poll) a page sends, as they are sent. */
export function pollRequests(page: Page): Request[] {
  const requests: Request[] = [];
  page.on('request', (request) => {
    if (request.method() === 'GET' && new URL(request.url()).pathname === '/api/poll') requests.push(request);
  });
  return requests;
}

/** The chat lines a page shows (messages only, not notices). */
export const messages = (page: Page): Promise<string[]> =>
  page.locator('#messages li[data-position]').evaluateAll((items) => items.map((item) => item.lastChild?.textContent ?? ''));

export const notices = (page: Page): Promise<string[]> => page.locator('#messages li.notice').allTextContents();

export const statusOf = (page: Page): Promise<string | null> => page.locator('#status').getAttribute('data-status');

export async function send(page: Page, text: string): Promise<void> {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

/** Make the page report itself hidden or visible, and fire `visibilitychange` as the browser does. */
export function setVisibility(page: Page, state: 'hidden' | 'visible'): Promise<void> {
  return page.evaluate((next) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => next });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => next === 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);
}

/** The status badge's text (`retrying in 4 s` while retrying). */
export const statusText = (page: Page): Promise<string | null> => page.locator('#status').textContent();

/**
 * Pass the page's polls through, editing each gap of a 410 answer: the demo server with or
 * without `reason` in its gaps, whichever this checkout's server writes.
 */
export async function editGaps(page: Page, edit: (gap: Record<string, unknown>) => void): Promise<void> {
  await page.route(
    (url) => url.pathname === '/api/poll',
    async (route: Route) => {
      if (route.request().method() !== 'GET') return route.continue();
      // A held poll waits up to the server's 25 s.
      const answer = await route.fetch({ timeout: 60_000 }).catch(() => undefined);
      if (answer === undefined) return route.abort('connectionrefused').catch(() => {});
      if (answer.status() !== 410) return route.fulfill({ response: answer }).catch(() => {});
      const body = (await answer.json()) as { gaps: Array<Record<string, unknown>> };
      body.gaps.forEach(edit);
      return route.fulfill({ response: answer, json: body }).catch(() => {});
    },
  );
}
