// Renders docs/cost.md from bench/results/lambda-latest.json (written by bench/lambda.mjs) and
// the public list prices below: no number in docs/cost.md is typed by hand.
//
//   node bench/cost-report.mjs [results.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, ROOT } from './lib/proc.mjs';

/** List prices, each with where it was read and when. USD, us-east-1 / iad1 where regional. */
const READ = '2026-12-01';
const PRICES = {
  lambdaRequest: {
    usd: 0.2 / 1e6,
    what: 'AWS Lambda request (x86 and arm)',
    source:
      'https://git.mcrn.ar/mariano/lambda_local_runner/src/branch/main/docs/lambdas-md/lambda-13-cost.md (quoting https://aws.amazon.com/lambda/pricing/)',
  },
  lambdaGbSecond: {
    usd: 0.0000166667,
    what: 'AWS Lambda duration, x86, per GB-second (first 6 billion GB-s a month)',
    source: 'https://cloudchipr.com/blog/aws-lambda-pricing (quoting https://aws.amazon.com/lambda/pricing/)',
  },
  httpApiRequest: {
    usd: 1.0 / 1e6,
    what: 'API Gateway HTTP API request (first 300 million a month)',
    source: 'https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html',
  },
  netlifyGbHour: {
    usd: 10 * (20 / 1000),
    what: 'Netlify compute on credit-based Pro: 10 credits per GB-hour, 1,000 credits for $20',
    source:
      'https://docs.netlify.com/functions/usage-and-billing and https://docs.netlify.com/manage/accounts-and-billing/billing/billing-for-credit-based-plans/how-credits-work',
  },
  vercelInvocation: {
    usd: 0.6 / 1e6,
    what: 'Vercel Functions invocation (Pro, beyond the included million)',
    source: 'https://vercel.com/docs/fluid-compute/pricing (read on a mirror: https://aming.ourdisc.net/docs/fluid-compute/pricing)',
  },
  vercelCpuHour: { usd: 0.128, what: 'Vercel Active CPU, per hour (iad1)', source: 'same page' },
  vercelGbHour: { usd: 0.0106, what: 'Vercel provisioned memory, per GB-hour (iad1)', source: 'same page' },
  upstashCommand: {
    usd: 0.2 / 1e5,
    what: 'Upstash Redis pay-as-you-go, per command ($0.20 per 100K)',
    source:
      'https://docs.flexprice.io/cookbooks/pricing-teardowns/upstash-pricing.md (a capture of https://upstash.com/pricing/redis dated 2026-11-09)',
  },
  ablyPeakConnection: {
    usd: 20 / 1000,
    what: 'Ably, per peak connection per month ($20 per 1,000 over the package)',
    source: 'https://ably.com/pricing/full-calculator',
  },
  workersRequest: {
    usd: 0.3 / 1e6,
    what: 'Cloudflare Workers request (Paid, beyond 10 million a month)',
    source: 'https://developers.cloudflare.com/workflows/reference/pricing/ ("identical to Workers Standard pricing"; docs/platforms.md)',
  },
  workersCpuMs: { usd: 0.02 / 1e6, what: 'Cloudflare Workers CPU time, per ms (Paid, beyond 30 million ms a month)', source: 'same page' },
  durableObjectRequest: {
    usd: 0.15 / 1e6,
    what: 'Cloudflare Durable Objects request (Paid, beyond 1 million a month)',
    source: 'https://developers.cloudflare.com/durable-objects/platform/pricing',
  },
  durableObjectGbSecond: {
    usd: 12.5 / 1e6,
    what: 'Cloudflare Durable Objects duration, per GB-s of wall-clock time while active, 128 MB per object (Paid, beyond 400,000 GB-s a month)',
    source: 'same page',
  },
  pushpinVmHour: {
    usd: 0.0816,
    what: 'A VM for a self-hosted Pushpin: EC2 m7g.large (2 vCPU, 8 GB) on demand, Linux, us-east-1, per hour',
    source:
      'https://www.factualminds.com/blog/amazon-ec2-on-demand-pricing-instance-families-2026/ (quoting https://aws.amazon.com/ec2/pricing/on-demand/ as of June 2026)',
  },
};

/** Fastly Fanout (the hosted GRIP proxy) publishes how it bills (bandwidth, connection minutes,
 * messages) but no price: "contact your account manager". So the delegated rows price a
 * self-hosted Pushpin on a VM and name Fanout's price as unknown. */
const FANOUT_BILLING = 'https://docs.fastly.com/products/fanout';

/** Delegated holds (GRIP), measured by bench/grip.mjs and written up in docs/grip.md: N clients
 * on one channel held by Pushpin 1.36 in front of hangtime (memory and Redis logs). */
const GRIP = {
  command: 'node bench/grip.mjs --n 1000,5000 --logs memory,redis --rounds 3 --idle 10',
  // Origin requests per delivered event: 1.0–1.03 at N = 1,000 and 5,000 (each client's re-poll,
  // answered with hold instructions); the highest is used.
  originRequestsPerDelivery: 1.03,
  // Origin requests while every client waits (10 s idle, N = 1,000 and 5,000).
  idleOriginRequests: 0,
  // Redis connections per waiting client: none (the origin's process keeps its own one).
  redisConnectionsPerWaitingClient: 0,
  // Pushpin's own CPU per delivery: 0.55–0.77 ms; the highest is used.
  pushpinCpuMsPerDelivery: 0.77,
  // The most clients one Pushpin held in the measurement (on 2 cores shared with everything).
  clientsPerPushpin: 5_000,
};
/** `Grip-Timeout` is 55 s (gripProxy's maxTimeoutSeconds) less a jitter of up to 1/16
 * (src/grip/hold.ts): on average 55 × (1 − 1/32) s, after which a waiting client's hold times out
 * and it polls the origin once. */
const GRIP_HOLD_S = 55 * (1 - 1 / 32);
const PUSHPIN_VM_CPUS = 2;

