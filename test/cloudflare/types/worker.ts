// A Worker written against @cloudflare/workers-types (see tsconfig.json here): typechecked, never run.
import { createHangtime } from 'hangtime';
import { cloudflare, durableObjectLog, HangtimeChannel } from 'hangtime/cloudflare';

interface Env {
  HANGTIME: DurableObjectNamespace;
  HANGTIME_MAX_WAIT_MS: string;
}

const handler = cloudflare<Env>((env) => createHangtime({ log: durableObjectLog({ namespace: env.HANGTIME }) }));

export default {
  fetch(request, env, ctx) {
    return handler.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;

export { HangtimeChannel };
export class Mine extends HangtimeChannel {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
  }
}
