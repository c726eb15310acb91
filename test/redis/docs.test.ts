import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it, vi } from 'vitest';
import { createHangtime } from '../../src/hangtime.js';
import { redisLog } from '../../src/redis/index.js';
import { REDIS_URL, adminClient, deletePrefix, describeRedis, testPrefix, until } from '../support/redis.js';
import { redisBinaries } from './servers.js';

/** docs/redis.md's examples, run as written (with a test prefix instead of `hangtime`). */
const MARKER = '# Runs as is (tested in test/redis/docs.test.ts).';
const TS_MARKER = `//${MARKER.slice(1)}`;
const doc = readFileSync(new URL('../../docs/redis.md', import.meta.url), 'utf8');
const blocks = (language: string, marker: string): string[] =>
  [...doc.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))]
    .map((match) => match[1]!)
    .filter((code) => code.startsWith(marker));

const snippetFile = fileURLToPath(new URL(`./.docs-snippet-${process.pid}.ts`, import.meta.url));
let prefix = '';

afterEach(async () => {
  rmSync(snippetFile, { force: true });
  vi.restoreAllMocks();
  const admin = adminClient();
  await deletePrefix(admin, prefix);
  admin.disconnect();
});

describeRedis('docs/redis.md', () => {
  it('the usage example runs and prints the event', async () => {
    prefix = testPrefix();
    const [snippet] = blocks('ts', TS_MARKER);
    expect(snippet).toBeDefined();
    const code = snippet!
      .replace("from 'hangtime'", "from '../../src/index.js'")
      .replace("from 'hangtime/redis'", "from '../../src/redis/index.js'")
      .replace('redisLog({ ', `redisLog({ prefix: '${prefix}', `);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    writeFileSync(snippetFile, code);
    await import(/* @vite-ignore */ snippetFile);
    expect(log).toHaveBeenCalledWith([{ text: 'hello' }]);
  });

  it.skipIf(!redisBinaries)('the redis-cli publisher wakes a waiting poll with its event', async () => {
    prefix = testPrefix();
    const [script] = blocks('sh', MARKER);
    expect(script).toBeDefined();
    const log = redisLog({ url: REDIS_URL, prefix });
    try {
      const hangtime = createHangtime({ log });
      const { cursor } = await hangtime.wait({ channels: ['chat'], waitMs: 0 });
      const waiting = hangtime.wait({ channels: ['chat'], cursor, waitMs: 20_000 });
      await until(() => log.stats().waiters === 1, 'the poll to wait');
      const commands = script!.replaceAll("'hangtime:{", `'${prefix}:{`).replaceAll('redis-cli ', `redis-cli -u ${REDIS_URL} `);
      execFileSync('bash', ['-euo', 'pipefail', '-c', commands], { stdio: 'ignore' });
      const result = await waiting;
      expect(result.reason).toBe('events');
      expect(result.events.map((event) => event.data)).toEqual([{ text: 'hi from redis-cli' }]);
    } finally {
      await log.close();
    }
  });
});
