/**
 * The `npm start` demo: a chat page and its hangtime endpoint on one `node:http` server, with
 * the in-memory log. `scripts/start.mjs` runs it; the browser tests start it in-process.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { createHangtime, memoryLog, type Hangtime } from '../../src/index.js';
import { serve } from '../../adapters/node/index.js';
import { PAGE } from './page.js';

export interface DemoOptions {
  /** Default `3000`; `0` picks a free port. */
  readonly port?: number;
  /** Default `'127.0.0.1'`. */
  readonly hostname?: string;
  /** The page script's source. Default: `app.ts` next to this file. */
  readonly appEntry?: string;
}

export interface Demo {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly hangtime: Hangtime;
  /** Shut down gracefully: held polls get their normal answer and cursor, the server stops, the log is dropped. */
  close(): Promise<void>;
}

const scripts = new Map<string, Promise<string>>();

/** The page script: `app.ts` and the client bundled by esbuild, once per process. */
function pageScript(entry: string): Promise<string> {
  let script = scripts.get(entry);
  if (script === undefined) {
    script = build({
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      target: 'es2022',
      write: false,
      sourcemap: 'inline',
      logLevel: 'warning',
    }).then((result) => result.outputFiles[0]!.text);
    scripts.set(entry, script);
  }
  return script;
}

/**
 * Start the demo.
 *
 * @example
 * const demo = await startDemo({ port: 3000 });
 * // open http://localhost:3000 in two tabs
 * await demo.close();
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const { port = 3000, hostname = '127.0.0.1', appEntry = fileURLToPath(new URL('./app.ts', import.meta.url)) } = options;
  const script = await pageScript(appEntry);
  const log = memoryLog();
  const hangtime = createHangtime({
    log,
    // Anyone may post to the demo's one channel; a real app checks its session here.
    authorizePublish: (_request, channel) => channel === 'chat',
  });
  const page = (body: string, type: string) =>
    new Response(body, { headers: { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' } });
  const server = await serve(
    (request, context) => {
      const { pathname } = new URL(request.url);
      if (pathname === '/api/poll') return hangtime.handler(request, context);
      if (request.method !== 'GET') return new Response('Method not allowed', { status: 405 });
      if (pathname === '/') return page(PAGE, 'text/html');
      if (pathname === '/app.js') return page(script, 'text/javascript');
      return new Response('Not found', { status: 404 });
    },
    { port, hostname },
  );
  const actualPort = Number(new URL(server.url).port);
  return {
    url: server.url,
    port: actualPort,
    hangtime,
    async close() {
      // hangtime first: held polls get their answer (the server serves a Web handler, so
      // serve().close() cannot know the hangtime behind it), new ones a 503 to retry later.
      await hangtime.close();
      await server.close();
      // The log was passed in: it is ours to close, not hangtime's.
      await log.close();
    },
  };
}
