// Build every platform example against the BUILT package, the way a user's project sees it:
// `hangtime` and `hangtime/*` resolve through package.json `exports` to dist/ (run `npm run build`
// first). Each example is typechecked with its own tsconfig.json, extended by a generated one whose
// `paths` map the hangtime specifiers to dist/types, and each entry point is bundled with esbuild.
// The examples' own files stay as a user would deploy them: no repository paths inside.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Example → its entry points (the files its platform deploys as functions). */
export const EXAMPLES = {
  'aws-lambda': ['src/poll.ts', 'src/publish.ts'],
  vercel: ['app/api/poll/route.ts', 'app/api/publish/route.ts'],
  netlify: ['netlify/functions/poll.mts', 'netlify/functions/publish.mts'],
};

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** `hangtime/aws-lambda` → { js: '/…/dist/aws-lambda.js', types: '/…/dist/types/…/index.d.ts' }, from `exports`. */
const specifiers = new Map(
  Object.entries(pkg.exports)
    .filter(([, target]) => typeof target === 'object' && target.import !== undefined)
    .map(([subpath, target]) => [
      subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`,
      { js: join(root, target.import), types: join(root, target.types) },
    ]),
);

/** esbuild: resolve the package's own specifiers to the built files, with a clear error when one is not built. */
const fromDist = {
  name: 'hangtime-from-dist',
  setup(builder) {
    builder.onResolve({ filter: new RegExp(`^${pkg.name}(/|$)`) }, ({ path }) => {
      const target = specifiers.get(path);
      if (target === undefined) return { errors: [{ text: `${path} is not exported by package.json` }] };
      if (!existsSync(target.js)) {
        return { errors: [{ text: `${path} is not built (${relative(root, target.js)} is missing): run \`npm run build\` first` }] };
      }
      return { path: target.js };
    });
  },
};

/** Fail early and clearly when an example imports a part of the package that is not built. */
function assertBuilt(dir) {
  const sources = readdirSync(dir, { recursive: true })
    .filter((file) => /\.m?tsx?$/.test(file) && !file.includes('node_modules'))
    .map((file) => readFileSync(join(dir, file), 'utf8'));
  const used = new Set(sources.flatMap((text) => [...text.matchAll(new RegExp(`from '(${pkg.name}(?:/[a-z-]+)?)'`, 'g'))].map((m) => m[1])));
  for (const specifier of used) {
    const target = specifiers.get(specifier);
    if (target === undefined) throw new Error(`${specifier} is not exported by package.json`);
    for (const file of [target.js, target.types]) {
      if (!existsSync(file)) throw new Error(`${specifier} is not built (${relative(root, file)} is missing): run \`npm run build\` first`);
    }
  }
}

const cache = join(root, 'node_modules', '.cache', 'hangtime-examples');
mkdirSync(cache, { recursive: true });
const only = process.argv.slice(2);
let failed = false;

for (const [name, entries] of Object.entries(EXAMPLES)) {
  if (only.length > 0 && !only.includes(name)) continue;
  const dir = join(root, 'examples', name);
  const files = entries.map((entry) => join(dir, entry));
  try {
    assertBuilt(dir);
    const tsconfig = join(cache, `${name}.tsconfig.json`);
    writeFileSync(
      tsconfig,
      JSON.stringify(
        {
          extends: join(dir, 'tsconfig.json'),
          compilerOptions: {
            noEmit: true,
            incremental: false,
            paths: Object.fromEntries([...specifiers].map(([specifier, { types }]) => [specifier, [types]])),
          },
          files,
          include: [],
        },
        null,
        2,
      ),
    );
    execFileSync('npx', ['tsc', '-p', tsconfig], { cwd: root, stdio: 'inherit' });

    const result = await build({
      entryPoints: files,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      outdir: join(cache, name),
      metafile: true,
      logLevel: 'warning',
      // dist/ entries carry bare `import "./chunks/…"` lines (esbuild keeping evaluation order);
      // with `"sideEffects": false` they are dropped, harmlessly: the named imports load the same chunks.
      logOverride: { 'ignored-bare-import': 'silent' },
      plugins: [fromDist],
    });
    const sizes = Object.entries(result.metafile.outputs)
      .filter(([file]) => file.endsWith('.js'))
      .map(([file, { bytes }]) => `${relative(join(cache, name), file)} ${Math.round(bytes / 1024)} kB`);
    console.log(`examples/${name}: typechecked, bundled ${sizes.join(', ')}`);
  } catch (error) {
    failed = true;
    console.error(`examples/${name}: FAILED${error instanceof Error && error.message ? `: ${error.message.split('\n')[0]}` : ''}`);
  }
}

if (failed) process.exit(1);
