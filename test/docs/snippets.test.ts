// Every ```ts block of README.md and docs/*.md is either complete — it typechecks, as it is
// written, against the package's types (`hangtime/*` mapped to the source entries) — or marked
// ```ts fragment (a piece of a larger program, which the text around it says). One tsc run
// checks all complete blocks. docs/server.md's walkthrough (start the server, then the first
// curl) is run for real. Blocks marked "Runs as is (tested in …)" are run by the test they name.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { ENTRIES, specifierOf } from '../../scripts/entries.mjs';

const root = join(import.meta.dirname, '..', '..');
// Inside node_modules, so that the snippets' own imports (ioredis, node:*) resolve as in a project.
const work = join(root, 'node_modules', '.cache', `hangtime-docs-${process.pid}`);
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Block {
  doc: string;
  /** Line of the opening fence. */
  line: number;
  info: string;
  code: string;
}

function blocks(doc: string): Block[] {
  const lines = readFileSync(join(root, doc), 'utf8').split('\n');
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.indexOf('```', i + 1);
    if (open[1] === 'ts') found.push({ doc, line: i + 1, info: open[2]!.trim(), code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return found;
}

const docs = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .map((file) => `docs/${file}`),
];
const all = docs.flatMap(blocks);
const complete = all.filter((block) => block.info === '');
const fileOf = (block: Block): string => `${block.doc.replace(/[/.]/g, '_')}_${block.line}.ts`;

/** `hangtime`, `hangtime/redis`, … → the source entry, absolute. */
const sources = Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [specifierOf(name), join(root, file)]));

describe('code blocks in README.md and docs/', () => {
  it('are complete or marked as fragments, nothing else', () => {
    expect(complete.length).toBeGreaterThan(5);
    expect(
      all.filter((block) => block.info !== '' && block.info !== 'fragment').map((block) => `${block.doc}:${block.line} ${block.info}`),
    ).toEqual([]);
  });

  it('typecheck as they are written, when complete', { timeout: 180_000 }, () => {
    mkdirSync(work, { recursive: true });
    // ES modules (top-level await), like the projects the docs address.
    writeFileSync(join(work, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    for (const block of complete) writeFileSync(join(work, fileOf(block)), `${block.code}\nexport {};\n`);
    writeFileSync(
      join(work, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          types: ['node'],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          isolatedModules: true,
          paths: Object.fromEntries(Object.entries(sources).map(([specifier, file]) => [specifier, [file]])),
        },
        files: complete.map(fileOf),
      }),
    );
    const result = spawnSync(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(work, 'tsconfig.json')],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    // `node_modules/.cache/…/docs_server_md_16.ts(3,7): error …` → `docs/server.md:19: error …`
    const errors = (result.stdout + result.stderr)
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const match = /([\w.]+_(\d+)\.ts)\((\d+),\d+\): (.*)$/.exec(line);
        const block = match && complete.find((candidate) => fileOf(candidate) === match[1]);
        return block ? `${block.doc}:${block.line + Number(match[3])}: ${match[4]}` : relative(root, line);
      });
    expect(errors).toEqual([]);
    expect(result.status).toBe(0);
  });

  it('docs/server.md: the Usage walkthrough answers its first curl with the event at once', { timeout: 60_000 }, async () => {
    const doc = readFileSync(join(root, 'docs', 'server.md'), 'utf8');
    const usage = doc.slice(doc.indexOf('## Usage'));
    const server = /```ts\n([\s\S]*?)```/.exec(usage)![1]!;
    const curl = /```sh\n(?:#.*\n)*curl '([^']+)'/.exec(usage)![1]!;
    expect(server).toContain('port: 3000');
    expect(curl).toMatch(/^http:\/\/127\.0\.0\.1:3000\//);

    // The server as written, on a free port instead of 3000 (the machine is shared).
    const bundled = await build({
      stdin: { contents: server.replace('port: 3000', 'port: 0'), loader: 'ts', resolveDir: root, sourcefile: 'server.ts' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      logLevel: 'silent',
      alias: sources,
    });
    mkdirSync(work, { recursive: true });
    const file = join(work, 'server.mjs');
    writeFileSync(file, bundled.outputFiles[0]!.text);
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let output = '';
        child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
          output += chunk;
          const match = /listening on (\S+)/.exec(output);
          if (match) resolve(match[1]!);
        });
        child.once('exit', (code) => reject(new Error(`the walkthrough's server exited (${code}): ${output}`)));
      });
      const started = Date.now();
      // A newcomer's curl waits; this one gives up well before the 25 s hold the bug caused.
      const response = await fetch(curl.replace('http://127.0.0.1:3000', url), { signal: AbortSignal.timeout(10_000) });
      const body = (await response.json()) as { events: Array<{ channel: string; data: unknown }>; cursor: string };
      expect(response.status).toBe(200);
      expect(body.events).toEqual([expect.objectContaining({ channel: 'public:chat', data: { user: 'ada', text: 'hello' } })]);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      child.kill();
    }
  });

  it('name a test that exists when they say they run as is', () => {
    for (const doc of docs) {
      for (const [, test] of readFileSync(join(root, doc), 'utf8').matchAll(/Runs as is \(tested in (test\/[\w/.-]+\.ts)\)/g)) {
        expect(existsSync(join(root, test!)), `${doc} names ${test}`).toBe(true);
      }
    }
  });
});
