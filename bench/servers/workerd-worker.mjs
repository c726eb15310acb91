// The bench's Worker (bundled by servers/workerd.mjs with `hangtime` and `hangtime/cloudflare`
// taken from dist/): hangtime through `cloudflare()` on the Durable Object log, the hangtime
// protocol on /poll, and /_bench/stats counting the polls held inside the channels' objects.
import { createHangtime } from 'hangtime';
import { HangtimeChannel, cloudflare, durableObjectLog } from 'hangtime/cloudflare';

export class BenchChannel extends HangtimeChannel {
  async fetch(request) {
    if (new URL(request.url).pathname === '/_bench/waiters') return Response.json(this.waiters.size);
    return super.fetch(request);
  }
}

const handler = cloudflare((env) =>
  createHangtime({ log: durableObjectLog({ namespace: env.HANGTIME }), authorizePublish: () => true, maxWaitMs: 120_000 }),
);

// Channels this isolate has seen (locally one isolate serves every request): /_bench/stats asks
// each one's object how many polls it holds.
const channels = new Set();

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === '/_bench/stats') {
      let held = 0;
      for (const channel of channels) {
        const stub = env.HANGTIME.get(env.HANGTIME.idFromName(channel));
        held += await (await stub.fetch('https://hangtime/_bench/waiters')).json();
      }
      return Response.json({ held, construction: 'durableObjectLog({ namespace: env.HANGTIME })' });
    }
    if (url.pathname !== '/poll') return new Response('Not found', { status: 404 });
    for (const channel of url.searchParams.get('channels')?.split(',') ?? []) channels.add(channel);
    return handler.fetch(request, env, ctx);
  },
};