/** Cloudflare Workers + Durable Objects (docs/cloudflare.md). CPU per delivery measured in
 * workerd through Miniflare (the Worker and the channel's object in one process, so this counts
 * the object's CPU too, which Cloudflare bills as duration instead: an upper bound). */
const WORKERD = {
  command: 'npm run bench -- --no-build --systems floor,memory,workerd --n 1000 --scenarios fanout --rounds 3',
  cpuUsPerDelivery: 1_027.2,
};
const DURABLE_OBJECT_GB = 0.125; // duration is billed at 128 MB per object (pricing page above)

/** Assumptions of the model that the bench does not measure; each is stated in the doc. */
const NETLIFY_MEMORY_GB = 1; // Netlify's default function memory (docs/functions/usage-and-billing)
const VERCEL_CLIENTS_PER_INSTANCE = 1_000; // in-function concurrency: polls one instance holds
const VERCEL_MEMORY_GB = 2; // a Vercel function's default memory
const HOURS_PER_MONTH = 730;

/** hangtime's CPU per delivered poll over HTTP with the Redis log, from `npm run bench`
 * (bench/results/latest.json, largest fan-out): what an active-CPU meter bills per poll. */
const benchmark = JSON.parse(readFileSync(join(BENCH_DIR, 'results', 'latest.json'), 'utf8'));
const redisFanout = benchmark.fanout.filter((row) => row.system === 'redis' && row.status === 'ok').sort((a, b) => b.n - a.n)[0];
const CPU_US_PER_POLL = redisFanout.server.cpuUsPerDelivery;

const file = process.argv.find((arg) => arg.endsWith('.json')) ?? join(BENCH_DIR, 'results', 'lambda-latest.json');
const data = JSON.parse(readFileSync(file, 'utf8'));
const memoryGb = data.settings.memoryMB / 1024;
const holdsPerHour = 3_600_000 / data.settings.maxWaitMs;

const fmt = (value, digits = 2) =>
  value === null || value === undefined || Number.isNaN(value)
    ? '–'
    : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
const usd = (value) => (value < 0.01 ? `$${value.toFixed(5)}` : `$${value.toFixed(2)}`);
const per1000 = (perClientHour) => perClientHour * 1_000 * HOURS_PER_MONTH;

const rates = [...new Set(data.runs.map((run) => run.rate))];
const runOf = (waiting, rate, clients) => data.runs.find((run) => run.waiting === waiting && run.rate === rate && run.clients === clients);
const sizes = [...new Set(data.runs.map((run) => run.clients))];
const mainMode = data.runs.some((run) => run.waiting === 'auto') ? 'auto' : data.runs[0].waiting;

const lines = [];
const out = (text = '') => lines.push(text);

