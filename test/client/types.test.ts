// `hangtime/client`'s declarations in projects that are not this one: a Node project without
// the DOM lib (`lib: ["ES2022"]` and @types/node, what a Node-only project has), a project with
// no platform types at all (`lib: ["ES2022"]`, `types: []`), and a browser project. Each
// compiles a small consumer with `tsc`, checking the declarations too (`skipLibCheck: false`).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const project = mkdtempSync(join(tmpdir(), 'hangtime-client-types-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

/** Run tsc; its output when it fails, `''` when it passes. */
function compile(args: string[]): string {
  try {
    execFileSync(process.execPath, [tsc, ...args], { cwd: project, encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    return `${stdout}${stderr}` || String(error);
  }
}

// The package as a consumer installs it: `node_modules/hangtime` with the client's declarations
// where package.json `exports` says (emitted from src/client with the repository's settings).
beforeAll(() => {
  const pkg = join(project, 'node_modules', 'hangtime');
  const types = join(pkg, 'dist', 'types', 'src', 'client');
  mkdirSync(types, { recursive: true });
  const emitted = compile([
    ...['--declaration', '--emitDeclarationOnly', '--outDir', types, '--rootDir', join(root, 'src', 'client')],
    ...[
      '--target',
      'ES2022',
      '--module',
      'NodeNext',
      '--moduleResolution',
      'NodeNext',
      '--lib',
      'ES2023,DOM,DOM.Iterable',
      '--types',
      'node',
    ],
    ...['--typeRoots', join(root, 'node_modules', '@types'), '--strict', '--skipLibCheck'],
    join(root, 'src', 'client', 'index.ts'),
  ]);
  expect(emitted).toBe('');
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: 'hangtime',
      type: 'module',
      exports: { './client': { types: './dist/types/src/client/index.d.ts', import: './dist/client.js' } },
    }),
  );
  mkdirSync(join(project, 'node_modules', '@types'));
  // @types/node for the Node project, as its own install would have it.
  for (const name of ['node', '../undici-types']) {
    const target = join(root, 'node_modules', '@types', name);
    execFileSync('cp', ['-r', target, join(project, 'node_modules', '@types', name)]);
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module' }));
}, 120_000);

/** What any project does with the client, whatever its platform types. */
const COMMON = `
import { HangtimeClientError, isHangtimeClientError, poll, subscribe, type Gap, type HangtimeClientErrorCode, type Status } from 'hangtime/client';

const describeStatus = (status: Status): string =>
  status.state === 'retrying' ? \`retrying in \${status.retryAt - Date.now()} ms (attempt \${status.attempt}: \${status.error.code})\` : status.state;
const describeGap = (gap: Gap): string => (gap.reason === 'reset' ? 'history reset' : \`\${gap.missed ?? 'unknown'} missed\`);

const subscription = subscribe<{ text: string }>('http://127.0.0.1:3000/api/poll', {
  channels: ['chat'],
  waitMs: Infinity,
  headers: { authorization: 'Bearer x' },
  storage: { getItem: () => null, setItem: () => {} },
  storageKey: 'cursor',
  clock: { now: () => 0, setTimeout: (wake: () => void) => wake, clearTimeout: () => {} },
  onEvents: (events) => events.map((event) => event.data.text.toUpperCase()),
  onGap: (gaps) => gaps.map(describeGap),
  onStatus: (status) => describeStatus(status),
  onError: (error) => {
    const code: HangtimeClientErrorCode = error.code;
    if (code === 'unauthorized' || !error.willRetry) subscription.close();
  },
});
subscription.retryNow();
const error = new HangtimeClientError('offline', { code: 'network', willRetry: true, cause: new Error('x') });
export const checks = [subscription.cursor, subscription.done, isHangtimeClientError(error) && error.status];

// The checks check: a wrong option is an error (or this directive is).
// @ts-expect-error: \`waitMs\` is a number
subscribe('/x', { channels: ['a'], waitMs: '25', onEvents: () => {} });

export async function worker(): Promise<void> {
  for await (const { events, cursor } of poll<number>('http://127.0.0.1:3000/api/poll', { channels: ['jobs'], from: 'oldest' })) {
    events.forEach((event) => event.data.toFixed());
    void cursor.length;
  }
}
`;

/** Write `source` as a project with these compiler options, and compile it. */
function check(name: string, compilerOptions: Record<string, unknown>, source: string): string {
  const dir = join(project, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'consumer.ts'), source);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        ...compilerOptions,
      },
      files: ['consumer.ts'],
    }),
  );
  return compile(['-p', join(dir, 'tsconfig.json')]);
}

// tsc checks @types/node in full (`skipLibCheck: false`): seconds each, more on a loaded machine.
describe("hangtime/client's types", { timeout: 120_000 }, () => {
  it('compile in a Node project without the DOM lib (lib ES2022, @types/node), with Node’s fetch, URL and AbortSignal', () => {
    const source = `${COMMON}
      const stop = new AbortController();
      subscribe(new URL('http://127.0.0.1:3000/api/poll'), {
        channels: ['a'],
        signal: stop.signal,
        headers: async () => new Headers({ authorization: 'Bearer x' }),
        fetch: (url, init) => fetch(url, init),
        clock: { now: Date.now, setTimeout, clearTimeout },
        onEvents: () => {},
      });
    `;
    expect(check('node', { lib: ['ES2022'], types: ['node'] }, source)).toBe('');
  });

  it('compile with no platform types at all (lib ES2022, types [])', () => {
    const source = `${COMMON}
      subscribe('http://127.0.0.1:3000/api/poll', {
        channels: ['a'],
        headers: [['authorization', 'Bearer x']],
        fetch: async (url, init) => ({ status: 200, headers: { get: () => null }, json: async () => ({ url, cache: init.cache }) }),
        onEvents: () => {},
      });
    `;
    expect(check('bare', { lib: ['ES2022'], types: [] }, source)).toBe('');
  });

  it('compile in a browser project (lib DOM), with its fetch, Headers, URL, AbortSignal and storage', () => {
    const source = `${COMMON}
      subscribe(new URL('/api/poll', location.href), {
        channels: ['a'],
        signal: AbortSignal.timeout(1000),
        headers: new Headers(),
        fetch: (url, init) => fetch(url, init),
        storage: sessionStorage,
        clock: { now: () => performance.timeOrigin + performance.now(), setTimeout, clearTimeout },
        onEvents: () => {},
      });
    `;
    expect(check('dom', { lib: ['ES2022', 'DOM'], types: [] }, source)).toBe('');
  });
});
