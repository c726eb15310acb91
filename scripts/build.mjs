// Build dist/, which is what the package ships:
// - esbuild bundles one ESM file per subpath export, shared code split into chunks so that every
//   entry sees the same core module instances. No source maps: the source is not shipped, and
//   the output is readable, unminified ES2022.
// - ioredis is loaded through `#ioredis` (package.json "imports"): a static import for bundlers,
//   a synchronous require with an error that says "install ioredis" for Node (see
//   src/redis/ioredis.node.ts).
// - tsc writes declarations to a cache, and rollup-plugin-dts bundles them into one .d.ts per
//   entry (plus shared chunks, so a type declared once stays one type across entries): only the
//   public API's declarations ship, not one file per internal module.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rollup } from 'rollup';
import { dts } from 'rollup-plugin-dts';
import { ENTRIES } from './entries.mjs';

export { ENTRIES };

// Outside node_modules: rollup-plugin-dts takes whatever resolves into node_modules as external.
const typesDir = mkdtempSync(join(tmpdir(), 'hangtime-types-'));
const entryPoints = Object.fromEntries(Object.entries(ENTRIES).filter(([, file]) => existsSync(file)));
rmSync('dist', { recursive: true, force: true });

/** The library's `import … from 'ioredis'` becomes `#ioredis`, resolved when the package is used. */
const ioredisThroughImports = {
  name: 'ioredis-through-imports',
  setup(builder) {
    builder.onResolve({ filter: /^ioredis$/ }, () => ({ path: '#ioredis', external: true }));
  },
};

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
  logLevel: 'warning',
  plugins: [ioredisThroughImports],
});
// `#ioredis` is external to esbuild, so nothing would check the names imported from it: every one
// must be exported by both targets below.
const IOREDIS_EXPORTS = ['Redis', 'Cluster'];
for (const file of readdirSync('dist', { recursive: true }).filter((name) => name.endsWith('.js'))) {
  for (const [statement, names = ''] of readFileSync(join('dist', file), 'utf8').matchAll(
    /import\s*(?:\{([^}]*)\}|[^'";]*)\s*from\s*"#ioredis"/g,
  )) {
    const unknown = names
      .split(',')
      .map((name) => name.trim().split(/\s+as\s+/)[0])
      .filter((name) => !IOREDIS_EXPORTS.includes(name));
    if (names === '' || unknown.some((name) => name !== '')) {
      throw new Error(
        `dist/${file}: \`${statement}\`: add what it imports to src/redis/ioredis.node.ts, ioredis.bundler.ts and IOREDIS_EXPORTS`,
      );
    }
  }
}
// The two targets of `#ioredis`: each imports the real package, so they are built apart.
await build({
  entryPoints: { 'ioredis.node': 'src/redis/ioredis.node.ts', 'ioredis.bundler': 'src/redis/ioredis.bundler.ts' },
  outdir: 'dist',
  format: 'esm',
  platform: 'node',
  target: 'es2022',
  logLevel: 'warning',
});

execFileSync(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', typesDir], {
  stdio: 'inherit',
});
const bundle = await rollup({
  input: Object.fromEntries(Object.entries(entryPoints).map(([name, file]) => [name, join(typesDir, file.replace(/\.ts$/, '.d.ts'))])),
  plugins: [dts()],
  external: (id) => id === 'ioredis' || id.startsWith('node:'),
  onwarn(warning, warn) {
    // A public type that refers to something the bundle cannot see is a packaging bug.
    if (warning.code === 'UNRESOLVED_IMPORT') throw new Error(warning.message);
    warn(warning);
  },
});
await bundle.write({ dir: 'dist', format: 'es', entryFileNames: '[name].d.ts', chunkFileNames: 'chunks/[name]-[hash].d.ts' });
await bundle.close();
rmSync(typesDir, { recursive: true, force: true });
console.log(`built ${Object.keys(entryPoints).join(', ')} into dist/ (JavaScript and declarations)`);