out('# What hangtime costs');
out();
out('<!-- Generated by `node bench/cost-report.mjs` from bench/results/lambda-latest.json: do not edit by hand. -->');
out();
out('Measured numbers, priced at public list prices. The measurements come from one command,');
out('the Lambda-scale emulation in the bench:');
out();
out('```sh');
out(data.command);
out('```');
out();
out(`Run on ${data.date.slice(0, 10)} (${data.machine.cpus} cores, Node ${data.machine.node}, Redis 7.0 on loopback), each`);
out(`scenario for **${data.settings.seconds} s** (short runs: per-hour figures are extrapolated from them;`);
out('a run with zero events has few complete polls, so its per-hour figures are the least precise).');
out(`Clients are spread ${data.settings.perChannel} per channel; the publisher appends to every channel at the`);
out(`rate shown. Holds last up to \`maxWaitMs\` = ${fmt(data.settings.maxWaitMs / 1000)} s; the function timeout is`);
out(`${fmt(data.settings.functionTimeoutMs / 1000)} s (HTTP API's limit), its memory ${data.settings.memoryMB} MB.`);
out();
out('## How the emulation works');
out();
out("A front door (an HTTP server on loopback, standing for API Gateway's HTTP API) turns each");
out('request into a payload-format-2.0 event and hands it to a free instance, or starts a new one');
out('(a cold start), as Lambda does. Each instance is a worker thread with its own module state and');
out('its own Redis connections, running the real `hangtime/aws-lambda` handler from `dist/` one');
out('invocation at a time with a real `getRemainingTimeInMillis`; instances stay warm between');
out('invocations and are reaped when idle. The clients are the real `hangtime/client`');
out('(`subscribe`); the publisher POSTs through the same front door (each publish is an invocation');
out("too). Billed duration is each invocation's wall time rounded up to the millisecond, as Lambda");
out('bills it; Redis connections and commands come from `INFO clients` and `INFO commandstats` of a');
out('private redis-server.');
out();
out(`One warm instance takes **${fmt(data.memory.rssPerInstanceMB, 1)} MB** of RSS as a worker thread (measured over`);
out(`${data.memory.instances} instances; a Lambda execution environment adds the Node runtime itself, so ${data.settings.memoryMB} MB is`);
out('ample). A short poll (`wait=0`) on a warm instance is billed');
out(`**${fmt(data.memory.shortPoll.billedMs, 1)} ms** and costs **${fmt(data.memory.shortPoll.commands, 1)}** Redis command(s).`);
out();
out('## Measured: one poll per instance');
out();
out(
  '| clients | waiting | events per channel | peak Redis connections per client (per instance) | Redis commands per poll | per delivered event | invocations per client-hour | billed GB-s per client-hour | Redis commands per client-hour | delivery latency p50 / p95 |',
);
out('|---|---|---|---|---|---|---|---|---|---|');
for (const clients of sizes) {
  for (const run of data.runs.filter((candidate) => candidate.clients === clients)) {
    const h = run.perClientHour;
    out(
      `| ${run.clients} | \`${run.waiting}\` | ${run.rate} | **${fmt(run.redisConnectionsPerClient)}** (${run.redisConnectionsPerInstance === undefined ? '–' : fmt(run.redisConnectionsPerInstance)}) | ${fmt(run.commandsPerPoll)} | ${fmt(run.commandsPerDelivered)} | ${fmt(h.pollInvocations + h.publishInvocations, 0)} | ${fmt(h.gbSeconds, 0)} | ${fmt(h.redisCommands, 0)} | ${run.latencyMs.p50 === null ? '–' : `${run.latencyMs.p50} / ${run.latencyMs.p95} ms`} |`,
    );
  }
}
out();
out("Peak Redis connections are counted while every client has a poll held, the publisher's");
out('instance included: with every client holding a poll, each publish is one instance more, so');
out('per client the count is just over 1 while per instance (in parentheses) it is what the');
out('design promises. `shared` is the waiting of hangtime before issue 12 on such a platform (a');
out('pub/sub connection beside the command connection in every instance); `auto` is the default');
out('now, blocking with one connection per instance. Commands are those the log sends (scripts,');
out('`XREAD`, `SUBSCRIBE`, `WAIT`, `CLIENT UNBLOCK`); per-client-hour figures also count each');
out("connection's handshake. Per delivered event: all commands of the run divided by the events");
out('clients received (with 10 clients per channel, one event is 10 deliveries).');
out();
{
  // What went wrong, from the data: polls the instances failed in the measured window (reported
  // to `onError`), and what the clients saw (while arriving, then measured; older results keep
  // one total).
  const errorText = (counts) =>
    Object.entries(counts ?? {})
      .map(([key, n]) => `${fmt(n, 0)} × ${key}`)
      .join(', ') || 'none';
  const failures = data.runs.filter(
    (run) =>
      Object.keys(run.errors ?? {}).length > 0 ||
      Object.keys(run.clientErrors ?? {}).some((key) => !/^(arrival|measured)$/.test(key) || Object.keys(run.clientErrors[key]).length > 0),
  );
  // Every event reached every client of its channel once: the clients count what they got.
  const perChannel = data.settings.perChannel;
  const exact = data.runs.filter((run) => run.published > 0).every((run) => run.delivered === run.published * perChannel && run.gaps === 0);
  out(
    exact
      ? `Every run delivered each published event to each of its channel's ${perChannel} clients: deliveries = events × ${perChannel}, in every row, 0 gaps.`
      : `**Deliveries differ from events × ${perChannel}** in: ${data.runs
          .filter((run) => run.published > 0 && (run.delivered !== run.published * perChannel || run.gaps > 0))
          .map(
            (run) =>
              `${run.clients} clients \`${run.waiting}\` ${run.rate} (${run.delivered} of ${run.published * perChannel}, ${run.gaps} gaps)`,
          )
          .join(', ')}.`,
  );
  // Where the publisher (one sequential POST loop) could not keep the rate on this machine.
  const perSecondOf = (rate) => (rate === '1/min' ? 1 / 60 : rate === '1/s' ? 1 : Number(rate));
  for (const run of data.runs) {
    const wanted = perSecondOf(run.rate) * run.channels * run.seconds;
    if (wanted > 0 && run.published < 0.9 * wanted) {
      out();
      out(
        `At ${run.clients} clients, \`${run.waiting}\`, ${run.rate}, the publisher made ${fmt(run.published, 0)} of the ${fmt(wanted, 0)} publishes the rate asks (one POST at a time, on a machine this loaded): the per-hour figures of that row are for the rate it reached.`,
      );
    }
  }
  out();
  if (failures.length === 0) {
    out(
      data.runs.every((run) => run.clientErrors)
        ? 'No poll failed, on the server or as the clients saw it.'
        : 'The instances reported no failed poll (what the clients saw was not recorded in this run).',
    );
    out();
  } else {
    out('Failed polls (each retried by the client after its backoff):');
    out();
    for (const run of failures) {
      const seen = run.clientErrors ?? {};
      const clientText =
        'arrival' in seen
          ? `clients saw ${errorText(seen.arrival)} while arriving, ${errorText(seen.measured)} in the measured window`
          : `clients saw ${errorText(seen)} over the run, arrivals included`;
      out(
        `- ${run.clients} clients, \`${run.waiting}\`, ${run.rate}: the instances reported ${errorText(run.errors)} in the measured window; ${clientText}${run.loadAverage ? ` (load average ${fmt(run.loadAverage[0], 1)} at the end of the run)` : ''}.`,
      );
    }
    out();
    if (failures.some((run) => run.clients >= 500))
      out(
        `At ${fmt(Math.max(...failures.map((run) => run.clients)), 0)} clients every instance is a worker thread of one process on this machine's ${data.machine.cpus} cores: the arrivals are that many cold starts at once, and an instance starved of CPU finds its log timeout due before it gets to read Redis' answer (a Lambda instance has its own CPU). Latency at that size measures the machine more than hangtime; connections and commands do not depend on it.`,
      );
    out();
  }
}
out('Why `auto` sends about 2 commands per poll here where `test/redis/waiting.test.ts` counts 1: the');
out('front door, like Lambda, hands a poll to whichever instance is free, and an instance that has');
out('not served the channel yet (or not for 5 minutes) checks it first (one script) before its');
out('`XREAD`; each new connection adds its handshake. `shared` sends fewer commands (a waiting poll');
out('costs no command once its channel is subscribed) for twice the connections: on a plan billed');
out("per command, and with connections to spare, `waiting: 'shared'` is the cheaper choice.");
out();
out('Billed GB-s and invocations count the invocations that ended within the run: holds still open');
out('when a run ends are left out, which undercounts the quiet rates (at 1/s, where holds are');
out(
  `short, a client bills ${fmt(runOf(mainMode, '1/s', sizes[0])?.perClientHour.billedSeconds ?? NaN, 0)} s per hour: the hour it holds, and the publishes).`,
);
out();
out('## What it costs per client');
out();
out('Each client holds a poll all the time (a page left open), 730 hours a month. Per client-hour:');
out(`at least one poll per \`maxWaitMs\` (${fmt(holdsPerHour, 0)}) or the measured number if higher, a wall-time`);
out('platform bills the whole hour of holding plus the measured publish invocations, an');
out(`active-CPU platform ${fmt(CPU_US_PER_POLL, 1)} µs of CPU per poll (hangtime with the Redis log over HTTP,`);
out(`\`npm run bench\`, bench/results/latest.json, N = ${fmt(redisFanout.n, 0)}); Redis commands, connections and`);
out('publish invocations as measured above. Prices are list prices beyond any free tier; the sources');
out('are at the end.');
out();
out('**Proxy-delegated holds (GRIP)**: a GRIP proxy holds the clients and the origin Lambda (behind');
out('HTTP API) runs only to answer; measured with Pushpin 1.36 in docs/grip.md:');
out();
out('```sh');
out(GRIP.command);
out('```');
out();
out(
  `- a waiting client costs **${GRIP.idleOriginRequests}** origin invocations and **${GRIP.redisConnectionsPerWaitingClient}** Redis connections; its hold times out after`,
);
out(`  ${fmt(GRIP_HOLD_S, 1)} s on average (\`Grip-Timeout\` 55 s less up to 1/16 of jitter), and it polls the origin once;`);
out(`- a delivered event costs **${GRIP.originRequestsPerDelivery}** origin invocations per client (the highest measured: 1.0–1.03 at`);
out(`  N = 1,000 and 5,000): the client's re-poll. So per client-hour: ${fmt(3_600 / GRIP_HOLD_S, 1)} invocations at no`);
out(`  events, and at E events an hour E × (${GRIP.originRequestsPerDelivery} + the hold timeouts between two events);`);
out(
  `- an origin invocation is billed **${fmt(data.memory.shortPoll.billedMs, 1)} ms**, the short poll (\`wait=0\`) measured above on a warm`,
);
out('  instance: like an origin answer, one read of the log and an answer at once (Lambda bills wall');
out(`  time, and the origin's CPU per delivery, 0.25–0.6 ms in docs/grip.md, is a small part of it);`);
out(`  Redis commands per invocation are the measured commands per poll of the \`${mainMode}\` run (held in the`);
out("  function) at the same rate: they include an instance's first look at a channel, and the publishes;");
out("- Redis connections are the origin instances', none per waiting client. The table shows the");
out('  average of instances busy at a time (invocations per second × billed duration): a floor, since');
out('  Lambda keeps an instance and its connection warm for minutes after it ran, so the count follows');
out('  the peak of concurrent invocations, and a fan-out to the clients of one channel brings their');
out(`  re-polls together (one instance each, for a moment: ${data.settings.perChannel} clients a channel here, whose appends the`);
out("  bench's publisher spreads over time);");
out(`- the proxy: **Fastly Fanout** publishes how it bills (bandwidth, connection minutes, messages) but no`);
out(`  price (${FANOUT_BILLING}: "contact your account manager"), so its rows price the origin alone.`);
out(
  `  A **self-hosted Pushpin** is priced as one ${PUSHPIN_VM_CPUS}-vCPU VM per ${fmt(GRIP.clientsPerPushpin, 0)} clients (the most one Pushpin held in`,
);
out(`  the measurement) or more where its CPU per delivery (${GRIP.pushpinCpuMsPerDelivery} ms, the highest measured) needs more cores`);
out(
  `  (${fmt(PUSHPIN_VM_CPUS / (GRIP.pushpinCpuMsPerDelivery / 1_000), 0)} deliveries per second per VM). Below ${fmt(GRIP.clientsPerPushpin, 0)} clients the VM costs the same`,
);
out(
  `  ${usd(PRICES.pushpinVmHour.usd * HOURS_PER_MONTH)} a month whatever the number of clients; a second VM for availability doubles it.`,
);
out('  Each append also POSTs to the proxy from the publishing invocation: not in the measured publish');
out('  duration.');
out();
out('**Cloudflare Workers + Durable Objects** (docs/cloudflare.md), modelled from prices: a poll is one');
out('Worker request and one Durable Object request (its wait), a woken poll one more (its read), a');
out(`publish one of each; polls per client-hour as the rows above (\`maxWaitMs\` ${fmt(data.settings.maxWaitMs / 1000)} s, the adapter's`);
out(`default too). Workers CPU: ${fmt(WORKERD.cpuUsPerDelivery, 1)} µs per request, the CPU per delivery measured in workerd`);
out(`(\`${WORKERD.command}\`),`);
out('where the Worker and the object share one process: an upper bound, since Cloudflare bills the');
out("object as duration, not CPU. The channel's object is billed wall-clock duration for every second");
out(`a poll waits on it (always, here), at ${fmt(DURABLE_OBJECT_GB * 1024, 0)} MB, shared by the channel's clients: the bench's`);
out(`${data.settings.perChannel} per channel, and a channel per client (private inboxes). No Redis. Not priced: Durable`);
out("Object SQLite storage (rows written by each append, stored bytes), and the Workers Paid plan's");
out('monthly minimum.');
out();

