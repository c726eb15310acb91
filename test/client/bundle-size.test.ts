// The client's promise: at most 2 KB gzipped as an app ships it (esbuild, minified, for the
// browser), and nothing imported but the platform.
import { build } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const LIMIT_BYTES = 2048;

describe('hangtime/client bundle', () => {
  it(`is at most ${LIMIT_BYTES} bytes minified and gzipped`, async () => {
    const result = await build({
      entryPoints: ['src/client/index.ts'],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]!.contents;
    const gzipped = gzipSync(code, { level: 9 }).length;
    console.log(`hangtime/client: ${code.length} bytes minified, ${gzipped} bytes gzipped (limit ${LIMIT_BYTES})`);
    expect(gzipped).toBeLessThanOrEqual(LIMIT_BYTES);
    // Self-contained: the bundle imports nothing.
    expect(new TextDecoder().decode(code)).not.toMatch(/\bimport\s*[{("'*]/);
  });

  it('imports nothing outside src/client/', () => {
    for (const file of readdirSync('src/client')) {
      const source = readFileSync(`src/client/${file}`, 'utf8');
      for (const [, specifier] of source.matchAll(/^(?:import|export)\b[^;]*?from\s+'([^']+)'/gm)) {
        expect(specifier, `${file} imports ${specifier}`).toMatch(/^\.\/[\w-]+\.js$/);
      }
    }
  });
});
