import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ENTRIES, specifierOf } from '../../scripts/entries.mjs';
import { bundleWorker } from './worker.js';

// examples/cloudflare's Worker, as its wrangler.jsonc configures it (binding, SQLite class,
// compatibility date and flags, vars), in workerd, with `hangtime/*` taken from the sources.
const root = fileURLToPath(new URL('../../', import.meta.url));
const config = JSON.parse(
  readFileSync(`${root}examples/cloudflare/wrangler.jsonc`, 'utf8')
    .split('\n')
    .filter((line) => !line.trim().startsWith('//'))
    .join('\n'),
) as {
  compatibility_date: string;
  compatibility_flags: string[];
  vars: Record<string, string>;
  durable_objects: { bindings: Array<{ name: string; class_name: string }> };
  migrations: Array<{ new_sqlite_classes: string[] }>;
};

let mf: Miniflare;
let url: URL;
beforeAll(async () => {
  const alias = Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [specifierOf(name), `${root}${file}`]));
  const [binding] = config.durable_objects.bindings;
  mf = new Miniflare({
    modules: true,
    script: await bundleWorker('examples/cloudflare/src/index.ts', alias),
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    bindings: config.vars,
    durableObjects: {
      [binding!.name]: {
        className: binding!.class_name,
        useSQLite: config.migrations[0]!.new_sqlite_classes.includes(binding!.class_name),
      },
    },
  });
  url = await mf.ready;
});
afterAll(() => mf?.dispose());

it('examples/cloudflare: the page may publish to chat, and a poll reads it back', async () => {
  const endpoint = new URL('/api/poll', url);
  const post = (channel: string) =>
    fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel, data: { text: 'hi' } }),
    });
  expect((await post('chat')).status).toBe(201);
  expect((await post('elsewhere')).status).toBe(403);
  const answer = await fetch(new URL('/api/poll?channels=chat&from=oldest&wait=0', url));
  expect(answer.status).toBe(200);
  expect(((await answer.json()) as { events: Array<{ data: unknown }> }).events.map((event) => event.data)).toEqual([{ text: 'hi' }]);
  expect((await fetch(new URL('/elsewhere', url))).status).toBe(404);
});