const eventsPerHour = (rate) => {
  if (rate === '0') return 0;
  const [count, unit] = rate.split('/');
  return Number(count) * { s: 3_600, min: 60, h: 1 }[unit];
};
const usdSmall = (value) =>
  value === 0
    ? '$0'
    : value >= 1
      ? `$${value.toFixed(2)}`
      : `$${value.toLocaleString('en-US', { minimumSignificantDigits: 2, maximumSignificantDigits: 3 })}`;

/** One row per platform and rate, every figure per client-hour; `month` renders the billed
 * compute for 1,000 clients over a month. */
const rows = [];
for (const rate of rates) {
  const run = runOf(mainMode, rate, sizes[0]);
  if (run === undefined) continue;
  const measured = run.perClientHour;
  const events = eventsPerHour(rate);
  // A client always has a poll held: at least one poll per maxWaitMs, and its hold billed for
  // the whole hour on a wall-time platform; the publish invocations on top (measured).
  const publishMs = run.invocations.publish === 0 ? 0 : run.billedMs.publish / run.invocations.publish;
  const seconds = 3_600 + (measured.publishInvocations * publishMs) / 1_000;
  const h = {
    ...measured,
    pollInvocations: Math.max(measured.pollInvocations, holdsPerHour),
    billedSeconds: seconds,
    gbSeconds: seconds * memoryGb,
    activeCpuSeconds: (Math.max(measured.pollInvocations, holdsPerHour) * CPU_US_PER_POLL) / 1e6,
  };
  const invocations = h.pollInvocations + h.publishInvocations;
  const redis = {
    connections: run.redisConnectionsPerClient,
    commands: h.redisCommands,
    redisUsd: h.redisCommands * PRICES.upstashCommand.usd,
  };
  const lambdaMonth = `${fmt(per1000(h.gbSeconds) / 1e6, 2)} M GB-s`;
  // Lambda behind HTTP API: requests at both, duration at Lambda.
  const lambdaUsd = invocations * PRICES.lambdaRequest.usd + h.gbSeconds * PRICES.lambdaGbSecond.usd;
  rows.push({
    platform: 'AWS Lambda + HTTP API',
    rate,
    invocations,
    seconds: `${fmt(seconds, 0)} s`,
    month: lambdaMonth,
    ...redis,
    usd: lambdaUsd + invocations * PRICES.httpApiRequest.usd,
  });
  rows.push({
    platform: 'AWS Lambda + Function URL (same holds)',
    rate,
    invocations,
    seconds: `${fmt(seconds, 0)} s`,
    month: lambdaMonth,
    ...redis,
    usd: lambdaUsd,
  });
  const netlifyGbHours = (seconds / 3_600) * NETLIFY_MEMORY_GB;
  rows.push({
    platform: 'Netlify (1 GB functions)',
    rate,
    invocations,
    seconds: `${fmt(seconds, 0)} s`,
    month: `${fmt(per1000(netlifyGbHours), 0)} GB-h`,
    ...redis,
    usd: netlifyGbHours * PRICES.netlifyGbHour.usd,
    usdNote: ' (compute only)',
  });
  // Vercel: in-function concurrency, so instances are shared; Active CPU is what the code runs.
  const shared = runOf('shared', rate, sizes[0]) ?? run;
  const memoryGbHours = VERCEL_MEMORY_GB / VERCEL_CLIENTS_PER_INSTANCE;
  rows.push({
    platform: 'Vercel, in-function concurrency, Active CPU',
    rate,
    invocations,
    seconds: `${fmt(h.activeCpuSeconds, 3)} s CPU`,
    month: `${fmt(per1000(h.activeCpuSeconds) / 3_600, 1)} CPU-h + ${fmt(per1000(memoryGbHours), 0)} GB-h`,
    connections: 2 / VERCEL_CLIENTS_PER_INSTANCE,
    commands: shared.perClientHour.redisCommands,
    redisUsd: shared.perClientHour.redisCommands * PRICES.upstashCommand.usd,
    usd:
      invocations * PRICES.vercelInvocation.usd +
      (h.activeCpuSeconds / 3_600) * PRICES.vercelCpuHour.usd +
      memoryGbHours * PRICES.vercelGbHour.usd,
  });
  // Delegated holds: the origin runs once per hold timeout while idle, once per delivery
  // (GRIP.originRequestsPerDelivery) when events come, plus the publishes (measured).
  const originInvocations =
    events === 0
      ? 3_600 / GRIP_HOLD_S + GRIP.idleOriginRequests
      : events * (GRIP.originRequestsPerDelivery + Math.floor(3_600 / events / GRIP_HOLD_S));
  const originMs = data.memory.shortPoll.billedMs;
  const gripInvocations = originInvocations + h.publishInvocations;
  const gripSeconds = (originInvocations * originMs + h.publishInvocations * publishMs) / 1_000;
  const gripGbSeconds = gripSeconds * memoryGb;
  const gripCommands = originInvocations * run.commandsPerPoll;
  const gripRow = {
    rate,
    invocations: gripInvocations,
    seconds: `${fmt(gripSeconds, 1)} s`,
    month: `${fmt(per1000(gripGbSeconds) / 1e6, 2)} M GB-s`,
    connections: GRIP.redisConnectionsPerWaitingClient + (gripInvocations / 3_600) * (originMs / 1_000),
    commands: gripCommands,
    redisUsd: gripCommands * PRICES.upstashCommand.usd,
  };
  const gripLambdaUsd =
    gripInvocations * (PRICES.lambdaRequest.usd + PRICES.httpApiRequest.usd) + gripGbSeconds * PRICES.lambdaGbSecond.usd;
  const pushpinCores = ((events / 3_600) * GRIP.pushpinCpuMsPerDelivery) / 1_000;
  const pushpinVms = Math.max(1 / GRIP.clientsPerPushpin, pushpinCores / PUSHPIN_VM_CPUS);
  rows.push({
    platform: 'delegated (GRIP): Pushpin on a VM, Lambda + HTTP API origin',
    ...gripRow,
    usd: gripLambdaUsd + pushpinVms * PRICES.pushpinVmHour.usd,
  });
  rows.push({
    platform: 'delegated (GRIP): Fastly Fanout, Lambda + HTTP API origin',
    ...gripRow,
    usd: gripLambdaUsd,
    usdNote: ' + Fanout (no public price)',
  });
  // Cloudflare: requests and CPU in the Worker, requests and duration in the channel's object.
  const polls = h.pollInvocations;
  for (const clientsPerChannel of [data.settings.perChannel, 1]) {
    const publishes = events / clientsPerChannel;
    const workerRequests = polls + publishes;
    const objectRequests = polls + Math.min(events, polls) + publishes;
    const cpuMs = (workerRequests * WORKERD.cpuUsPerDelivery) / 1_000;
    const objectSeconds = 3_600 / clientsPerChannel;
    rows.push({
      platform: `Cloudflare Workers + Durable Objects, ${clientsPerChannel === 1 ? 'a channel per client' : `${clientsPerChannel} clients per channel`}`,
      rate,
      invocations: workerRequests,
      objectRequests,
      seconds: `${fmt(cpuMs / 1_000, 2)} s CPU + ${fmt(objectSeconds, 0)} s object`,
      month: `${fmt(per1000(cpuMs / 1_000) / 3_600, 1)} CPU-h + ${fmt(per1000(objectSeconds * DURABLE_OBJECT_GB) / 1e6, 2)} M GB-s`,
      connections: 0,
      commands: 0,
      redisUsd: 0,
      usd:
        workerRequests * PRICES.workersRequest.usd +
        cpuMs * PRICES.workersCpuMs.usd +
        objectRequests * PRICES.durableObjectRequest.usd +
        objectSeconds * DURABLE_OBJECT_GB * PRICES.durableObjectGbSecond.usd,
    });
  }
}
const invocationsOf = (row, scale, digits, unit = '') =>
  `${fmt(row.invocations * scale, digits)}${unit}${row.objectRequests === undefined ? '' : ` + ${fmt(row.objectRequests * scale, digits)}${unit} DO`}`;
