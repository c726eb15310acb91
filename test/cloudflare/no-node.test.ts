import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { noNodeBuiltins } from './worker.js';

// What a Worker imports (hangtime, hangtime/cloudflare, hangtime/client) must load without
// nodejs_compat: bundled for a browser-like platform, any Node built-in fails the build.
describe('the entries a Worker imports', () => {
  for (const entry of ['src/index.ts', 'adapters/cloudflare/index.ts', 'src/client/index.ts']) {
    it(`${entry} imports no Node built-in`, async () => {
      const result = await build({
        entryPoints: [fileURLToPath(new URL(`../../${entry}`, import.meta.url))],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        conditions: ['workerd', 'worker', 'browser'],
        write: false,
        logLevel: 'silent',
        plugins: [noNodeBuiltins],
      });
      expect(result.errors).toEqual([]);
      expect(result.outputFiles[0]!.text.length).toBeGreaterThan(1000);
    });
  }

  it('the check itself fails on a Node built-in (hangtime/node imports node:http)', async () => {
    await expect(
      build({
        entryPoints: [fileURLToPath(new URL('../../adapters/node/index.ts', import.meta.url))],
        bundle: true,
        platform: 'browser',
        write: false,
        logLevel: 'silent',
        plugins: [noNodeBuiltins],
      }),
    ).rejects.toThrow(/Node built-in/);
  });
});
