/**
 * What an adapter knows of its platform's concurrency, for logs that choose how to wait: on
 * AWS Lambda and Netlify every request has an instance of its own, so a log can wait with one
 * connection per instance (see `waiting: 'auto'` in hangtime/redis). A flag on `globalThis`
 * under a registered symbol, because each entry of the package is bundled on its own and
 * would otherwise hold its own copy of a module variable.
 */
const KEY = Symbol.for('hangtime.oneRequestPerInstance');

type Flagged = { [KEY]?: boolean };

/** Called by an adapter whose platform runs one request at a time per instance. */
export function declareOneRequestPerInstance(): void {
  (globalThis as Flagged)[KEY] = true;
}

/** Whether an adapter loaded in this process said it runs one request per instance. */
export function oneRequestPerInstance(): boolean {
  return (globalThis as Flagged)[KEY] === true;
}
