import { build, type Plugin } from 'esbuild';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENTRIES, specifierOf } from '../../scripts/entries.mjs';

// Issue 14, "Edge and non-Node runtimes": the Web entries must bundle for a runtime with no Node
// built-ins (Vercel's Edge runtime, Cloudflare Workers, Deno, a browser). Each is bundled from its
// source as a user's bundler would, for `platform: 'browser'`, and every import of a Node
// built-in (`node:http`, `buffer`, …) it reaches is a failure, named with the file that made it.

const root = join(import.meta.dirname, '..', '..');

/** The entries that run where Node does not: all but the Node server, the Node signature on Vercel, and Redis (ioredis needs TCP sockets). */
const NODE_ONLY = new Set(['node', 'vercel/node', 'redis']);
const WEB_ENTRIES = Object.keys(ENTRIES).filter((name) => !NODE_ONLY.has(name));

/** Bundle an entry; return every Node built-in it imports, as `importer → module`. */
async function nodeImportsOf(name: string): Promise<string[]> {
  const found: string[] = [];
  const recordBuiltins: Plugin = {
    name: 'record-node-builtins',
    setup(builder) {
      builder.onResolve({ filter: /.*/ }, (args) => {
        if (!isBuiltin(args.path)) return undefined;
        found.push(`${args.importer.slice(root.length + 1)} → ${args.path}`);
        return { path: args.path, external: true };
      });
    },
  };
  await build({
    entryPoints: [join(root, (ENTRIES as Record<string, string>)[name]!)],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    logLevel: 'silent',
    plugins: [recordBuiltins],
  });
  return found;
}

describe('Web entries bundle with no Node built-in', () => {
  it.each(WEB_ENTRIES.map((name) => [specifierOf(name), name]))('%s', async (_specifier, name) => {
    expect(await nodeImportsOf(name)).toEqual([]);
  });

  it('the check finds a Node built-in where there is one (hangtime/vercel/node)', async () => {
    expect(await nodeImportsOf('vercel/node')).toContainEqual(expect.stringContaining('adapters/node/'));
  });

  it('every adapter with a Web signature is among the entries checked', () => {
    expect(WEB_ENTRIES).toEqual(expect.arrayContaining(['index', 'client', 'vercel', 'netlify', 'aws-lambda']));
  });
});
