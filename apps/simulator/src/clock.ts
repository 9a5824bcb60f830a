/**
 * Simulated time. The scenario's `timeScale` says how much simulated time passes per real
 * millisecond, so asynchronous reports due "a week later" can arrive within a test. Every timer
 * goes through here so that closing the simulator cancels them all.
 */
export class Scheduler {
  readonly startedAt = Date.now();
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #closed = false;

  constructor(private readonly scale: () => number) {}

  /** Simulated milliseconds since start. */
  elapsed(): number {
    return (Date.now() - this.startedAt) * this.scale();
  }

  /** The real date at which `simulatedMs` from now falls. */
  dueAt(simulatedMs: number): Date {
    return new Date(Date.now() + simulatedMs / this.scale());
  }

  /** Runs `fn` after `simulatedMs` of simulated time. */
  after(simulatedMs: number, fn: () => void | Promise<void>): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      Promise.resolve().then(fn).catch((error) =>
        console.error("simulator: scheduled task failed", error)
      );
    }, Math.max(0, simulatedMs / this.scale()));
    this.#timers.add(timer);
  }

  /** Pending timers (asynchronous reports not sent yet). */
  get pending(): number {
    return this.#timers.size;
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}

export interface FaultWindow {
  atMs: number;
  durationMs: number;
  kind: "drop" | "stall" | "refuse" | "restart";
}

/** The fault in force at simulated time `elapsed`, if any. */
export function activeFault<F extends FaultWindow>(
  faults: readonly F[],
  elapsed: number,
): F | null {
  return faults.find((f) => elapsed >= f.atMs && elapsed < f.atMs + Math.max(f.durationMs, 1)) ??
    null;
}
