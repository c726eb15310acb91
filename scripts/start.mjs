// `npm start`: the chat demo on http://localhost:3000 (PORT overrides), with nothing but
// `npm install` done before. Plain `node` cannot import TypeScript, so esbuild bundles the
// demo's server entry first (a few ms) and the bundle is imported; the page script is
// bundled from `src/client` when the server starts.
import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Under node_modules so that the bundle's bare imports (esbuild) resolve.
const outdir = join(root, 'node_modules', '.cache', 'hangtime-demo');
const outfile = join(outdir, 'server.mjs');
const { outputFiles } = await build({
  entryPoints: [join(root, 'examples', 'demo', 'server.ts')],
  outfile,
  write: false,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
});
// Written whole, then renamed: two demos starting together never import a half-written file.
mkdirSync(outdir, { recursive: true });
writeFileSync(`${outfile}.${process.pid}`, outputFiles[0].contents);
renameSync(`${outfile}.${process.pid}`, outfile);
const { startDemo } = await import(pathToFileURL(outfile).href);

const port = process.env.PORT === undefined || process.env.PORT === '' ? 3000 : Number(process.env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`);
  process.exit(1);
}

let demo;
try {
  demo = await startDemo({ port, appEntry: join(root, 'examples', 'demo', 'app.ts') });
} catch (error) {
  console.error(error.code === 'EADDRINUSE' ? `Port ${port} is in use: try PORT=3001 npm start` : error);
  process.exit(1);
}
console.log(`hangtime demo: http://localhost:${demo.port}  (open it in two tabs; Ctrl-C stops)`);

// SIGTERM (a process manager, a container stop) or Ctrl-C: held polls get their normal answer
// with their cursor, so the page re-polls from where it was once the server is back.
let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await demo.close();
  console.log('\nstopped');
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
