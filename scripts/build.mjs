// Build: esbuild bundles one ESM file per subpath export (shared code split into chunks, so
// every entry sees the same core module instances); tsc writes the declarations.
import { build } from 'esbuild';
import { existsSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Subpath export → source entry. Parts not written yet are skipped, never stubbed. */
export const ENTRIES = {
  index: 'src/index.ts',
  node: 'adapters/node/index.ts',
  redis: 'src/redis/index.ts',
  'aws-lambda': 'adapters/aws-lambda/index.ts',
  vercel: 'adapters/vercel/index.ts',
  netlify: 'adapters/netlify/index.ts',
  client: 'src/client/index.ts',
};

const entryPoints = Object.fromEntries(Object.entries(ENTRIES).filter(([, file]) => existsSync(file)));
rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints,
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  packages: 'external',
  external: ['node:*'],
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: true,
  logLevel: 'warning',
});
execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
console.log(`built ${Object.keys(entryPoints).join(', ')} into dist/`);
