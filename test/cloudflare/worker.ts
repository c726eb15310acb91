import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { Miniflare, type MiniflareOptions } from 'miniflare';

/**
 * Bundle a Worker with esbuild as wrangler would (ESM, the `workerd`/`worker`/`browser`
 * conditions), refusing any Node built-in, and run it in workerd through Miniflare, offline.
 */

const NODE_BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** Fails the build on any import of a Node built-in (`node:*` or a bare `fs`, `stream`, …). */
export const noNodeBuiltins: Plugin = {
  name: 'no-node-builtins',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /.*/ }, (args) => {
      if (args.path.startsWith('node:') || NODE_BUILTINS.has(args.path)) {
        return { errors: [{ text: `${args.importer} imports the Node built-in ${args.path}` }] };
      }
      return undefined;
    });
  },
};

/** Bundle `entry` (a path relative to the repository root) for workerd; `alias` maps package
 * specifiers (`hangtime`, `hangtime/cloudflare`) to files. */
export async function bundleWorker(entry: string, alias?: Record<string, string>): Promise<string> {
  const result = await build({
    ...(alias === undefined ? {} : { alias }),
    entryPoints: [fileURLToPath(new URL(`../../${entry}`, import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    external: ['cloudflare:*'],
    write: false,
    logLevel: 'silent',
    plugins: [noNodeBuiltins],
  });
  return result.outputFiles[0]!.text;
}

export const COMPATIBILITY_DATE = '2026-04-01';

let bundled: Promise<string> | undefined;

export interface TestWorker {
  readonly mf: Miniflare;
  /** The Worker's address on loopback (real HTTP, for fetch and Chromium). */
  readonly url: URL;
  dispose(): Promise<void>;
}

/** Start the test Worker (test/cloudflare/fixtures/worker.ts) in workerd. `persist`: a directory
 * that keeps Durable Object storage across restarts of workerd. */
export async function startTestWorker(extra: { persist?: string; bindings?: Record<string, string> } = {}): Promise<TestWorker> {
  bundled ??= bundleWorker('test/cloudflare/fixtures/worker.ts');
  const options: MiniflareOptions = {
    modules: true,
    script: await bundled,
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: ['enable_request_signal'],
    durableObjects: { HANGTIME: { className: 'TestChannel', useSQLite: true } },
    ...(extra.persist === undefined ? {} : { durableObjectsPersist: extra.persist }),
    ...(extra.bindings === undefined ? {} : { bindings: extra.bindings }),
  };
  const mf = new Miniflare(options);
  const url = await mf.ready;
  return { mf, url, dispose: () => mf.dispose() };
}
