// Load-client processes and the publish request, shared by both scenarios.
import http from 'node:http';
import { ask, nextMessage, sleep, spawnNode, stopChild } from './proc.mjs';
import { protocols } from './protocols.mjs';

/** Start `count` client processes and give each its share of `channels` (one per subscriber). */
export async function startClients(count, { base, protocol, channels, mode, timeoutMs }) {
  const clients = [];
  try {
    for (let i = 0; i < count; i++) {
      const handle = spawnNode('client.mjs', [], { name: `client${i}` });
      handle.child.on('message', (m) => {
        if (m?.type === 'fatal') handle.tail.push(m.message);
      });
      clients.push(handle);
    }
    await Promise.all(clients.map((c) => nextMessage(c, (m) => m?.type === 'ready', 20_000, 'client ready')));
    const shares = clients.map(() => []);
    channels.forEach((channel, i) => shares[i % count].push(channel));
    await Promise.all(clients.map((c, i) => ask(c, { type: 'open', base, protocol, channels: shares[i], waitS: 120, mode }, timeoutMs)));
    clients.forEach((c, i) => (c.subscribers = shares[i].length));
    return clients;
  } catch (error) {
    await Promise.all(clients.map((c) => stopChild(c)));
    throw error;
  }
}

/** Errors counted by the clients so far (each reply carries its process's cumulative counts). */
export async function clientErrors(clients) {
  const total = {};
  for (const client of clients) {
    try {
      const { errors, emptyAnswers } = await ask(client, { type: 'cpu' }, 5000);
      for (const [kind, n] of Object.entries(errors)) total[kind] = (total[kind] ?? 0) + n;
      // Not an error, but not expected while holds outlast rounds: said, never hidden.
      if (emptyAnswers > 0) total.empty_answer = (total.empty_answer ?? 0) + emptyAnswers;
    } catch {
      total.client_unresponsive = (total.client_unresponsive ?? 0) + 1;
    }
  }
  return total;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** Publish one event the system's way; resolves when the system accepted it. */
export function publish(base, protocol, channel, data, timeoutMs = 10_000) {
  const { method, path, headers, body } = protocols[protocol].publish(channel, data);
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: hostname,
      port,
      path,
      method,
      headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      agent,
      timeout: timeoutMs,
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () =>
        res.statusCode >= 200 && res.statusCode < 300
          ? resolve()
          : reject(new Error(`publish answered ${res.statusCode}: ${text.slice(0, 200)}`)),
      );
    });
    req.on('timeout', () => req.destroy(new Error('publish timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Wait until the system holds `n` polls. Verified, not assumed: the count comes from the
 * system (its own counter, Redis' blocked clients, Nchan's stub status).
 */
export async function waitHeld(running, n, timeoutMs) {
  const until = Date.now() + timeoutMs;
  let held = 0;
  let best = 0;
  for (;;) {
    held = await running.held();
    best = Math.max(best, held);
    if (held >= n) return held;
    if (Date.now() > until) {
      const error = new Error(`only ${held} of ${n} polls held after ${timeoutMs} ms (at most ${best})`);
      error.kind = 'not_all_held';
      error.held = best;
      throw error;
    }
    await sleep(10);
  }
}
