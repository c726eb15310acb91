import { createRequire } from 'node:module';
import type * as IORedis from 'ioredis';

/*
 * How the built `hangtime/redis` loads ioredis when Node runs it without a bundler (package.json
 * "imports" → `#ioredis` → "default"; bundlers take the "module" condition, a plain static import
 * of ioredis in `ioredis.bundler.ts`, so they bundle it or fail the build saying so).
 *
 * ioredis is an optional peer dependency. A static `import` of a missing package fails while Node
 * links the module graph, before any code of ours runs, with a bare ERR_MODULE_NOT_FOUND; a
 * top-level `await import()` would let us catch it but would make every `require('hangtime/redis')`
 * (require(esm)) fail with ERR_REQUIRE_ASYNC_MODULE. A synchronous require does both: the error
 * says what to install, and CommonJS projects can still require the entry. ioredis is CommonJS.
 */
function load(): typeof IORedis {
  try {
    return createRequire(import.meta.url)('ioredis') as typeof IORedis;
  } catch (error) {
    const missing = (error as { code?: unknown }).code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes("'ioredis'");
    if (!missing) throw error;
    throw new Error(
      'hangtime/redis needs the ioredis package, which is not installed: install ioredis (>= 5), e.g. `npm install ioredis`',
      {
        cause: error,
      },
    );
  }
}

// Every value the library imports from ioredis (the build routes all of them here).
export const { Redis, Cluster } = load();
