import { LinkedList, type Linked } from './linked-list.js';
import { LogWaiter } from './waiter.js';

/** One waiter's registration on one channel: a member of that channel's {@link WaitList}. */
export interface WaitLink extends Linked<WaitLink> {
  readonly waiter: LogWaiter;
  /** Where the waiter stands on this channel: it waits for what follows. */
  readonly after: string;
}

/** The log that keeps wait lists: it counts the waiters in them, and may forget an empty list. */
export interface WaitListOwner {
  /** A waiter joined its first list. */
  waiterJoined(): void;
  /** A waiter that joined left all its lists (it settled). */
  waiterLeft(): void;
  /** The last waiter of `list` left it. */
  emptied(list: WaitList): void;
}

/** The waiters of one channel (a {@link LinkedList}: they join and leave at every fan-out). Its
 * owner is reached through the list, not kept by each waiter. */
export class WaitList extends LinkedList<WaitLink> {
  constructor(
    readonly channel: string,
    readonly owner: WaitListOwner,
  ) {
    super();
  }

  /** The waiters whose position `wakes` accepts (all without it), as they are now: settling
   * one takes it out of the list, so the caller settles them from this copy. */
  waiters(wakes?: (after: string) => boolean): LogWaiter[] {
    const found: LogWaiter[] = [];
    for (const link of this.members()) if (wakes === undefined || wakes(link.after)) found.push(link.waiter);
    return found;
  }
}

/** The link of a waiter's second and later channels (the first one's is the waiter itself). */
class ExtraLink implements WaitLink {
  previousLink: WaitLink | undefined;
  nextLink: WaitLink | undefined;

  constructor(
    readonly waiter: LogWaiter,
    readonly after: string,
    readonly list: WaitList,
  ) {}
}

/**
 * A log's waiter that waits in channel lists. It is its own link in the first list it joins
 * (the usual poll follows one channel: no object more per held poll); each further channel
 * takes an {@link ExtraLink}. The lists' owner (the log) counts it in and out.
 */
export class ListedWaiter extends LogWaiter implements WaitLink {
  after = '';
  previousLink: WaitLink | undefined;
  nextLink: WaitLink | undefined;
  #list: WaitList | undefined;
  #others: ExtraLink[] | undefined;

  get waiter(): LogWaiter {
    return this;
  }

  /** Wait in `list` for what follows `after`. */
  join(list: WaitList, after: string): void {
    if (this.#list === undefined) {
      this.#list = list;
      this.after = after;
      list.add(this);
      list.owner.waiterJoined();
      return;
    }
    const link = new ExtraLink(this, after, list);
    (this.#others ??= []).push(link);
    list.add(link);
  }

  /** Leave every list joined (on settling). */
  protected release(): void {
    const list = this.#list;
    if (list === undefined) return;
    list.remove(this);
    if (list.size === 0) list.owner.emptied(list);
    if (this.#others !== undefined) {
      for (const link of this.#others) {
        link.list.remove(link);
        if (link.list.size === 0) link.list.owner.emptied(link.list);
      }
    }
    list.owner.waiterLeft();
  }
}
