import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';

/**
 * A real Pushpin (the Debian package, 1.36) for tests: its own configuration in a temporary
 * folder, free loopback ports, routes to a local origin. Debian's defaults cannot be used as
 * they are (see /work/shared/reference/pushpin.md): zurl listens on /var/run/zurl and denies
 * requests to 127.*, and every instance would share ports and rundir. So the three config
 * files are copied with their own paths and ports, and zurl is started with `deny=` empty.
 *
 * Skipped (with one line) when Pushpin is not installed, except under `CI=true`, where that
 * is a failure (.ci/run installs it).
 */

const PUSHPIN_CONF = '/etc/pushpin/pushpin.conf';
const INTERNAL_CONF = '/usr/lib/pushpin/internal.conf';
const ZURL_CONF = '/etc/zurl.conf';

export const pushpinAvailable = existsSync(PUSHPIN_CONF) && existsSync(INTERNAL_CONF) && existsSync(ZURL_CONF);

if (!pushpinAvailable && process.env.CI === 'true') {
  throw new Error('Pushpin is not installed and CI=true: the GRIP suites must run in CI (apt-get install -y pushpin)');
}

/** `describe` for suites that need Pushpin; skipped (with one line) without it. */
export function describePushpin(name: string, body: () => void): void {
  if (pushpinAvailable) {
    describe(name, body);
    return;
  }
  process.stderr.write('Skipping the GRIP suites: Pushpin is not installed (apt-get install -y pushpin)\n');
  describe.skip(name, body);
}

export interface PushpinOptions {
  /** The origin Pushpin sends every request to, `host:port`. */
  readonly origin: string;
  /** The key Pushpin signs `Grip-Sig` with. Default: a random one. */
  readonly sigKey?: string;
  /** pushpin.conf `message_rate` (deliveries per second). Default Pushpin's 2500. */
  readonly messageRate?: number;
  /** Extra `[handler]`/`[runner]`/`[proxy]` settings, `section.key` → value. */
  readonly settings?: Readonly<Record<string, string | number>>;
}

export interface Pushpin {
  /** Where clients connect: `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The publish endpoint's base (`POST <publishUrl>/publish/`), what `GRIP_URL` names. */
  readonly publishUrl: string;
  /** The key Pushpin signs `Grip-Sig` with. */
  readonly sigKey: string;
  /** Stop Pushpin (and its zurl). Idempotent. */
  stop(): Promise<void>;
  /** Stop it and start it again on the same ports: every held connection is dropped. */
  restart(): Promise<void>;
}

/** Ports the OS says are free now (each from a listen on port 0, closed again). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** Set `key=value` in `section` of an INI text (replacing the line, or adding it). */
function setIni(text: string, section: string, key: string, value: string): string {
  const lines = text.split('\n');
  let current = '';
  let sectionEnd = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const header = /^\[(.+)\]\s*$/.exec(line);
    if (header) {
      current = header[1]!;
      if (current === section) sectionEnd = i + 1;
      continue;
    }
    if (current !== section) continue;
    sectionEnd = i + 1;
    if (line.startsWith(`${key}=`)) {
      lines[i] = `${key}=${value}`;
      return lines.join('\n');
    }
  }
  if (sectionEnd < 0) return `${text}\n[${section}]\n${key}=${value}\n`;
  lines.splice(sectionEnd, 0, `${key}=${value}`);
  return lines.join('\n');
}

/**
 * Start Pushpin in front of `origin` and wait until it proxies and accepts publishes. Stop it
 * in `afterEach`/`afterAll` (or `finally`): {@link Pushpin.stop}.
 */
