// docs/client.md's Node recipes, run as they are written: a worker process against a real
// server, stopped with SIGTERM and started again from its cursor file; the fake clock.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { onCleanup, startServer, until } from './support.js';

/** The first ```ts block after `heading` in docs/client.md. */
function recipe(heading: string): string {
  const doc = readFileSync('docs/client.md', 'utf8');
  const section = doc.slice(doc.indexOf(heading));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error(`no ts block after ${heading}`);
  return match[1]!;
}

/** Bundle a recipe for Node, with `hangtime/client` taken from the source tree. */
async function bundle(source: string): Promise<string> {
  const result = await build({
    stdin: { contents: source, loader: 'ts', resolveDir: process.cwd(), sourcefile: 'recipe.ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'hangtime-client-from-source',
        setup(builder) {
          builder.onResolve({ filter: /^hangtime\/client$/ }, () => ({ path: resolve('src/client/index.ts') }));
        },
      },
    ],
  });
  return result.outputFiles[0]!.text;
}

function startWorker(file: string, env: Record<string, string>): { child: ChildProcess; output: string[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => output.push(...chunk.split('\n').filter(Boolean)));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => output.push(...chunk.split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  onCleanup(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { child, output, exited };
}

describe('docs/client.md recipes', () => {
  it('the Node worker runs each job once across a restart', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hangtime-worker-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'worker.mjs');
    writeFileSync(file, await bundle(recipe('### Node worker')));
    const server = await startServer();
    const env = { HANGTIME_URL: server.url, CURSOR_FILE: join(dir, 'jobs.cursor') };

    await server.log.append('jobs', { id: 'a' });
    const first = startWorker(file, env);
    await until(() => first.output.includes('job a'), 15_000, 'job a');
    await server.log.append('jobs', { id: 'b' });
    await until(() => first.output.includes('job b'), 15_000, 'job b');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(readFileSync(env.CURSOR_FILE, 'utf8')).toMatch(/^[\w.-]+$/);

    await server.log.append('jobs', { id: 'c' });
    const second = startWorker(file, env);
    await until(() => second.output.includes('job c'), 15_000, 'job c');
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect([...first.output, ...second.output]).toEqual(['job a', 'job b', 'job c']);
  });

  it('the fake clock makes three retries of a minute each without waiting', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hangtime-clock-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'clock.mjs');
    writeFileSync(file, await bundle(recipe('### Testing with a fake clock')));
    // A port nothing listens on: every attempt is a network error.
    const server = await startServer();
    await server.stop();
    const started = Date.now();
    const run = startWorker(file, { HANGTIME_URL: server.url });
    expect(await run.exited).toBe(0);
    expect(run.output).toEqual([
      expect.stringMatching(/^attempt 1 failed \(network\), retry at \d+$/),
      expect.stringMatching(/^attempt 2 failed \(network\), retry at \d+$/),
      expect.stringMatching(/^attempt 3 failed \(network\), retry at \d+$/),
      'done',
    ]);
    // Backoffs of up to a minute, two minutes, four: none of them waited for.
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