const redisOf = (row, text) => (row.platform.startsWith('Cloudflare') ? 'none' : text);

out('### Per client-hour');
out();
out(
  '| platform | events per channel | invocations | billed seconds | Redis connections per client | Redis commands | platform price | Redis (Upstash pay-as-you-go) | per client-month, both |',
);
out('|---|---|---|---|---|---|---|---|---|');
for (const row of rows) {
  out(
    `| ${row.platform} | ${row.rate} | ${invocationsOf(row, 1, 1)} | ${row.seconds} | ${redisOf(row, fmt(row.connections, 4))} | ${redisOf(row, fmt(row.commands, 0))} | ${usdSmall(row.usd)}${row.usdNote ?? ''} | ${redisOf(row, usdSmall(row.redisUsd))} | ${usdSmall((row.usd + row.redisUsd) * HOURS_PER_MONTH)}${row.usdNote ?? ''} |`,
  );
}
out();
out('"DO": Durable Object requests. Billed seconds: wall time on Lambda, Netlify and the GRIP origin,');
out('active CPU on Vercel (whose memory is billed per instance, shared by the polls it holds), Workers');
out("CPU and the channel object's wall-clock time (shared by its clients) on Cloudflare.");
out();
out('### Per 1,000 clients for a month');
out();
out(
  '| platform | events per channel | invocations | billed compute | Redis connections | Redis commands | compute + requests | Redis (Upstash pay-as-you-go) |',
);
out('|---|---|---|---|---|---|---|---|');
for (const row of rows) {
  const scale = 1_000 * HOURS_PER_MONTH;
  out(
    `| ${row.platform} | ${row.rate} | ${invocationsOf(row, scale / 1e6, 1, ' M')} | ${row.month} | ${redisOf(row, fmt(row.connections * 1_000, 0))} | ${redisOf(row, `${fmt((row.commands * scale) / 1e6, 1)} M`)} | ${usd(row.usd * scale)}${row.usdNote ?? ''} | ${redisOf(row, usd(row.redisUsd * scale))} |`,
  );
}
out();
out('### Beside the alternatives');
out();
const shortPollInvocations = 3_600 / 5;
const shortLambda =
  per1000(shortPollInvocations) * (PRICES.lambdaRequest.usd + PRICES.httpApiRequest.usd) +
  per1000(((shortPollInvocations * data.memory.shortPoll.billedMs) / 1_000) * memoryGb) * PRICES.lambdaGbSecond.usd;
