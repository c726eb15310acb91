import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on a free loopback port in front of a redis-server, for faults a real network
 * has and a local Redis does not: a reply lost on the way back (the connection closes after
 * the server ran the command), and a replication link that stops carrying data while both ends
 * think it is up (a partition between a master and its replica).
 */
export interface RedisProxy {
  readonly port: number;
  /**
   * The next time a client sends a command containing `marker`, let the server run it, then
   * throw its reply away and close that client's connection. Resolves when that happened.
   */
  dropReplyTo(marker: string): Promise<void>;
  /**
   * The next time a client sends a command containing `marker`, let the server run it, then
   * throw away everything the server sends that client from then on, keeping the connection
   * open: the command is in flight for the client until the server side closes (a restart, a
   * killed master). Resolves when the reply was swallowed.
   */
  holdReplyTo(marker: string): Promise<void>;
  /** From now on, carry nothing over the replication links (connections that sent REPLCONF),
   * without closing them: the master keeps counting the replica as connected. Returns a
   * function that heals the partition: it closes the stalled links (what they dropped cannot
   * be replayed on them), so that the replica reconnects and catches up. */
  stallReplication(): () => void;
  /** From now on, hold everything the server sends a client for `ms` before passing it on (in
   * order): a slow network, or a Lambda instance's link across regions. 0 turns it off. */
  delayReplies(ms: number): void;
  /** Connections that sent REPLCONF so far. */
  replicationLinks(): number;
  close(): Promise<void>;
}

interface Link {
  readonly client: Socket;
  readonly server: Socket;
  replication: boolean;
  /** Swallow what the server sends, then close the client. */
  dropping: boolean;
  /** Swallow what the server sends, keep the client connected. */
  holding: boolean;
}

export async function startProxy(targetPort: number, port = 0): Promise<RedisProxy> {
  const links = new Set<Link>();
  let armed: { marker: string; done: () => void; hold: boolean } | undefined;
  let stalled = false;
  let delayMs = 0;

  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    // Without this, Nagle's algorithm holds small replies (a replica's ACK) for ~40 ms.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const link: Link = { client, server: upstream, replication: false, dropping: false, holding: false };
    links.add(link);
    const end = () => {
      links.delete(link);
      // destroy(), not end(): nothing buffered may still reach the other side.
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      if (!link.replication && text.includes('REPLCONF')) link.replication = true;
      if (link.replication && stalled) return;
      if (armed !== undefined && text.includes(armed.marker)) {
        if (armed.hold) link.holding = true;
        else link.dropping = true;
        const { done } = armed;
        armed = undefined;
        // The reply comes back on `data` below; it is dropped there and the client closed.
        upstream.once('data', () => setImmediate(done));
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (link.replication && stalled) return;
      if (link.dropping) return end();
      if (link.holding) return;
      // Same delay for every chunk: timers of equal delay fire in order, so replies stay in order.
      if (delayMs > 0) setTimeout(() => client.writable && client.write(chunk), delayMs);
      else client.write(chunk);
    });
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    dropReplyTo: (marker) =>
      new Promise<void>((resolve) => {
        armed = { marker, done: resolve, hold: false };
      }),
    holdReplyTo: (marker) =>
      new Promise<void>((resolve) => {
        armed = { marker, done: resolve, hold: true };
      }),
    stallReplication: () => {
      stalled = true;
      return () => {
        stalled = false;
        for (const link of [...links]) {
          if (!link.replication) continue;
          link.client.destroy();
          link.server.destroy();
        }
      };
    },
    delayReplies: (ms) => {
      delayMs = ms;
    },
    replicationLinks: () => [...links].filter((link) => link.replication).length,
    close: async () => {
      for (const link of links) {
        link.client.destroy();
        link.server.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
