/**
 * How fast a bind may submit: the provider's contracted rate (a token bucket), and what the SMSC
 * says when we go too fast (ESME_RTHROTTLED, ESME_RMSGQFUL). A throttle answer pauses the bind
 * and halves its rate, which then climbs back by a fifth each second without one (additive
 * increase would take minutes to recover a rate of thousands). Without a contracted rate the
 * first throttle sets one from what the SMSC accepted over the last second, so a bind finds the
 * SMSC's limit within a few halvings instead of hammering it; once the rate has climbed back to
 * twice that, the bind runs free again. Pure: the clock comes in as `now`.
 */

/** Full-jitter exponential back-off (a random delay in [0, min(max, initial·2^attempt))). */
export function backoffDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

export interface PacerOptions {
  /** Messages per second at most; 0 or undefined: no cap. */
  rate?: number;
  now: () => number;
  /** Pause after the first throttle answer of an episode, doubling per episode; 100 ms. */
  pauseMs?: number;
  /** Longest pause; 5 s. */
  maxPauseMs?: number;
}

/** Seconds of the current rate a bind may send at once after idling. */
const BURST_SECONDS = 0.05;
/** Rate taken when the first throttle comes before anything was accepted. */
const UNKNOWN_RATE = 20;

export class Pacer {
  readonly #limit: number;
  readonly #now: () => number;
  readonly #pauseMs: number;
  readonly #maxPauseMs: number;
  #rate: number;
  #tokens = 1;
  #refilledAt: number;
  #pauseUntil = 0;
  #throttledAt = Number.NEGATIVE_INFINITY;
  #steppedAt = 0;
  #episodes = 0;
  /** With no cap: the rate at the last throttle; the bind runs free at twice it. */
  #freeAt = Number.POSITIVE_INFINITY;
  /** Accepted submits per 100 ms slot, over the last second (a ring of 10). */
  readonly #slots = new Array<number>(10).fill(0);
  #slotAt = 0;

  constructor(options: PacerOptions) {
    this.#limit = options.rate && options.rate > 0 ? options.rate : Number.POSITIVE_INFINITY;
    this.#rate = this.#limit;
    this.#now = options.now;
    this.#pauseMs = options.pauseMs ?? 100;
    this.#maxPauseMs = options.maxPauseMs ?? 5_000;
    this.#refilledAt = this.#now();
    this.#slotAt = Math.floor(this.#refilledAt / 100);
  }

  /** Messages per second allowed now (Infinity: no cap). */
  get rate(): number {
    this.#recover(this.#now());
    return this.#rate;
  }

  /** Milliseconds the bind still pauses after a throttle answer (0 when it does not). */
  get pausedFor(): number {
    return Math.max(0, this.#pauseUntil - this.#now());
  }

  /** Takes one submit's token: 0 when it may go now, else the milliseconds to wait. */
  take(): number {
    const now = this.#now();
    if (now < this.#pauseUntil) return Math.ceil(this.#pauseUntil - now);
    this.#recover(now);
    if (this.#rate === Number.POSITIVE_INFINITY) return 0;
    const capacity = Math.max(1, this.#rate * BURST_SECONDS);
    this.#tokens = Math.min(
      capacity,
      this.#tokens + ((now - this.#refilledAt) * this.#rate) / 1000,
    );
    this.#refilledAt = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.#tokens) * 1000) / this.#rate));
  }

  /** A submit was accepted (counts toward the estimate of what the SMSC takes). */
  accepted(): void {
    const slot = this.#advance(this.#now());
    this.#slots[slot % 10]!++;
  }

  /**
   * The SMSC said throttled or queue full. The first answer of an episode pauses and halves the
   * rate; the answers to submits already in flight then (they arrive together) change nothing.
   */
  throttled(): void {
    const now = this.#now();
    if (now < this.#pauseUntil) return;
    this.#episodes = now - this.#throttledAt < 1_000 + this.#pause() ? this.#episodes + 1 : 1;
    this.#throttledAt = now;
    this.#steppedAt = now;
    const pause = this.#pause();
    this.#pauseUntil = now + pause;
    this.#advance(now);
    const accepted = this.#slots.reduce((a, b) => a + b, 0);
    let base = Math.min(this.#rate, accepted > 0 ? accepted : this.#rate);
    if (base === Number.POSITIVE_INFINITY) base = UNKNOWN_RATE;
    if (this.#limit === Number.POSITIVE_INFINITY) this.#freeAt = Math.min(this.#freeAt, base * 2);
    this.#rate = Math.max(1, base / 2);
    this.#tokens = 0;
    this.#refilledAt = this.#pauseUntil;
  }

  #pause(): number {
    return Math.min(this.#maxPauseMs, this.#pauseMs * 2 ** Math.max(0, this.#episodes - 1));
  }

  /** A fifth more rate per second since the last throttle, up to the cap (or free). */
  #recover(now: number): void {
    if (this.#rate >= this.#limit) return;
    while (now - this.#steppedAt >= 1_000 && this.#rate < this.#limit) {
      this.#steppedAt += 1_000;
      this.#rate = Math.min(this.#limit, this.#rate * 1.2 + 1);
      if (this.#rate >= this.#freeAt) {
        this.#rate = this.#limit;
        this.#freeAt = Number.POSITIVE_INFINITY;
      }
    }
  }

  /** Moves the ring of accepted counts to `now`'s slot, clearing the slots skipped. */
  #advance(now: number): number {
    const slot = Math.floor(now / 100);
    for (let s = Math.max(this.#slotAt + 1, slot - 9); s <= slot; s++) this.#slots[s % 10] = 0;
    if (slot > this.#slotAt) this.#slotAt = slot;
    return this.#slotAt;
  }
}
