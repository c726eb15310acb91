import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRIES } from '../../scripts/entries.mjs';

// The package as npm would publish it: `npm pack`, then installed from the tarball into fresh
// projects next to nothing else, as a user installs it from the registry. ioredis is an optional
// peer dependency, so the project starts without it.
const root = join(import.meta.dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  exports: Record<string, unknown>;
};

/** Every entry and one function it must export. */
const EXPECTED: Record<string, string> = {
  hangtime: 'createHangtime',
  'hangtime/node': 'serve',
  'hangtime/redis': 'redisLog',
  'hangtime/aws-lambda': 'awsLambda',
  'hangtime/vercel': 'vercel',
  'hangtime/vercel/node': 'vercelNode',
  'hangtime/netlify': 'netlify',
  'hangtime/cloudflare': 'cloudflare',
  'hangtime/client': 'subscribe',
};
const MISSING_IOREDIS = /install ioredis \(>= 5\)/;

const work = mkdtempSync(join(tmpdir(), 'hangtime-pack-'));
const project = join(work, 'project');
let files: string[] = [];

beforeAll(() => {
  // Build output is not committed: build it like `npm run build` when this checkout has none.
  // (CI builds before the tests; `npm pack` itself would rebuild through `prepack`.)
  if (!existsSync(join(root, 'dist', 'index.js'))) execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'ignore' });
  const [packed] = JSON.parse(
    execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: root, encoding: 'utf8' }),
  ) as Array<{ filename: string; files: Array<{ path: string }> }>;
  files = packed!.files.map((file) => file.path).sort();
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'fresh-project', private: true }));
  // hangtime has no dependencies, so this needs no registry.
  execFileSync(npm, ['install', join(work, packed!.filename), '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: project,
    stdio: 'ignore',
  });
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['--no-warnings', ...args], { cwd: project, encoding: 'utf8' });
}

describe('the packed tarball', () => {
  it('holds the built entries, their bundled declarations, README, LICENSE and package.json, and nothing else', () => {
    expect(files).toContain('LICENSE');
    expect(files).toContain('README.md');
    expect(files).toContain('package.json');
    const other = files.filter((file) => !['LICENSE', 'README.md', 'package.json'].includes(file));
    // JavaScript and declarations only: no source maps, no per-module .d.ts tree (dist/types/).
    // Entries with a subpath of their own (hangtime/vercel/node) are one folder down.
    const entryFiles = new Set(Object.keys(ENTRIES).flatMap((name) => [`dist/${name}.js`, `dist/${name}.d.ts`]));
    expect(other.filter((file) => !entryFiles.has(file) && !/^dist\/(chunks\/)?[\w.-]+\.(js|d\.ts)$/.test(file))).toEqual([]);
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue;
      const { types, default: js } = target as { types: string; default: string };
      expect(files, subpath).toContain(types.slice(2));
      expect(files, subpath).toContain(js.slice(2));
    }
  });

  it('without ioredis, every entry but hangtime/redis imports, and hangtime/redis says to install ioredis', () => {
    const script = `
      const seen = {};
      for (const [specifier, name] of Object.entries(${JSON.stringify(EXPECTED)})) {
        seen[specifier] = await import(specifier).then((module) => typeof module[name], (error) => error.message);
      }
      process.stdout.write(JSON.stringify(seen));
    `;
    const { stdout, stderr } = run(['--input-type=module', '-e', script]);
    expect(stderr).toBe('');
    const seen = JSON.parse(stdout) as Record<string, string>;
    expect(seen['hangtime/redis']).toMatch(MISSING_IOREDIS);
    expect({ ...seen, 'hangtime/redis': 'function' }).toEqual(
      Object.fromEntries(Object.keys(EXPECTED).map((specifier) => [specifier, 'function'])),
    );
  });

  it('without ioredis, require("hangtime/redis") from CommonJS says the same', () => {
    const { stdout } = run(['-e', `try { require('hangtime/redis'); } catch (error) { process.stdout.write(error.message); }`]);
    expect(stdout).toMatch(MISSING_IOREDIS);
  });

  describe('with ioredis installed', () => {
    beforeAll(() => {
      // The repository's own ioredis (its dependencies resolve from where it really lives).
      symlinkSync(join(root, 'node_modules', 'ioredis'), join(project, 'node_modules', 'ioredis'), 'dir');
    });

    it('imports and requires every entry', () => {
      const names = JSON.stringify(EXPECTED);
      const esm = run([
        '--input-type=module',
        '-e',
        `const s = {}; for (const [k, n] of Object.entries(${names})) s[k] = typeof (await import(k))[n]; process.stdout.write(JSON.stringify(s));`,
      ]);
      const cjs = run([
        '-e',
        `const s = {}; for (const [k, n] of Object.entries(${names})) s[k] = typeof require(k)[n]; process.stdout.write(JSON.stringify(s));`,
      ]);
      const all = Object.fromEntries(Object.keys(EXPECTED).map((specifier) => [specifier, 'function']));
      expect(JSON.parse(esm.stdout || '{}'), esm.stderr).toEqual(all);
      expect(JSON.parse(cjs.stdout || '{}'), cjs.stderr).toEqual(all);
    });

    // NodeNext, the strictest resolution (the examples' builds use Bundler); one run, it is slow.
    it('typechecks a TypeScript project using every entry (NodeNext, declarations checked too)', () => {
      writeFileSync(
        join(project, 'use.ts'),
        `
        import { createHangtime, memoryLog, isHangtimeError, type EventLog, type HangtimeEvent } from 'hangtime';
        import { serve, toNodeListener } from 'hangtime/node';
        import { redisLog, type RedisLog } from 'hangtime/redis';
        import { awsLambda, type AwsLambdaHandler } from 'hangtime/aws-lambda';
        import { vercel } from 'hangtime/vercel';
        import { netlify, netlifyV1 } from 'hangtime/netlify';
        import { subscribe, type HangtimeClientError } from 'hangtime/client';

        const log: EventLog = memoryLog();
        const hangtime = createHangtime({ log, maxWaitMs: 20_000 });
        const redis: RedisLog = redisLog({ url: 'redis://127.0.0.1:6379' });
        export const lambda: AwsLambdaHandler = awsLambda(hangtime, { frontDoor: 'http-api' });
        export const GET: (request: Request) => Promise<Response> = vercel(hangtime, { maxDuration: 60 });
        export const fn = netlify(createHangtime({ log: redis }));
        export const v1 = netlifyV1(hangtime);
        export const listener = toNodeListener(hangtime);
        export const started = serve(hangtime, { port: 0 });
        subscribe<{ text: string }>('http://127.0.0.1/poll', {
          channels: ['chat'],
          onEvents: (events: ReadonlyArray<HangtimeEvent<{ text: string }>>) => events.map((event) => event.data.text.toUpperCase()),
          onError: (error: HangtimeClientError) => isHangtimeError(error),
        });
        `,
      );
      writeFileSync(
        join(project, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            lib: ['ES2023', 'DOM'],
            strict: true,
            noEmit: true,
            skipLibCheck: false,
            types: ['node'],
            typeRoots: [join(root, 'node_modules', '@types')],
          },
          files: ['use.ts'],
        }),
      );
      // A CommonJS package.json makes NodeNext treat use.ts as CommonJS: ESM-only entries need "type": "module".
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'fresh-project', private: true, type: 'module' }));
      const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8' });
      expect(result.stdout + result.stderr).toBe('');
      expect(result.status).toBe(0);
    }, 120_000);
  });
});
