// The demo in real Chromium: two tabs chat, a reload resumes from the stored cursor, the
// server going down and up is survived, a hidden (or frozen) tab stops polling and catches up.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumAvailable, demoServer, launch, messages, notices, pollRequests, send, setVisibility, statusOf, type DemoHandle } from './browser.js';

const TIMEOUT = 60_000;
const SOON = { timeout: 10_000, interval: 50 };

describe.skipIf(!chromiumAvailable)('the demo in Chromium', () => {
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
    const firstPoll = a.waitForResponse((response) => new URL(response.url()).pathname === '/api/poll' && response.request().method() === 'GET');
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
    await send(a, 'before');
    await expect.poll(() => messages(b), SOON).toEqual(['before']);
    await demo.stop();
    await expect.poll(() => statusOf(a), SOON).toBe('retrying');
    await demo.restart();
    // The new server's log has no history for the old cursor: told, not skipped.
    await expect.poll(() => notices(a), { ...SOON, timeout: 40_000 }).toEqual([expect.stringContaining('lost history')]);
    await expect.poll(() => statusOf(a), SOON).toBe('live');
    await expect.poll(() => statusOf(b), { ...SOON, timeout: 40_000 }).toBe('live');
    await send(b, 'after');
    await expect.poll(() => messages(a), SOON).toEqual(['before', 'after']);
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

  it('a frozen tab (Page Lifecycle `freeze`) releases its poll, and resumes on `resume`', { timeout: TIMEOUT }, async () => {
    // Chromium freezes background pages by itself; headless offers no reliable way to make
    // it, so the page receives the two events the browser sends around a freeze.
    const [a, b] = await twoTabs();
    const polls = pollRequests(a);
    await a.evaluate(() => document.dispatchEvent(new Event('freeze')));
    await expect.poll(() => demo.current.hangtime.stats().waiting, SOON).toBe(1);
    expect(await statusOf(a)).toBe('paused');
    const sent = polls.length;
    await send(b, 'while frozen');
    await expect.poll(() => messages(b), SOON).toEqual(['while frozen']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(polls).toHaveLength(sent);
    await a.evaluate(() => document.dispatchEvent(new Event('resume')));
    await expect.poll(() => messages(a), SOON).toEqual(['while frozen']);
    await expect.poll(() => demo.current.hangtime.stats().waiting, SOON).toBe(2);
  });
});
