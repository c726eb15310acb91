import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };

/** What each entry must export, as a CommonJS project sees it. */
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
  'hangtime/grip': 'gripProxy',
  'hangtime/react': 'useHangtime',
};

// A project next to the package, `node_modules/hangtime` linked to this checkout: specifiers
// resolve through package.json `exports`, as they do for a user.
const project = mkdtempSync(join(tmpdir(), 'hangtime-cjs-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('the package from a CommonJS project (require(esm), Node >= 20.19)', () => {
  it('require() resolves every entry and returns its exports', () => {
    // Build output is not committed: build it like `npm run build` when this checkout has none.
    if (!existsSync(join(root, 'dist', 'index.js'))) execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'ignore' });
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(root, join(project, 'node_modules', pkg.name), 'dir');
    const exported = Object.keys(pkg.exports).filter((subpath) => subpath !== './package.json');
    expect(exported.map((subpath) => (subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`)).sort()).toEqual(
      Object.keys(EXPECTED).sort(),
    );
    const script = `
      const expected = ${JSON.stringify(EXPECTED)};
      const seen = {};
      for (const [specifier, name] of Object.entries(expected)) seen[specifier] = typeof require(specifier)[name];
      process.stdout.write(JSON.stringify(seen));
    `;
    const output = execFileSync(process.execPath, ['--no-warnings', '-e', script], { cwd: project, encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual(Object.fromEntries(Object.keys(EXPECTED).map((specifier) => [specifier, 'function'])));
  });
});