const shortRedis = per1000(shortPollInvocations * data.memory.shortPoll.commands) * PRICES.upstashCommand.usd;
out(`- **Short polling every 5 s** on Lambda + HTTP API: ${fmt(per1000(shortPollInvocations) / 1e6, 1)} M invocations a month per 1,000`);
out(`  clients, ${usd(shortLambda)} in compute and requests, ${usd(shortRedis)} in Redis commands, and up to 5 s of delay`);
out('  (2.5 s on average) where a held poll delivers in the latency above.');
out(
  `- **A hosted broker** (Ably, per peak connection): ${usd(1_000 * PRICES.ablyPeakConnection.usd)} a month for 1,000 clients connected at`,
);
out('  the busiest moment, messages billed on top.');
out();
/** Per client-month at list prices, Redis (Upstash pay-as-you-go) included unless asked. */
const monthly = (prefix, rate, withRedis = true) => {
  const row = rows.find((candidate) => candidate.platform.startsWith(prefix) && candidate.rate === rate);
  return row === undefined ? Number.NaN : (row.usd + (withRedis ? row.redisUsd : 0)) * HOURS_PER_MONTH;
};
const LAMBDA = 'AWS Lambda + HTTP API';
const PUSHPIN = 'delegated (GRIP): Pushpin';
const VERCEL = 'Vercel';
const WORKERS_SHARED = `Cloudflare Workers + Durable Objects, ${data.settings.perChannel} clients`;
const WORKERS_PRIVATE = 'Cloudflare Workers + Durable Objects, a channel per client';
const shortPollMonthly = (shortLambda + shortRedis) / 1_000;
const pushpinVmMonthly = PRICES.pushpinVmHour.usd * HOURS_PER_MONTH;
const [quiet, , busy] = [rates[0], rates[1], rates[rates.length - 1]];

