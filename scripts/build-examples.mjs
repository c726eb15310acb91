// Install, typecheck and build every example the way its README tells a user to, from a clean
// state: `npm ci` (each example has its lockfile; `hangtime` comes from this repository through
// `file:../..`, installed by `install-links` as a copy of what `npm pack` would publish), then
// `npm run typecheck` and `npm run build`. Run `npm run build` at the root first: the copy is of
// the built package. `node scripts/build-examples.mjs vercel netlify` builds some of them.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENTRIES } from './entries.mjs';

/** Example → what its `npm run build` makes (removed first, with node_modules, for a clean state). */
export const EXAMPLES = {
  'aws-lambda': ['dist'], // typecheck + esbuild bundles as `sam build` makes them (sam itself needs AWS)
  vercel: ['.next', 'next-env.d.ts'], // next build, with no secrets
  netlify: ['dist', 'public/app.js'], // the page script, and the functions bundled as Netlify does
  'custom-handler': ['dist'], // a Node server bundle
  cloudflare: ['dist', 'public/app.js', '.wrangler'], // the page script, and `wrangler deploy --dry-run` (no login)
};

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const missing = Object.keys(ENTRIES).filter(
  (name) => !existsSync(join(root, 'dist', `${name}.js`)) || !existsSync(join(root, 'dist', `${name}.d.ts`)),
);
if (missing.length > 0) {
  console.error(`The package is not built (dist/${missing[0]}.js or .d.ts is missing): run \`npm run build\` first`);
  process.exit(1);
}

const only = process.argv.slice(2);
const unknown = only.filter((name) => !(name in EXAMPLES));
if (unknown.length > 0) {
  console.error(`No example ${unknown.join(', ')}; the examples are ${Object.keys(EXAMPLES).join(', ')}`);
  process.exit(1);
}

// No telemetry or update checks from the builds: CI reaches the npm registry and nothing else.
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NO_UPDATE_NOTIFIER: '1', WRANGLER_SEND_METRICS: 'false' };
const npm = (dir, args) => execFileSync('npm', args, { cwd: dir, env, stdio: 'inherit' });
let failed = false;

for (const [name, outputs] of Object.entries(EXAMPLES)) {
  if (only.length > 0 && !only.includes(name)) continue;
  const dir = join(root, 'examples', name);
  const started = Date.now();
  try {
    for (const output of ['node_modules', ...outputs]) rmSync(join(dir, output), { recursive: true, force: true });
    // --prefer-offline: packages already in npm's cache are not revalidated (same lockfile, same bytes).
    npm(dir, ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error']);
    npm(dir, ['run', '--silent', 'typecheck']);
    npm(dir, ['run', '--silent', 'build']);
    console.log(`examples/${name}: installed, typechecked and built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch {
    failed = true;
    console.error(`examples/${name}: FAILED (see above)`);
  }
}

if (failed) process.exit(1);
