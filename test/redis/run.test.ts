import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isNoScript, runScript } from '../../src/redis/run.js';
import type { RedisClient } from '../../src/redis/types.js';

// Pure: how a script is sent when the node does not know it. Right after a failover promotes a
// replica, ioredis' Cluster client retries a command on CLUSTERDOWN until its redirections run
// out and then hands over the last error wrapped, the promoted replica's NOSCRIPT included
// (the message below is built exactly as ioredis 6 builds it, cluster/index.js handleError).
describe('scripts unknown to the node', () => {
  const noScript = new ReplyError('NOSCRIPT No matching script. Please use EVAL.');
  const wrapped = new Error(`Too many Cluster redirections. Last error: ${String(noScript)}`);

  it('recognises NOSCRIPT, plain or wrapped, and nothing else', () => {
    expect(isNoScript(noScript)).toBe(true);
    expect(isNoScript(wrapped)).toBe(true);
    for (const other of [
      new Error('Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down'),
      new ReplyError('ERR Error running script (call to f_x): @user_script:1: NOSCRIPTS is not a command'),
      new Error('Connection is closed.'),
      'NOSCRIPT',
    ]) {
      expect(isNoScript(other), String(other)).toBe(false);
    }
  });

  it('falls back to EVAL on a wrapped NOSCRIPT instead of failing the command', async () => {
    const sent: string[] = [];
    const client = {
      evalsha: async () => {
        sent.push('evalsha');
        throw wrapped;
      },
      eval: async () => {
        sent.push('eval');
        return 'ran';
      },
    } as unknown as RedisClient;
    expect(await runScript(client, { source: 'return 1', sha: 'abc' }, ['k'], [])).toBe('ran');
    expect(sent).toEqual(['evalsha', 'eval']);
  });
});
