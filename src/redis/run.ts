import type { Script } from './scripts.js';
import type { RedisClient } from './types.js';

/**
 * Sending scripts: by EVALSHA, with an EVAL fallback when the node does not know the script
 * (after a restart, a SCRIPT FLUSH, or on a replica just promoted by a failover).
 */

/**
 * Whether Redis answered that it does not know a script. ioredis' Cluster client can hand the
 * `NOSCRIPT` reply over wrapped: after a failover it retries a command on CLUSTERDOWN until its
 * redirections run out, and the last error, the NOSCRIPT of the promoted replica, then reaches
 * us as "Too many Cluster redirections. Last error: ReplyError: NOSCRIPT …".
 */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && /(^|\W)NOSCRIPT\b/.test(error.message);
}

/** Run a script by EVALSHA, loading it with EVAL when the node answers NOSCRIPT. */
export async function runScript(
  client: RedisClient,
  { source, sha }: Script,
  keys: readonly string[],
  args: ReadonlyArray<string | number>,
): Promise<unknown> {
  try {
    return await client.evalsha(sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!isNoScript(error)) throw error;
    return client.eval(source, keys.length, ...keys, ...args);
  }
}
