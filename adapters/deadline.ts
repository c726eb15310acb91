import { HangtimeError } from '../src/errors.js';
import { responseForError, toResponse, type HandlerContext, type PlainResponse } from '../src/http.js';
import type { AdapterTarget } from './limits.js';

/**
 * The last line of "answer before the platform does": when `work` has not settled a quarter of
 * the safety margin before the deadline (a slow `authorize` hook, a log call the core does not
 * bound), settle with `late()` and report it. `work` runs on; its late result is dropped.
 */
export function beforeDeadline<T>(work: Promise<T>, context: HandlerContext, late: () => T, onError: (error: unknown) => void): Promise<T> {
  const { deadline, safetyMarginMs = 0 } = context;
  if (deadline === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () => {
        settled = true;
        onError(new Error(`No answer ${Math.round(safetyMarginMs / 4)} ms before the platform deadline: answered 503 instead`));
        resolve(late());
      },
      Math.max(0, deadline - safetyMarginMs / 4 - Date.now()),
    );
    work.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return onError(error);
        settled = true;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** What {@link beforeDeadline} answers: a retryable 503, like a log that did not answer in time. */
export function lateAnswer(): PlainResponse {
  return responseForError(
    new HangtimeError('log_unavailable', 503, 'The poll did not finish before the platform deadline', { retryAfterSeconds: 1 }),
  );
}

/** Answer a Web request before the deadline; a handler that throws gets a clean 500, reported to `onError`. */
export function respondWeb(
  target: AdapterTarget,
  request: Request,
  context: HandlerContext,
  onError: (error: unknown) => void,
): Promise<Response> {
  const work = (async () => {
    try {
      return await target.web(request, context);
    } catch (error) {
      onError(error);
      return toResponse(responseForError(error));
    }
  })();
  return beforeDeadline(work, context, () => toResponse(lateAnswer()), onError);
}