out('## Which to choose');
out();
out('Per client-month at list prices, Redis commands included (Upstash pay-as-you-go), from the');
out('per-client-hour table; the cheapest priced row of each rate is in bold (Fastly Fanout is left out:');
out('no public price):');
out();
const compared = [LAMBDA, 'Netlify', VERCEL, PUSHPIN, WORKERS_SHARED, WORKERS_PRIVATE];
out(`| events per channel | ${compared.map((prefix) => rows.find((row) => row.platform.startsWith(prefix)).platform).join(' | ')} |`);
out(`|---|${compared.map(() => '---|').join('')}`);
for (const rate of rates) {
  const costs = compared.map((prefix) => monthly(prefix, rate));
  const cheapest = Math.min(...costs);
  out(`| ${rate} | ${costs.map((cost) => (cost === cheapest ? `**${usdSmall(cost)}**` : usdSmall(cost))).join(' | ')} |`);
}
out();
out(`Short polling every 5 s on Lambda + HTTP API costs ${usdSmall(shortPollMonthly)} per client-month (above) whatever the`);
out(`event rate; a Pushpin VM costs ${usdSmall(pushpinVmMonthly)} a month however few clients it holds (the table shares it among`);
out(`${fmt(GRIP.clientsPerPushpin, 0)}).`);
out();
{
  const heldQuiet = monthly(LAMBDA, quiet);
  const delegatedQuiet = monthly(PUSHPIN, quiet);
  const breakEven = (vms) => Math.ceil((vms * pushpinVmMonthly) / (heldQuiet - delegatedQuiet));
  const shortPollWins = rates.filter((rate) => shortPollMonthly < monthly(PUSHPIN, rate));
  out('**When to delegate (GRIP).** Where each held poll is its own instance billed by wall time');
  out(
    `(Lambda, Netlify), a client held in the function costs ${usdSmall(heldQuiet)} a month on Lambda at ${data.settings.memoryMB} MB with no events`,
  );
  out(
    `(${usdSmall(monthly(LAMBDA, busy))} at ${busy}) and ${usdSmall(monthly('Netlify', quiet))} on Netlify; delegated to Pushpin, ${usdSmall(delegatedQuiet)} (${usdSmall(monthly(PUSHPIN, busy))} at ${busy},`,
  );
  out(`most of it Redis commands). With the VM's ${usdSmall(pushpinVmMonthly)} a month counted whole, delegation pays from about`);
  out(
    `**${fmt(breakEven(1), 0)} clients** waiting all the time on Lambda (${fmt(breakEven(2), 0)} with a second VM for availability), fewer on`,
  );
  out(`Netlify. It does not pay where one process holds many polls: on Vercel with in-function`);
  out(
    `concurrency a held client costs ${usdSmall(monthly(VERCEL, quiet))}–${usdSmall(monthly(VERCEL, busy))} a month, about what delegating costs, and the`,
  );
  out('proxy adds a hop to every delivery (docs/grip.md measured slower fan-outs through Pushpin). When');
  out(`events are so frequent that every poll answers at once (${busy}), delegated and held polls make about`);
  out(
    `the same invocations (${fmt(rows.find((row) => row.platform.startsWith(PUSHPIN) && row.rate === busy).invocations, 0)} vs ${fmt(rows.find((row) => row.platform.startsWith(LAMBDA) && row.rate === busy).invocations, 0)} per client-hour): what delegation still saves is the billed`,
  );
  out(`seconds between events. Short polling every 5 s (${usdSmall(shortPollMonthly)}) beats holding on Lambda at every rate, for up`);
  out(
    shortPollWins.length === 0
      ? '  to 5 s of delay; delegation beats it at every rate here.'
      : `to 5 s of delay, and beats delegation at ${shortPollWins.join(', ')} (one short poll takes the events of 5 s together): delegate for quiet channels.`,
  );
  out();
}
out('**When Workers + Durable Objects is cheapest.** Cloudflare has no Redis to pay for and bills the');
out("Worker by CPU, so a held poll costs requests and a share of its channel's object. On shared");
out(
  `channels (${data.settings.perChannel} clients each here) it is the cheapest row when events are frequent: ${usdSmall(monthly(WORKERS_SHARED, busy))} a client-month`,
);
out(
  `at ${busy} where Vercel is ${usdSmall(monthly(VERCEL, busy))} and delegation ${usdSmall(monthly(PUSHPIN, busy))}, because Redis billed per command is most of`,
);
out(
  `theirs (without Redis, Vercel's platform price is ${usdSmall(monthly(VERCEL, busy, false))}: with a flat-priced Redis, ${monthly(VERCEL, busy, false) < monthly(WORKERS_SHARED, busy) ? 'Vercel is cheaper' : 'Workers stays cheaper'}).`,
);
out(`On quiet channels all three cost well under a dollar (${usdSmall(monthly(WORKERS_SHARED, quiet))} on Workers, mostly the object's`);
out('duration), and Workers needs neither Redis nor a proxy. With **a channel per client** the');
out(`object's duration is one client's alone: ${usdSmall(monthly(WORKERS_PRIVATE, quiet))} a month whatever the rate, more than Vercel or`);
out('delegation and still less than holding on Lambda. The more clients share a channel, the');
out('cheaper: group private events onto fewer channels, or poll only while the page is visible');
out('(`hangtime/client` does by default).');
out();
out('## Choosing `maxWaitMs`');
out();
{
  const requestShare =
    (holdsPerHour * (PRICES.lambdaRequest.usd + PRICES.httpApiRequest.usd) * HOURS_PER_MONTH) / monthly(LAMBDA, quiet, false);
  const vercelInvocationShare = (holdsPerHour * PRICES.vercelInvocation.usd) / (monthly(VERCEL, quiet, false) / HOURS_PER_MONTH);
  const workersRequestShare =
    (holdsPerHour * (PRICES.workersRequest.usd + PRICES.durableObjectRequest.usd)) / (monthly(WORKERS_SHARED, quiet) / HOURS_PER_MONTH);
  out('- **Billed by wall time, one request per instance** (Lambda, Netlify): a held poll is billed');
  out('  for every second it waits, whatever `maxWaitMs` is, so the compute per client-hour is');
  out('  about the same for any hold length (memory × an hour). Longer holds only cut the number of');
  out(`  requests (the per-request price, and HTTP API's: ${fmt(requestShare * 100, 1)}% of the Lambda + HTTP API price at`);
  out(`  ${fmt(data.settings.maxWaitMs / 1000)} s holds): choose the longest the front door allows (HTTP API: 30 s, so about 25 s; a`);
  out('  Function URL: up to the function timeout, but keep under the 60–120 s idle timeouts of');
  out('  proxies between the client and AWS). Configure the smallest memory that fits (the instance');
  out('  above takes tens of MB): GB-s scale with it. Better: delegate (above).');
  out('- **Billed by active CPU** (Vercel with in-function concurrency): a waiting poll costs no');
  out("  CPU and shares its instance's memory with every other poll, so holds are nearly free;");
  out(
    `  invocations are ${fmt(vercelInvocationShare * 100, 0)}% of the platform price of a quiet client at ${fmt(data.settings.maxWaitMs / 1000)} s holds, and each`,
  );
  out('  poll costs its Redis commands too: doubling the hold halves both on quiet channels. Use the');
  out("  longest hold the route's `maxDuration` (less the adapter's margin) and the intermediaries'");
  out('  idle timeouts allow.');
  out(
    `- **Cloudflare Workers**: no wall-clock limit; requests are ${fmt(workersRequestShare * 100, 0)}% of a quiet client's price on a shared`,
  );
  out("  channel at 25 s holds, the object's duration the rest, which no hold length changes. The");
  out('  default 25 s (`HANGTIME_MAX_WAIT_MS`) is fine; longer holds save a little, within the');
  out("  intermediaries' idle timeouts.");
  out(`- **Delegated (GRIP)**: the function does not wait, so its \`maxWaitMs\` does not apply; the proxy's`);
  out(`  hold (\`maxTimeoutSeconds\`, 55 s) sets the idle invocations (${fmt(3_600 / GRIP_HOLD_S, 1)} per client-hour). Keep the default`);
  out('  unless intermediaries cut silent requests sooner.');
  out();
}
{
  const lambdaAt = (mb) => 1_000 * HOURS_PER_MONTH * 3_600 * (mb / 1024) * PRICES.lambdaGbSecond.usd;
  out(`What this means on Lambda: a held poll bills its memory for every second a page is open,`);
  out(
    `${usd(lambdaAt(128) / 1_000)} per client a month at 128 MB (${usd(lambdaAt(data.settings.memoryMB) / 1_000)} at ${data.settings.memoryMB} MB), whatever the event rate. Where`,
  );
  out('that is more than an event a few seconds late is worth, poll every few seconds instead, or let a');
  out('proxy hold (delegation); on active-CPU billing holding is nearly free.');
  out();
}
out('An adaptive hold (shorter holds on quiet channels) does not pay on wall-time billing: a');
out('shorter hold bills the same seconds over more requests. It was not built.');
out();
out('## Sources');
out();
out(`Prices read on ${READ}; check them before you rely on them.`);
out();
out('| price | value | source |');
out('|---|---|---|');
for (const price of Object.values(PRICES))
  out(`| ${price.what} | $${price.usd < 0.001 ? price.usd.toPrecision(6) : price.usd} | ${price.source} |`);
