/** Why a hold ended (sent as `Server-Timing: hold;desc=…`); `shutdown`: `hangtime.close()` ended it. */
export type WakeReason = 'events' | 'timeout' | 'deadline' | 'abort' | 'gap' | 'shutdown';

export interface BudgetInput {
  /** Now, in epoch milliseconds. */
  readonly now: number;
  /** The server's longest hold. */
  readonly maxWaitMs: number;
  /** The longest hold the client asked for, if it asked. */
  readonly clientWaitMs?: number | undefined;
  /** When the platform stops the function (epoch ms), if the adapter knows. */
  readonly deadline?: number | undefined;
  /** Time kept free before the deadline to answer and flush. */
  readonly safetyMarginMs: number;
  /** Budgets below this are not worth holding: answer at once. */
  readonly minHoldMs: number;
  /** A number in [0, 1): the downward jitter is `budget * random() / 16`. */
  readonly random: number;
}

export interface Budget {
  /** How long to hold, 0 to answer at once. */
  readonly budgetMs: number;
  /** What the budget was limited by, reported when it runs out. */
  readonly limitedBy: 'timeout' | 'deadline';
}

/**
 * The hold budget: min(maxWaitMs, the client's wait, deadline - now - safetyMarginMs),
 * less a random jitter of up to 1/16 (Consul's choice) so that polls that started
 * together do not all come back together.
 */
export function holdBudget(input: BudgetInput): Budget {
  let budgetMs = Math.min(input.maxWaitMs, input.clientWaitMs ?? Infinity);
  let limitedBy: Budget['limitedBy'] = 'timeout';
  if (input.deadline !== undefined) {
    const untilDeadline = input.deadline - input.now - input.safetyMarginMs;
    if (untilDeadline < budgetMs) {
      budgetMs = untilDeadline;
      limitedBy = 'deadline';
    }
  }
  budgetMs -= (budgetMs * input.random) / 16;
  return { budgetMs: budgetMs < input.minHoldMs ? 0 : budgetMs, limitedBy };
}
