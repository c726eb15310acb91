// The demo in real Chromium: two tabs chat, a reload resumes from the stored cursor, the
// server going down and up is survived (with a countdown and "retry now" meanwhile), a hidden
// (or frozen) tab stops polling and catches up.
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  describeChromium,
  demoServer,
  editGaps,
  launch,
  messages,
  notices,
  pollRequests,
  send,
  setVisibility,
  statusOf,
  statusText,
  type DemoHandle,
} from './browser.js';

const TIMEOUT = 60_000;
const SOON = { timeout: 10_000, interval: 50 };

describeChromium('the demo in Chromium', () => {
  let browser: Browser;
  let demo: DemoHandle;
  let context: BrowserContext;

  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    demo = await demoServer();
    context = await browser.newContext();
  });
  afterEach(async () => {
    await context?.close();
    await demo?.stop();
  });

  /** Two tabs of the demo, both holding a poll. */
  async function twoTabs(): Promise<[Page, Page]> {
    const a = await context.newPage();
    const b = await context.newPage();
    await Promise.all([a.goto(demo.url), b.goto(demo.url)]);
    await expect.poll(() => demo.current.hangtime.stats().waiting, SOON).toBe(2);
    return [a, b];
  }

  it('two tabs see each other’s messages', { timeout: TIMEOUT }, async () => {
    const [a, b] = await twoTabs();
    await send(a, 'hello from A');
    await expect.poll(() => messages(b), SOON).toEqual(['hello from A']);
    await send(b, 'hello from B');
    await expect.poll(() => messages(a), SOON).toEqual(['hello from A', 'hello from B']);
    expect(await messages(b)).toEqual(['hello from A', 'hello from B']);
    expect(await statusOf(a)).toBe('live');
  });

  it('a new tab shows the last 50 messages at once, then live ones', { timeout: TIMEOUT }, async () => {
    // 53 messages before the tab opens: it shows the newest 50, in order, from its first answer.
    for (let i = 1; i <= 53; i++) await demo.current.hangtime.log.append('chat', { name: 'bot', text: `m${i}` });
    const page = await context.newPage();
    const firstPoll = page.waitForResponse(
      (response) => new URL(response.url()).pathname === '/api/poll' && response.request().method() === 'GET',
    );
    await page.goto(demo.url);
    const answer = await firstPoll;
    expect(new URL(answer.url()).searchParams.get('from')).toBe('last:50');
    const expected = Array.from({ length: 50 }, (_, i) => `m${i + 4}`);
    expect(((await answer.json()) as { events: Array<{ data: { text: string } }> }).events.map((event) => event.data.text)).toEqual(
      expected,
    );
    await expect.poll(() => messages(page), SOON).toEqual(expected);
    await expect.poll(() => demo.current.hangtime.stats().waiting, SOON).toBe(1);
    await send(page, 'live');
    await expect.poll(() => messages(page), SOON).toEqual([...expected, 'live']);
    // A reload: the same transcript, none of the history twice.
    await page.reload();
    await expect.poll(() => statusOf(page), SOON).toBe('live');
    expect(await messages(page)).toEqual([...expected, 'live']);
  });

  it('a reload resumes from the stored cursor: nothing lost, nothing twice', { timeout: TIMEOUT }, async () => {
    const [a, b] = await twoTabs();
    await send(b, 'one');
    await expect.poll(() => messages(a), SOON).toEqual(['one']);
    const stored = await a.evaluate(() => sessionStorage.getItem('hangtime-demo:cursor'));
    expect(stored).toEqual(expect.any(String));

    // A leaves; B talks meanwhile; A comes back in the same tab.
    await a.goto('about:blank');
    await send(b, 'two');
    await send(b, 'three');
    await expect.poll(() => messages(b), SOON).toEqual(['one', 'two', 'three']);
    const firstPoll = a.waitForResponse(
      (response) => new URL(response.url()).pathname === '/api/poll' && response.request().method() === 'GET',
    );
    await a.goto(demo.url);
    const answer = await firstPoll;
    // It asked from the stored cursor, and got exactly what it had missed.
    expect(new URL(answer.url()).searchParams.get('cursor')).toBe(stored);
    const body = (await answer.json()) as { events: Array<{ data: { text: string } }> };
    expect(body.events.map((event) => event.data.text)).toEqual(['two', 'three']);
    await expect.poll(() => messages(a), SOON).toEqual(['one', 'two', 'three']);

    // A plain reload: the same transcript once, then live again.
    await a.reload();
    await expect.poll(() => statusOf(a), SOON).toBe('live');
    expect(await messages(a)).toEqual(['one', 'two', 'three']);
    await send(b, 'four');
    await expect.poll(() => messages(a), SOON).toEqual(['one', 'two', 'three', 'four']);
  });

  it('survives the server going down and up (a memory log restarts empty: a gap, then live)', { timeout: TIMEOUT }, async () => {
    const [a, b] = await twoTabs();
    // A's server says why history is gone (`reason: 'reset'`), B's does not (an older server).
    await editGaps(a, (gap) => void (gap.reason = 'reset'));
    await editGaps(b, (gap) => void delete gap.reason);
    await send(a, 'before');
    await expect.poll(() => messages(b), SOON).toEqual(['before']);
    await demo.stop();
    await expect.poll(() => statusOf(a), SOON).toBe('retrying');
    expect(await statusText(a)).toMatch(/^retrying in \d+ s$/);
    await expect.poll(() => a.locator('#retry').isVisible(), SOON).toBe(true);
    await demo.restart();
    // The new server's log has no history for the old cursor: told, not skipped, and not
    // claimed as missed messages, which nobody can count.
    await expect
      .poll(() => notices(a), { ...SOON, timeout: 40_000 })
      .toEqual(['The server restarted with an empty history (its log is in memory): whether any messages were missed is unknown.']);
    await expect.poll(() => statusOf(a), SOON).toBe('live');
    expect(await a.locator('#retry').isVisible()).toBe(false);
    await expect.poll(() => statusOf(b), { ...SOON, timeout: 40_000 }).toBe('live');
    expect(await notices(b)).toEqual([
      'The server no longer has the history after the last message shown (was it restarted?): whether any messages were missed is unknown.',
    ]);
    await send(b, 'after');
    await expect.poll(() => messages(a), SOON).toEqual(['before', 'after']);
  });

  it('while retrying, shows when the next attempt is, and "retry now" makes it at once', { timeout: TIMEOUT }, async () => {
    const [a] = await twoTabs();
    await demo.stop();
    // The backoff grows with each failed attempt (full jitter): wait for one that is 3 s away or more.
    const retryAt = async () => Number(await a.locator('#status').getAttribute('data-retry-at'));
    await expect.poll(async () => (await retryAt()) - Date.now(), { timeout: 45_000, interval: 50 }).toBeGreaterThan(3_000);
    const next = await retryAt();
    await demo.restart();
    await a.click('#retry');
    await expect.poll(() => statusOf(a), SOON).toBe('live');
    // Live before the attempt the backoff had planned.
    expect(Date.now()).toBeLessThan(next);
  });

  it('declares its icon inline, so that a browser asks for no /favicon.ico (which would be a 404)', { timeout: TIMEOUT }, async () => {
    const page = await context.newPage();
    const missing: string[] = [];
    page.on('response', (response) => void (response.status() === 404 && missing.push(response.url())));
    await page.goto(demo.url);
    await expect.poll(() => statusOf(page), SOON).toBe('live');
    // Headless Chromium never asks for a favicon; a headed browser asks for /favicon.ico unless
    // the page names an icon: this one names one that needs no request.
    expect(await page.locator('link[rel="icon"]').getAttribute('href')).toMatch(/^data:/);
    expect((await fetch(`${demo.url}favicon.ico`)).status).toBe(404);
    expect(missing).toEqual([]);
  });

  it('a hidden tab releases its poll, and catches up with one poll when shown again', { timeout: TIMEOUT }, async () => {
    const [a, b] = await twoTabs();
    const polls = pollRequests(a);
    await setVisibility(a, 'hidden');
    await expect.poll(() => statusOf(a), SOON).toBe('paused');
    await expect.poll(() => demo.current.hangtime.stats().waiting, SOON).toBe(1);
    const sent = polls.length;
    await send(b, 'while hidden');
    await expect.poll(() => messages(b), SOON).toEqual(['while hidden']);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await messages(a)).toEqual([]);
    expect(polls).toHaveLength(sent);

    const catchUp = a.waitForResponse((response) => new URL(response.url()).pathname === '/api/poll');
    await setVisibility(a, 'visible');
    const body = (await (await catchUp).json()) as { events: Array<{ data: { text: string } }> };
    expect(body.events.map((event) => event.data.text)).toEqual(['while hidden']);
    await expect.poll(() => messages(a), SOON).toEqual(['while hidden']);
    await expect.poll(() => statusOf(a), SOON).toBe('live');
    await expect.poll(() => demo.current.hangtime.stats().waiting, SOON).toBe(2);
  });

  it('a frozen tab (Page Lifecycle: hidden, then frozen) sends nothing until shown again', { timeout: TIMEOUT }, async () => {
    // Chromium freezes only hidden pages, and resumes them hidden; headless offers no reliable
    // way to make it, so the page gets the events the browser sends around a freeze, in order.
    const [a, b] = await twoTabs();
    const polls = pollRequests(a);
    await setVisibility(a, 'hidden');
    await a.evaluate(() => document.dispatchEvent(new Event('freeze')));
    await expect.poll(() => demo.current.hangtime.stats().waiting, SOON).toBe(1);
    expect(await statusOf(a)).toBe('paused');
    const sent = polls.length;
    await send(b, 'while frozen');
    await expect.poll(() => messages(b), SOON).toEqual(['while frozen']);
    await a.evaluate(() => document.dispatchEvent(new Event('resume')));
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Resumed but still hidden: still paused.
    expect(polls).toHaveLength(sent);
    expect(await statusOf(a)).toBe('paused');
    await setVisibility(a, 'visible');
    await expect.poll(() => messages(a), SOON).toEqual(['while frozen']);
    await expect.poll(() => demo.current.hangtime.stats().waiting, SOON).toBe(2);
  });
});
