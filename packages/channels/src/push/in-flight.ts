/**
 * A counting semaphore: at most `limit` holders at once, the others wait in arrival order.
 * The push channel takes one slot per request, across every batch it is sending.
 */
export class InFlight {
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!(Number.isInteger(limit) && limit >= 1)) {
      throw new Error("the in-flight limit must be a whole number of at least 1");
    }
  }

  get active(): number {
    return this.#active;
  }

  /** Runs `work` once a slot is free, and frees it when `work` settles. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#active >= this.limit) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#active++;
    }
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter, so the count never dips below the limit
      // while work is queued (and a late arrival cannot overtake it).
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }
}
