import type { Scenario } from "./scenario.ts";
import { Ledger } from "./ledger.ts";
import { Scheduler } from "./clock.ts";
import { pick, unit } from "./random.ts";

/** What every simulated server shares: the scenario (changeable at run time), the ledger, time. */
export class SimulatorContext {
  readonly ledger = new Ledger();
  readonly scheduler: Scheduler;
  #scenario: Scenario;

  constructor(scenario: Scenario) {
    this.#scenario = scenario;
    this.scheduler = new Scheduler(() => this.#scenario.timeScale);
  }

  get scenario(): Scenario {
    return this.#scenario;
  }

  /** Replaces the scenario at run time; messages already decided keep their outcome. */
  setScenario(scenario: Scenario): void {
    this.#scenario = scenario;
  }

  /**
   * Decides a recipient's outcome: a magic recipient's, else a draw from the channel's mix seeded
   * by (seed, channel, recipient, occurrence) — the same inputs always give the same outcome.
   */
  decide<K extends string>(
    channel: "email" | "sms" | "push",
    recipient: string,
    mix: Partial<Record<K, number>>,
    magic: K | null,
    fallback: K,
  ): {
    outcome: K;
    decidedBy: "magic" | "mix";
    occurrence: number;
    draw: (...salt: (string | number)[]) => number;
  } {
    const occurrence = this.ledger.occurrence(channel, recipient);
    const seed = this.#scenario.seed;
    const draw = (...salt: (string | number)[]) =>
      unit(seed, channel, recipient, occurrence, ...salt);
    if (magic) return { outcome: magic, decidedBy: "magic", occurrence, draw };
    return { outcome: pick(mix, draw("outcome")) ?? fallback, decidedBy: "mix", occurrence, draw };
  }

  close(): void {
    this.scheduler.close();
  }
}
