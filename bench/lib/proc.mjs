// Child processes of the bench: spawned with the open-file limit raised as far as allowed,
// registered so that every one of them is killed when the bench ends (normally or not), and
// measured from /proc (CPU and memory) without asking the process itself.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const ROOT = dirname(BENCH_DIR);

/** Milliseconds on CLOCK_MONOTONIC, which every process of the machine shares: a timestamp
 * taken in one process (the publisher) is compared with one taken in another (a client). */
export const hrMs = () => Number(process.hrtime.bigint()) / 1e6;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The open-file limit we ask for; the hard limit caps it (and `ulimit` says so). */
export const WANTED_OPEN_FILES = 65536;

const live = new Set();

/**
 * Start a Node script in its own process, through bash so that `ulimit -n` applies, with an IPC
 * channel. `exec` keeps the pid: /proc/<pid> is the Node process itself.
 */
export function spawnNode(script, args = [], { name = script, env = {} } = {}) {
  const shell = `ulimit -n ${WANTED_OPEN_FILES} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`;
  // BENCH_SERVER_FLAGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) goes to the servers only:
  // Node refuses --cpu-prof in NODE_OPTIONS, and profiling the load client is rarely the point.
  // `--expose-gc` gives the servers `gc()` for the live-heap scenario (bench/lib/live.mjs) and
  // changes nothing else: the collector runs as without it until `/_bench/gc` is asked.
  const flags = script.startsWith('servers/') ? ['--expose-gc', ...(process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean)] : [];
  const child = spawn('bash', ['-c', shell, process.execPath, ...flags, join(BENCH_DIR, script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...env },
  });
  return track(child, name);
}

/**
 * Start a program that is not Node (redis-server, nginx) under a small Node guard that kills
 * it when the bench goes away, even if the bench itself is killed with SIGKILL.
 */
export function spawnGuarded(command, args, { name = command } = {}) {
  return spawnNode('lib/guard.mjs', [command, ...args], { name });
}

function track(child, name) {
  const tail = [];
  const keep = (chunk) => {
    for (const line of String(chunk).split('\n')) {
      if (line.trim() === '') continue;
      tail.push(line);
      if (tail.length > 30) tail.shift();
      if (process.env.BENCH_VERBOSE) process.stderr.write(`  [${name}] ${line}\n`);
    }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const handle = { child, name, tail, exited, pid: child.pid, stop: () => stopChild(handle) };
  child.on('error', (error) => tail.push(String(error)));
  live.add(handle);
  exited.then(() => live.delete(handle));
  return handle;
}

/** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
export async function stopChild(handle, graceMs = 3000) {
  if (handle.child.exitCode !== null || handle.child.signalCode !== null) return;
  try {
    if (handle.child.connected) handle.child.disconnect();
  } catch {
    // Already disconnected.
  }
  handle.child.kill('SIGTERM');
  const timer = setTimeout(() => handle.child.kill('SIGKILL'), graceMs);
  await handle.exited;
  clearTimeout(timer);
}

export async function stopAll() {
  await Promise.all([...live].map((handle) => stopChild(handle)));
}

function killAllNow() {
  for (const handle of live) {
    try {
      handle.child.kill('SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    killAllNow();
    process.exit(130);
  });
}

/** Wait for the first IPC message that `accept` returns truthy for. */
export function nextMessage(handle, accept, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (!accept(message)) return;
      done();
      resolve(message);
    };
    const onExit = (code, signal) => {
      done();
      reject(
        new Error(`${handle.name} exited (${signal ?? code}) while waiting for ${what}:\n    ${handle.tail.slice(-8).join('\n    ')}`),
      );
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${handle.name}: no ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      handle.child.off('message', onMessage);
      handle.child.off('exit', onExit);
    };
    handle.child.on('message', onMessage);
    handle.child.once('exit', onExit);
  });
}

/** Send a request over IPC and wait for the reply of type `${type}:reply`. */
export function ask(handle, message, timeoutMs = 10_000) {
  const reply = nextMessage(handle, (m) => m?.type === `${message.type}:reply`, timeoutMs, `${message.type} reply`);
  handle.child.send(message);
  return reply;
}

/** A TCP port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * CPU time of a process in ms, all threads included. `se.sum_exec_runtime` in
 * /proc/<pid>/task/<tid>/sched is in ns-precise ms; /proc/<pid>/stat only counts 10 ms ticks,
 * too coarse for a 100-poll fan-out, so it is the fallback when the kernel lacks the former.
 */
export function cpuMs(pid) {
  try {
    let total = 0;
    let found = false;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/sched`, 'utf8');
      const match = /se\.sum_exec_runtime\s*:\s*([\d.]+)/.exec(text);
      if (match) {
        total += Number(match[1]);
        found = true;
      }
    }
    if (found) return total;
  } catch {
    // Fall through to the tick counters.
  }
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Resident memory now and its high-water mark, in KiB. */
export function memKiB(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** Processes whose parent is `pid` (nginx's worker under its master). */
export function childPids(pid) {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.split(') ')[1].split(' ')[1]) === pid) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** The soft open-file limit of a process. */
export function openFileLimit(pid = 'self') {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const [soft, hard] = line.replace('Max open files', '').trim().split(/\s+/);
  return { soft: Number(soft), hard: Number(hard) };
}

/** First executable found on PATH (plus the sbin directories a non-root PATH may miss). */
export function which(command) {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    const path = join(dir, command);
    if (dir && existsSync(path)) return path;
  }
  return undefined;
}
