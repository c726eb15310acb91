import { createHangtime } from 'hangtime';
import { cloudflare, durableObjectLog, type DurableObjectNamespaceLike } from 'hangtime/cloudflare';

interface Env {
  /** The Durable Object binding of wrangler.jsonc. */
  readonly HANGTIME: DurableObjectNamespaceLike;
  /** A secret (`wrangler secret put PUBLISH_TOKEN`) for publishing from outside Cloudflare; unset: the page may publish to `chat`. */
  readonly PUBLISH_TOKEN?: string;
}

// The hangtime instance of one request, made from its bindings. Nothing of a hold is shared
// between requests (Workers do not allow it); the waiting polls are shared inside each
// channel's Durable Object, which one append wakes together.
const handler = cloudflare<Env>((env) =>
  createHangtime({
    log: durableObjectLog({ namespace: env.HANGTIME, maxEventsPerChannel: 1000, maxAgeMs: 24 * 3_600_000 }),
    authorizePublish: (request, channel) =>
      env.PUBLISH_TOKEN === undefined ? channel === 'chat' : request.headers.get('authorization') === `Bearer ${env.PUBLISH_TOKEN}`,
  }),
);

export default {
  fetch(request: Request, env: Env, ctx: { waitUntil(promise: Promise<unknown>): void }): Promise<Response> | Response {
    const { pathname } = new URL(request.url);
    if (pathname === '/api/poll') return handler.fetch(request, env, ctx);
    // Static assets (public/) are served before the Worker runs; anything else is not ours.
    return new Response('Not found', { status: 404 });
  },
};

// The Durable Object class, exported under the class_name of the binding.
export { HangtimeChannel } from 'hangtime/cloudflare';