out(`| Fastly Fanout (bandwidth, connection minutes, messages) | not published: "contact your account manager" | ${FANOUT_BILLING} |`);
out();
out('Measured elsewhere and used as inputs (in `bench/cost-report.mjs`, each with the command that');
out('measured it):');
out();
out(`- delegated holds: \`${GRIP.command}\` (docs/grip.md): ${GRIP.originRequestsPerDelivery} origin requests per delivered event,`);
out(
  `  ${GRIP.idleOriginRequests} while clients wait, ${GRIP.redisConnectionsPerWaitingClient} Redis connections per waiting client, ${GRIP.pushpinCpuMsPerDelivery} ms of Pushpin CPU per delivery,`,
);
out(`  ${fmt(GRIP.clientsPerPushpin, 0)} clients on one Pushpin;`);
out(`- Workers CPU: \`${WORKERD.command}\``);
out(`  (docs/cloudflare.md): ${fmt(WORKERD.cpuUsPerDelivery, 1)} µs per delivery in workerd.`);
out();
out(`Model assumptions not measured here: Netlify functions at their default ${NETLIFY_MEMORY_GB} GB; on Vercel, one`);
out(
  `${VERCEL_MEMORY_GB} GB instance holds ${fmt(VERCEL_CLIENTS_PER_INSTANCE, 0)} polls (docs/benchmarks.md measures 10,000 in one process),`,
);
out("with hangtime's CPU per poll from `npm run bench` and the shared waiting mode's Redis commands.");
out(
  `Delegated: an origin invocation billed as the warm short poll (${fmt(data.memory.shortPoll.billedMs, 1)} ms) with the held run's Redis`,
);
out('commands per poll; one event per delivery; origin Redis connections as the average of busy');
out(
  `instances; one Pushpin VM per ${fmt(GRIP.clientsPerPushpin, 0)} clients or per ${fmt(PUSHPIN_VM_CPUS / (GRIP.pushpinCpuMsPerDelivery / 1_000), 0)} deliveries a second. Cloudflare: workerd's CPU`,
);
out("per delivery for every Worker request; the channel's object active all the time; its storage");
out('not priced.');
out();
writeFileSync(join(ROOT, 'docs', 'cost.md'), `${lines.join('\n')}`);
process.stdout.write('wrote docs/cost.md\n');
