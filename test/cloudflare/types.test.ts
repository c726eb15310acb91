import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

it('hangtime/cloudflare typechecks with @cloudflare/workers-types (env bindings, DurableObjectState, ExportedHandler)', () => {
  // Build output is not committed: build it like `npm run build` when this checkout has none.
  if (!existsSync(join(root, 'dist', 'cloudflare.d.ts')))
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'ignore' });
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  let output = '';
  try {
    execFileSync(process.execPath, [tsc, '-p', 'test/cloudflare/types/tsconfig.json'], { cwd: root, encoding: 'utf8' });
  } catch (error) {
    output = String((error as { stdout?: string }).stdout ?? error);
  }
  expect(output).toBe('');
}, 60_000);
