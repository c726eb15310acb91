// `npm start` as a user runs it: `node scripts/start.mjs` builds and serves the demo, prints
// its URL, serves the page, the script and the endpoint, and on Ctrl-C (SIGINT) or SIGTERM
// answers its held polls cleanly (200, their cursor) and exits 0.
import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { describe, expect, it } from 'vitest';

function start() {
  const child = spawn(process.execPath, ['scripts/start.mjs'], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed: ${output}`)), 20_000);
    child.stdout.on('data', () => {
      const match = /http:\/\/localhost:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${match[1]}`);
      }
    });
  });
  return { child, url, exited, output: () => output };
}

/** A GET through node:http, to know when the request is written (`sent`). */
function heldPoll(url: string): { sent: Promise<void>; answer: Promise<{ status: number; timing: string | undefined; body: string }> } {
  let sent!: () => void;
  const written = new Promise<void>((resolve) => (sent = resolve));
  const answer = new Promise<{ status: number; timing: string | undefined; body: string }>((resolve, reject) => {
    const request = get(url, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, timing: String(response.headers['server-timing']), body }));
    });
    request.on('finish', sent).on('error', reject);
  });
  return { sent: written, answer };
}

describe('npm start', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('serves the demo and stops cleanly on %s', { timeout: 30_000 }, async (signal) => {
    const demo = start();
    try {
      const url = await demo.url;
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<script type="module" src="/app.js">');
      const script = await fetch(`${url}/app.js`);
      expect(script.headers.get('content-type')).toMatch(/javascript/);
      // The client is in it.
      expect(await script.text()).toContain('HangtimeClientError');
      const posted = await fetch(`${url}/api/poll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'chat', data: { name: 't', text: 'hi' } }),
      });
      expect(posted.status).toBe(201);
      const polled = (await (await fetch(`${url}/api/poll?channels=chat&from=oldest`)).json()) as {
        events: Array<{ data: unknown }>;
        cursor: string;
      };
      expect(polled.events.map((event) => event.data)).toEqual([{ name: 't', text: 'hi' }]);
      // A held poll neither keeps the process from stopping nor is cut: it gets its normal
      // answer, with the cursor it was sent, and the client re-polls from there.
      const { cursor } = polled;
      const held = heldPoll(`${url}/api/poll?channels=chat&cursor=${cursor}&wait=20`);
      await held.sent;
      // The poll's bytes reached the server before this round trip started: it is held by now.
      await (await fetch(`${url}/`)).text();
      demo.child.kill(signal);
      const answer = await held.answer;
      expect(answer.status).toBe(200);
      expect(answer.timing).toContain('desc="shutdown"');
      expect(JSON.parse(answer.body)).toEqual({ events: [], cursor, more: false });
      expect(await demo.exited).toBe(0);
    } finally {
      if (demo.child.exitCode === null) demo.child.kill('SIGKILL');
    }
  });
});
