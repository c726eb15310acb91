/** A member of a {@link LinkedList}: its neighbours are fields of its own. */
export interface Linked<T> {
  /** @internal Neighbours in the list the member is in (at most one at a time). */
  previousLink: T | undefined;
  /** @internal */
  nextLink: T | undefined;
}

/**
 * A doubly linked list threaded through its members: adding and removing allocate nothing and
 * hash nothing, where a Set entry per member grew and shrank its table as thousands of held
 * polls came and went at every fan-out. Hold-timer slots (hold-timers.ts) and each channel's
 * waiters (wait-list.ts) are such lists.
 */
export class LinkedList<T extends Linked<T>> {
  #first: T | undefined;
  /** Members in the list. */
  size = 0;

  add(member: T): void {
    member.previousLink = undefined;
    member.nextLink = this.#first;
    if (this.#first !== undefined) this.#first.previousLink = member;
    this.#first = member;
    this.size++;
  }

  /** Take `member` out; one not in this list (already removed, or in another) is left alone. */
  remove(member: T): void {
    const { previousLink: previous, nextLink: next } = member;
    if (previous !== undefined) previous.nextLink = next;
    else if (this.#first === member) this.#first = next;
    else return;
    if (next !== undefined) next.previousLink = previous;
    member.previousLink = member.nextLink = undefined;
    this.size--;
  }

  /** The members as they are now. Whoever ends members while walking them (ending one takes it
   * out, and may end others) walks this copy: following the links would stop at a member taken out. */
  members(): T[] {
    const found: T[] = [];
    for (let member = this.#first; member !== undefined; member = member.nextLink) found.push(member);
    return found;
  }
}
