import type { EventLog } from './log.js';

/** The append methods a wrapper replaces: `appendLinked` only where the log has one. */
export type Appends = Pick<EventLog, 'append' | 'appendLinked'>;

/**
 * `log` with its appends replaced, everything else its own: typed channels (schema.ts) validate
 * before appending and GRIP (grip/publish.ts) publishes after. A proxy rather than a copy, so
 * that the log's other members (`stats()`, getters, methods added later) stay reachable, called
 * on the log itself (private fields need that), and a spread `{ ...wrapped }` keeps the
 * replaced appends.
 */
export function withAppends(log: EventLog, appends: Appends): EventLog {
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(log, {
    get(target, key) {
      if (key === 'append') return appends.append;
      if (key === 'appendLinked') return appends.appendLinked;
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      let method = bound.get(key);
      if (method === undefined) bound.set(key, (method = (value as (...args: unknown[]) => unknown).bind(target)));
      return method;
    },
  });
}
