import type { AuthDecision } from './types.js';
import { errorResponse, type PlainResponse } from './http.js';
import { show } from './options.js';

/** Turns a hook's decision into its denial: `undefined` lets the request through. */
export type Denial = (decision: AuthDecision) => PlainResponse | undefined;

/**
 * The denial of one hook (`authorize` or `authorizePublish`). A decision that is neither a
 * boolean nor `{ status: 401 | 403 }` is a bug in the hook, most often an async hook that
 * computes its answer and forgets to `return` it (so `undefined`). It fails closed: a 403, as
 * `false` would, never a 500 nor a request let through; and `report` hears of it once per hook,
 * with a `TypeError` that says what came back, so the bug shows without flooding `onError`.
 *
 * @example
 * const deny = denialFor('authorize', onError);
 * deny(true); // undefined: let through
 * deny(undefined); // a 403 answer; onError got a TypeError (the first time)
 */
export function denialFor(hook: 'authorize' | 'authorizePublish', report: (error: unknown) => void): Denial {
  let reported = false;
  return (decision) => {
    if (decision === true) return undefined;
    if (decision === false) return errorResponse(403, 'forbidden', 'Not allowed');
    if (typeof decision === 'object' && decision !== null && (decision.status === 401 || decision.status === 403)) {
      const { status } = decision;
      return errorResponse(
        status,
        status === 401 ? 'unauthorized' : 'forbidden',
        decision.message ?? (status === 401 ? 'Credentials required' : 'Not allowed'),
        {
          headers: { ...decision.headers },
        },
      );
    }
    if (!reported) {
      reported = true;
      const got =
        typeof decision === 'object' && decision !== null
          ? `an object with status ${show((decision as { status?: unknown }).status)}`
          : show(decision);
      report(
        new TypeError(
          `Expected \`${hook}\` to return true, false or { status: 401 | 403 }, got ${got}: the request was denied (403). Reported once.`,
        ),
      );
    }
    return errorResponse(403, 'forbidden', 'Not allowed');
  };
}