export async function startPushpin(options: PushpinOptions): Promise<Pushpin> {
  const dir = await mkdtemp(join(tmpdir(), 'hangtime-pushpin-'));
  const sigKey = options.sigKey ?? `key-${Math.random().toString(36).slice(2)}`;
  const [httpPort, publishPort, pushInPort, pushSubPort, commandPort] = await freePorts(5);
  const ipc = (name: string) => `ipc://${dir}/zurl-${name}`;

  let zurl = await readFile(ZURL_CONF, 'utf8');
  zurl = setIni(zurl, 'General', 'in_spec', ipc('in'));
  zurl = setIni(zurl, 'General', 'in_stream_spec', ipc('in-stream'));
  zurl = setIni(zurl, 'General', 'out_spec', ipc('out'));
  zurl = setIni(zurl, 'General', 'in_req_spec', ipc('req'));
  zurl = setIni(zurl, 'General', 'deny', '');
  await writeFile(join(dir, 'zurl.conf'), zurl);

  const internal = (await readFile(INTERNAL_CONF, 'utf8')).replaceAll('ipc:///var/run/zurl/zurl-', `ipc://${dir}/zurl-`);
  await writeFile(join(dir, 'internal.conf'), internal);

  let conf = await readFile(PUSHPIN_CONF, 'utf8');
  const set = (section: string, key: string, value: string | number) => (conf = setIni(conf, section, key, String(value)));
  set('global', 'include', join(dir, 'internal.conf'));
  set('global', 'rundir', join(dir, 'run'));
  set('runner', 'logdir', join(dir, 'log'));
  set('runner', 'http_port', httpPort!);
  set('proxy', 'routesfile', join(dir, 'routes'));
  set('proxy', 'sig_key', sigKey);
  set('handler', 'push_in_spec', `tcp://127.0.0.1:${pushInPort}`);
  set('handler', 'push_in_sub_specs', `tcp://127.0.0.1:${pushSubPort}`);
  set('handler', 'push_in_http_port', publishPort!);
  set('handler', 'command_spec', `tcp://127.0.0.1:${commandPort}`);
  if (options.messageRate !== undefined) set('handler', 'message_rate', options.messageRate);
  for (const [name, value] of Object.entries(options.settings ?? {})) {
    const [section, key] = name.split('.');
    set(section!, key!, value);
  }
  await writeFile(join(dir, 'pushpin.conf'), conf);
  await writeFile(join(dir, 'routes'), `* ${options.origin}\n`);

  const url = `http://127.0.0.1:${httpPort}`;
  const publishUrl = `http://127.0.0.1:${publishPort}`;
  let processes: ChildProcess[] = [];
  const output: string[] = [];

  function launch(command: string, args: string[]): ChildProcess {
    // Its own process group, so that stop() ends pushpin's runner and the services it started.
    const child = spawn(command, args, { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 200) output.shift();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('error', (error) => output.push(`${command}: ${error.message}`));
    return child;
  }

  async function up(): Promise<void> {
    processes = [
      launch('zurl', [`--config=${join(dir, 'zurl.conf')}`]),
      launch('pushpin', ['--config', join(dir, 'pushpin.conf'), '--port', `127.0.0.1:${httpPort}`]),
    ];
    await waitReady();
  }

  async function waitReady(): Promise<void> {
    const started = Date.now();
    while (Date.now() - started < 30_000) {
      if (processes.some((child) => child.exitCode !== null)) break;
      try {
        // An empty publish is accepted once the handler listens; a request on the proxy port
        // answers once condure, the proxy and zurl are up (a hangtime origin answers this
        // path at once, with a 400: no channels).
        const published = await fetch(`${publishUrl}/publish/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"items":[]}',
          signal: AbortSignal.timeout(1_000),
        });
        if (published.ok) {
          const proxied = await fetch(`${url}/__pushpin_ready`, { signal: AbortSignal.timeout(5_000) });
          await proxied.arrayBuffer();
          if (proxied.status !== 502 && proxied.status !== 503) return;
        }
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await down();
    throw new Error(`Pushpin did not become ready within 30 s:\n${output.join('').slice(-4_000)}`);
  }

  async function down(): Promise<void> {
    const exits = processes.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          try {
            process.kill(-child.pid!, 'SIGTERM');
          } catch {
            resolve();
          }
          // A service that ignores SIGTERM is killed after 5 s.
          setTimeout(() => {
            try {
              process.kill(-child.pid!, 'SIGKILL');
            } catch {
              // Already gone.
            }
          }, 5_000).unref();
        }),
    );
    processes = [];
    await Promise.all(exits);
  }

  await up();
  let stopped = false;
  return {
    url,
    publishUrl,
    sigKey,
    async restart() {
      await down();
      await up();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await down();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
