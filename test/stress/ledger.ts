/**
 * The accounting of a stress run: every publish attempted (acknowledged or not), and what each
 * subscriber was told, in order, per channel. `account()` compares each subscriber's sequence
 * with the log's and names every difference: an event lost, duplicated, reordered, delivered
 * on the wrong channel or never published, and whether each skipped event is covered by a gap
 * the subscriber was told about.
 *
 * What "the log" is: the acknowledged publishes (with the position the log returned) plus any
 * unacknowledged publish that some subscriber received (it landed, its answer was lost). Within
 * one generation of a channel, positions compare as strings in log order (the contract of
 * src/log.ts); a generation is the part of a position before its first `-` (both logs of this
 * package write `<generation>-…`, docs/redis.md "Positions"). Generations follow each other in
 * time: the earliest moment any event of a generation was acknowledged or delivered orders them.
 *
 * Every subscriber is assumed to follow its channels from their start (the harness makes every
 * subscriber live before the first publish).
 */

export interface Publication {
  readonly id: string;
  readonly channel: string;
  /** Who published: `log:<name>` (backend `log.append`) or `http:<name>` (POST). */
  readonly via: string;
  readonly attemptAt: number;
  ackAt?: number;
  position?: string;
  failure?: string;
}

export interface GapNotice {
  readonly resumeAfter: string;
  readonly missed: number | null;
  /** `retention` or `reset` once the server sends it (not relied on). */
  readonly reason?: string | undefined;
}

export type Item =
  | { readonly kind: 'event'; readonly id: string; readonly position: string; readonly at: number }
  | ({ readonly kind: 'gap'; readonly at: number } & GapNotice);

export type ProblemKind =
  | 'lost' // skipped without a gap, or never delivered
  | 'lost-despite-gap' // skipped behind a gap, but of the generation the subscriber resumed in (history that was not lost)
  | 'duplicate'
  | 'reordered'
  | 'phantom' // delivered, never published
  | 'misrouted' // delivered on another channel than it was published to
  | 'position-mismatch' // two answers (or an acknowledgement and an answer) disagree on an event's position
  | 'unexpected-gap' // a gap in a run where no history may be lost
  | 'starved' // a channel got nothing for many answers while its events waited
  | 'stopped' // the client gave up (it must retry everything but a request it cannot fix)
  | 'server-error'; // the server reported an unexpected error (a 500, a log failure) through onError

export interface Problem {
  readonly kind: ProblemKind;
  readonly channel: string;
  readonly subscriber?: string;
  readonly detail: string;
}

export interface Accounting {
  readonly problems: Problem[];
  readonly stats: {
    attempted: number;
    acknowledged: number;
    failed: number;
    /** Unacknowledged publishes that some subscriber received (they landed). */
    landedUnacknowledged: number;
    deliveries: number;
    gaps: number;
    /** Gaps by the `reason` the server gave (`none` before servers send one). */
    gapReasons: Record<string, number>;
    /** Deliveries the gaps excused: events of lost history a subscriber did not get. */
    coveredByGaps: number;
  };
}

interface Known {
  readonly id: string;
  readonly position: string;
  readonly generation: string;
  firstAt: number;
}

/** The generation of a position: what precedes its first `-` (see the module comment). */
export const generationOf = (position: string): string => {
  const dash = position.indexOf('-');
  return dash < 0 ? position : position.slice(0, dash);
};

export class Ledger {
  readonly publications = new Map<string, Publication>();
  /** subscriber → channel → what it was told, in order. */
  readonly #views = new Map<string, Map<string, Item[]>>();

  attempt(id: string, channel: string, via: string, at = Date.now()): void {
    if (this.publications.has(id)) throw new Error(`Publication id ${id} used twice`);
    this.publications.set(id, { id, channel, via, attemptAt: at });
  }

  acknowledge(id: string, position: string, at = Date.now()): void {
    const publication = this.#publication(id);
    publication.ackAt = at;
    publication.position = position;
  }

  fail(id: string, failure: string): void {
    this.#publication(id).failure = failure;
  }

  delivered(subscriber: string, channel: string, id: string, position: string, at = Date.now()): void {
    this.#view(subscriber, channel).push({ kind: 'event', id, position, at });
  }

  gap(subscriber: string, channel: string, gap: GapNotice, at = Date.now()): void {
    this.#view(subscriber, channel).push({ kind: 'gap', resumeAfter: gap.resumeAfter, missed: gap.missed, reason: gap.reason, at });
  }

  /** What `subscriber` was told on `channel`, in order. */
  items(subscriber: string, channel: string): readonly Item[] {
    return this.#views.get(subscriber)?.get(channel) ?? [];
  }

  /** Whether `subscriber` received the publication `id` on `channel`. */
  received(subscriber: string, channel: string, id: string): boolean {
    return this.items(subscriber, channel).some((item) => item.kind === 'event' && item.id === id);
  }

