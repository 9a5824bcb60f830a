import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { emailOutcomes, pushOutcomes, smsOutcomes } from "./outcomes.ts";

const Range = z.object({ minMs: z.number().min(0), maxMs: z.number().min(0) }).strict()
  .refine((r) => r.maxMs >= r.minMs, { message: "maxMs must be ≥ minMs", path: ["maxMs"] });

const mix = <T extends Record<string, unknown>>(outcomes: T) =>
  z.partialRecord(z.enum(Object.keys(outcomes) as [string, ...string[]]), z.number().min(0))
    .describe("outcome → weight (weights need not add up to 1)");

/** A scheduled fault: from `atMs` after start (simulated time), for `durationMs`. */
const Fault = z.object({
  atMs: z.number().min(0),
  durationMs: z.number().min(0).default(0),
  /** drop: close every connection; stall: accept but never answer; refuse: refuse new connections
   * or binds; restart: drop everything and come back after durationMs. */
  kind: z.enum(["drop", "stall", "refuse", "restart"]),
}).strict();

export const Scenario = z.object({
  /** Same seed, same recipients → same outcomes. */
  seed: z.number().int().default(1),
  /**
   * Simulated time per real time: 1 is real time; 3600 makes an hour pass in a second, so a
   * bounce "one week later" arrives in under three minutes. Scales asynchronous delays and
   * fault schedules, not the latency of synchronous answers.
   */
  timeScale: z.number().positive().default(1),
  email: z.object({
    mix: mix(emailOutcomes).default({ accept: 1 }),
    latency: Range.default({ minMs: 0, maxMs: 0 }),
    asyncDelay: Range.default({ minMs: 1_000, maxMs: 60_000 }),
    /** Where bounces, auto-replies and complaints go: the original's envelope sender (VERP), or
     * this address. Delivered over SMTP to `relay` (the gateway's inbound listener). */
    reportTo: z.union([z.literal("envelope"), z.string().email()]).default("envelope"),
    relay: z.object({
      host: z.string().default("127.0.0.1"),
      port: z.number().int().min(1).max(65535),
    }).strict().optional(),
    /** The simulated MTA family for phrasing; `mixed` draws one per message. */
    phrasing: z.enum(["mixed", "postfix", "exim", "exchange", "gmail", "outlook", "yahoo"]).default(
      "mixed",
    ),
    maxMessageBytes: z.number().int().positive().default(10 * 1024 * 1024),
    faults: z.array(Fault).default([]),
  }).strict().prefault({}),
  sms: z.object({
    mix: mix(smsOutcomes).default({ delivered: 1 }),
    latency: Range.default({ minMs: 0, maxMs: 0 }),
    asyncDelay: Range.default({ minMs: 100, maxMs: 2_000 }),
    /** Accepted binds (system_id / password). */
    accounts: z.array(
      z.object({ systemId: z.string().min(1).max(15), password: z.string().max(8) }).strict(),
    )
      .default([{ systemId: "sendgate", password: "secret" }]),
    /** submit_sm per second per bind above which the SMSC answers ESME_RTHROTTLED; 0: no limit. */
    throughputPerBind: z.number().min(0).default(0),
    /** How message ids look: real SMSCs differ (hex or decimal). */
    idFormat: z.enum(["hex", "decimal"]).default("hex"),
    /** How receipts render that id: `same`, or decimal / upper-case hex with leading zeros. */
    receiptIdFormat: z.enum(["same", "decimal", "hex"]).default("same"),
    /** Receipts as deliver_sm on the bind (smpp) or as an HMAC-signed HTTP callback. */
    receipts: z.discriminatedUnion("mode", [
      z.object({ mode: z.literal("smpp") }).strict(),
      z.object({ mode: z.literal("http"), url: z.string().url(), secret: z.string().min(8) })
        .strict(),
    ]).default({ mode: "smpp" }),
    faults: z.array(Fault).default([]),
  }).strict().prefault({}),
  push: z.object({
    mix: mix(pushOutcomes).default({ accept: 1 }),
    latency: Range.default({ minMs: 0, maxMs: 0 }),
    retryAfterSeconds: z.number().int().min(0).default(30),
    faults: z.array(Fault).default([]),
  }).strict().prefault({}),
}).strict();

export type Scenario = z.infer<typeof Scenario>;
export type ScenarioInput = z.input<typeof Scenario>;

export const defaultScenario = (): Scenario => Scenario.parse({});

/** Parses a scenario (JSON or YAML text, or an object) and names every bad field. */
export function parseScenario(
  input: unknown,
): { ok: true; scenario: Scenario } | { ok: false; errors: string[] } {
  const parsed = Scenario.safeParse(input);
  if (parsed.success) return { ok: true, scenario: parsed.data };
  return {
    ok: false,
    errors: parsed.error.issues.map((i) => `${i.path.join(".") || "(scenario)"}: ${i.message}`),
  };
}

export function loadScenarioFile(path: string): Scenario {
  const text = readFileSync(path, "utf8");
  const value = /\.ya?ml$/iu.test(path) ? parseYaml(text) : JSON.parse(text);
  const result = parseScenario(value);
  if (!result.ok) throw new Error(`scenario ${path}:\n  ${result.errors.join("\n  ")}`);
  return result.scenario;
}
