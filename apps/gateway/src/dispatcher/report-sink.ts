import type { Database } from "@sendgate/db";
import {
  type IncomingMo,
  type IncomingReport,
  storeInbound,
  storeReports,
} from "../services/sms-reports.ts";

type Item =
  | { kind: "report"; value: IncomingReport }
  | { kind: "mo"; value: IncomingMo; stopKeywords?: readonly string[] };

/**
 * Stores what SMPP binds receive (receipts, mobile-originated messages) in bursts: each `put`
 * resolves once its item is in the database — then, and only then, the bind answers
 * deliver_sm_resp — and a burst of receipts is one insert, not one per receipt. A failed insert
 * rejects every item of its burst, so that each bind answers with an error and the SMSC sends
 * them again.
 */
export class ReportSink {
  #queue: { item: Item; resolve: () => void; reject: (e: unknown) => void }[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly database: Database,
    private readonly now: () => number,
    private readonly options: { maxBatch?: number; lingerMs?: number } = {},
  ) {}

  put(item: Item): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#queue.length >= (this.options.maxBatch ?? 500)) this.#flushSoon(0);
      else this.#flushSoon(this.options.lingerMs ?? 5);
    });
  }

  #flushSoon(ms: number) {
    if (this.#timer && ms > 0) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#flushing = this.#flushing.then(() => this.#flush());
    }, ms);
  }

  async #flush() {
    const burst = this.#queue.splice(0, this.#queue.length);
    if (burst.length === 0) return;
    try {
      const reports = burst.flatMap((b) => (b.item.kind === "report" ? [b.item.value] : []));
      await storeReports(this.database, reports, this.now());
      for (const b of burst) {
        if (b.item.kind !== "mo") continue;
        await storeInbound(this.database, [b.item.value], {
          now: this.now(),
          ...(b.item.stopKeywords ? { stopKeywords: b.item.stopKeywords } : {}),
        });
      }
      for (const b of burst) b.resolve();
    } catch (error) {
      for (const b of burst) b.reject(error);
    }
  }

  /** Stores what is queued. */
  async drain(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
      this.#flushing = this.#flushing.then(() => this.#flush());
    }
    await this.#flushing;
  }
}