  account(options: { gapsAllowed: boolean }): Accounting {
    const problems: Problem[] = [];
    const logs = this.#logs(problems);
    let deliveries = 0;
    let gaps = 0;
    const gapReasons: Record<string, number> = {};
    let coveredByGaps = 0;

    for (const [subscriber, channels] of this.#views) {
      for (const [channel, items] of channels) {
        const log = logs.get(channel) ?? { order: [], index: new Map<string, number>() };
        const report = (kind: ProblemKind, detail: string) => problems.push({ kind, channel, subscriber, detail });
        const seen = new Set<string>();
        let pointer = -1; // index in the log of the last event delivered
        let pending: GapNotice[] = []; // gaps told since that event
        const excuse = (skipped: readonly Known[], resumedIn: string | undefined, when: string) => {
          if (skipped.length === 0) return;
          const ids = summarise(skipped.map((known) => known.id));
          const from = pointer < 0 ? "from the channel's start" : `after ${log.order[pointer]!.id}`;
          const older = skipped.filter((known) => known.generation !== resumedIn).length;
          const crossed =
            older > 0 && resumedIn !== undefined ? `; ${older} of them of an earlier generation: a loss of history crossed silently` : '';
          if (pending.length === 0) return report('lost', `${skipped.length} event(s) ${when} without a gap (${from}${crossed}): ${ids}`);
          // A gap excuses lost history: events of generations before the one the subscriber
          // resumed in. Events of that generation itself were not lost, unless the gap counted
          // them (`missed`, retention).
          const live = skipped.filter((known) => known.generation === resumedIn);
          const counted = pending.reduce((sum, gap) => sum + (gap.missed ?? 0), 0);
          if (live.length > counted) {
            report(
              'lost-despite-gap',
              `${live.length} event(s) of the generation it resumed in (${resumedIn}) skipped behind a gap that counted ${counted}: ${summarise(live.map((known) => known.id))}`,
            );
          }
          coveredByGaps += skipped.length - Math.max(0, live.length - counted);
        };
        for (const item of items) {
          if (item.kind === 'gap') {
            gaps++;
            const reason = item.reason ?? 'none';
            gapReasons[reason] = (gapReasons[reason] ?? 0) + 1;
            pending.push(item);
            if (!options.gapsAllowed)
              report(
                'unexpected-gap',
                `gap ${JSON.stringify({ resumeAfter: item.resumeAfter, missed: item.missed, reason: item.reason })} in a run where no history may be lost`,
              );
            continue;
          }
          deliveries++;
          if (seen.has(item.id)) {
            report('duplicate', `${item.id} at ${item.position} delivered again`);
            continue;
          }
          seen.add(item.id);
          const at = log.index.get(item.id);
          if (at === undefined) continue; // phantom or misrouted: reported by #logs
          if (at < pointer) {
            report(
              'reordered',
              `${item.id} (${log.order[at]!.position}) delivered after ${log.order[pointer]!.id} (${log.order[pointer]!.position})`,
            );
            continue;
          }
          excuse(log.order.slice(pointer + 1, at), generationOf(item.position), `skipped before ${item.id}`);
          pending = [];
          pointer = at;
        }
        // The end: everything after the last delivered event was lost history behind a gap,
        // or was lost. (The harness appends a last event to every channel once the faults are
        // over, and waits until every subscriber has it: so the live generation is fully known.)
        const rest = log.order.slice(pointer + 1);
        excuse(rest, log.order[log.order.length - 1]?.generation, 'never delivered');
      }
    }

    const all = [...this.publications.values()];
    const delivered = new Set<string>();
    for (const channels of this.#views.values())
      for (const items of channels.values()) for (const item of items) if (item.kind === 'event') delivered.add(item.id);
    return {
      problems,
      stats: {
        attempted: all.length,
        acknowledged: all.filter((p) => p.ackAt !== undefined).length,
        failed: all.filter((p) => p.ackAt === undefined).length,
        landedUnacknowledged: all.filter((p) => p.ackAt === undefined && delivered.has(p.id)).length,
        deliveries,
        gaps,
        gapReasons,
        coveredByGaps,
      },
    };
  }

  /** Per channel, the log as far as anyone knows it, in order. */
  #logs(problems: Problem[]): Map<string, { order: Known[]; index: Map<string, number> }> {
    const known = new Map<string, Map<string, Known>>();
    const add = (channel: string, id: string, position: string, at: number, subscriber?: string) => {
      let byId = known.get(channel);
      if (byId === undefined) known.set(channel, (byId = new Map()));
      const previous = byId.get(id);
      if (previous === undefined) {
        byId.set(id, { id, position, generation: generationOf(position), firstAt: at });
      } else if (previous.position !== position) {
        problems.push({
          kind: 'position-mismatch',
          channel,
          subscriber,
          detail: `${id} at ${position}, elsewhere at ${previous.position}`,
        });
      } else previous.firstAt = Math.min(previous.firstAt, at);
    };
    for (const publication of this.publications.values()) {
      if (publication.position !== undefined) add(publication.channel, publication.id, publication.position, publication.ackAt!);
    }
    for (const [subscriber, channels] of this.#views) {
      for (const [channel, items] of channels) {
        for (const item of items) {
          if (item.kind !== 'event') continue;
          const publication = this.publications.get(item.id);
          if (publication === undefined)
            problems.push({ kind: 'phantom', channel, subscriber, detail: `${item.id} at ${item.position} was never published` });
          else if (publication.channel !== channel)
            problems.push({ kind: 'misrouted', channel, subscriber, detail: `${item.id} was published to ${publication.channel}` });
          else add(channel, item.id, item.position, item.at, subscriber);
        }
      }
    }
    const logs = new Map<string, { order: Known[]; index: Map<string, number> }>();
    for (const [channel, byId] of known) {
      const generations = new Map<string, Known[]>();
      for (const entry of byId.values()) {
        let events = generations.get(entry.generation);
        if (events === undefined) generations.set(entry.generation, (events = []));
        events.push(entry);
      }
      const first = (events: readonly Known[]) => Math.min(...events.map((event) => event.firstAt));
      const order = [...generations.values()]
        .sort((a, b) => first(a) - first(b))
        .flatMap((events) => events.sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0)));
      logs.set(channel, { order, index: new Map(order.map((entry, i) => [entry.id, i])) });
    }
    return logs;
  }

  #publication(id: string): Publication {
    const publication = this.publications.get(id);
    if (publication === undefined) throw new Error(`Unknown publication ${id}`);
    return publication;
  }

  #view(subscriber: string, channel: string): Item[] {
    let channels = this.#views.get(subscriber);
    if (channels === undefined) this.#views.set(subscriber, (channels = new Map()));
    let items = channels.get(channel);
    if (items === undefined) channels.set(channel, (items = []));
    return items;
  }
}

