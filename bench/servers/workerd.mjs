// hangtime in workerd (Cloudflare's Workers runtime, through Miniflare): the bench Worker
// (servers/workerd-worker.mjs) with the Durable Object log, bundled with esbuild as wrangler
// would. The bench talks to workerd's own loopback socket; this Node process only starts it.
// Local workerd is not Cloudflare's network: one process, no placement, no network between the
// Worker and the object.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';

const dist = process.env.BENCH_DIST ?? 'dist';
const bundle = await build({
  entryPoints: [fileURLToPath(new URL('./workerd-worker.mjs', import.meta.url))],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  conditions: ['workerd', 'worker', 'browser'],
  alias: { hangtime: join(dist, 'index.js'), 'hangtime/cloudflare': join(dist, 'cloudflare.js') },
  write: false,
  logLevel: 'warning',
});
const mf = new Miniflare({
  modules: true,
  script: bundle.outputFiles[0].text,
  compatibilityDate: '2026-04-01',
  compatibilityFlags: ['enable_request_signal'],
  durableObjects: { HANGTIME: { className: 'BenchChannel', useSQLite: true } },
});
const url = await mf.ready;
const shutdown = async () => {
  await mf.dispose();
  process.exit(0);
};
process.on('disconnect', shutdown);
process.on('SIGTERM', shutdown);
process.send({ type: 'ready', port: Number(url.port) });
