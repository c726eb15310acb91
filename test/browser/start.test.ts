// `npm start` as a user runs it: `node scripts/start.mjs` builds and serves the demo, prints
// its URL, serves the page, the script and the endpoint, and exits 0 on Ctrl-C (SIGINT) or
// SIGTERM.
import { spawn } from 'node:child_process';
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
      const polled = (await (await fetch(`${url}/api/poll?channels=chat&from=oldest`)).json()) as { events: Array<{ data: unknown }> };
      expect(polled.events.map((event) => event.data)).toEqual([{ name: 't', text: 'hi' }]);
      // A held poll must not keep the process from stopping.
      const held = fetch(`${url}/api/poll?channels=chat&wait=20`).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
      demo.child.kill(signal);
      expect(await demo.exited).toBe(0);
      await held;
    } finally {
      if (demo.child.exitCode === null) demo.child.kill('SIGKILL');
    }
  });
});