/** One poll answer as a subscriber's fetch saw it. */
export interface RawAnswer {
  readonly sentAt: number;
  readonly status: number;
  /** Channel and publication id of each event, in the answer's order. */
  readonly events: ReadonlyArray<{ readonly channel: string; readonly id: string }>;
}

/**
 * Starvation: a channel of a multi-channel poll that gets nothing, answer after answer, while
 * its events wait. For each event a subscriber received, count the answers that carried events
 * but none of its channel, among those whose request was sent `marginMs` after the event was
 * acknowledged (so the server could read it) and before the answer that delivered it. Behind
 * its own channel's backlog an event is not starved (those answers carry its channel); behind
 * another channel's, it is. `maxPassedOver` answers is the bound (a fair server needs at most
 * one per channel of the poll).
 */
export function starvation(
  subscriber: string,
  channels: readonly string[],
  answers: readonly RawAnswer[],
  publications: ReadonlyMap<string, Publication>,
  options: { marginMs: number; maxPassedOver: number },
): Problem[] {
  const problems: Problem[] = [];
  // passedOver[channel][j]: answers before j that carried events, none of `channel`.
  const passedOver = new Map(channels.map((channel) => [channel, new Int32Array(answers.length + 1)]));
  answers.forEach((answer, j) => {
    for (const channel of channels) {
      const counts = passedOver.get(channel)!;
      const skipped = answer.events.length > 0 && !answer.events.some((event) => event.channel === channel);
      counts[j + 1] = counts[j]! + (skipped ? 1 : 0);
    }
  });
  const firstSentAfter = (time: number): number => {
    let low = 0;
    let high = answers.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (answers[middle]!.sentAt > time) high = middle;
      else low = middle + 1;
    }
    return low;
  };
  const done = new Set<string>();
  answers.forEach((answer, k) => {
    for (const { channel, id } of answer.events) {
      if (done.has(id)) continue;
      done.add(id);
      const ackAt = publications.get(id)?.ackAt;
      const counts = passedOver.get(channel);
      if (ackAt === undefined || counts === undefined) continue;
      const from = firstSentAfter(ackAt + options.marginMs);
      if (from >= k) continue;
      const count = counts[k]! - counts[from]!;
      if (count > options.maxPassedOver) {
        problems.push({
          kind: 'starved',
          channel,
          subscriber,
          detail: `${id} waited through ${count} answers that carried other channels only (poll of ${channels.join(',')}; bound ${options.maxPassedOver})`,
        });
      }
    }
  });
  return problems;
}

/** A readable list of ids: the first few and a count. */
function summarise(ids: readonly string[]): string {
  return ids.length <= 6 ? ids.join(', ') : `${ids.slice(0, 5).join(', ')} … ${ids[ids.length - 1]} (${ids.length})`;
}

/** The problems, grouped by kind, as lines for a failure message (at most `perKind` each). */
export function describeProblems(problems: readonly Problem[], perKind = 8): string {
  const byKind = new Map<ProblemKind, Problem[]>();
  for (const problem of problems) {
    let list = byKind.get(problem.kind);
    if (list === undefined) byKind.set(problem.kind, (list = []));
    list.push(problem);
  }
  const lines: string[] = [];
  for (const [kind, list] of byKind) {
    const subscribers = new Set(list.map((problem) => problem.subscriber));
    lines.push(`${kind}: ${list.length} (${subscribers.size} subscriber(s))`);
    for (const problem of list.slice(0, perKind)) lines.push(`  ${problem.subscriber ?? '-'} ${problem.channel}: ${problem.detail}`);
  }
  return lines.join('\n');
}
