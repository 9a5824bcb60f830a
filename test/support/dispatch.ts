import { setTimeout as sleep } from "node:timers/promises";
import type { ChannelAdapter, OutgoingMessage, SendOutcome } from "@sendgate/channels";
import type { Channel } from "@sendgate/core";
import type { Database } from "@sendgate/db";
import { type ChannelPlan, startDispatcher } from "../../apps/gateway/src/dispatcher/dispatcher.ts";
import process from "node:process";
import { createLogger, silentLogger } from "../../apps/gateway/src/log.ts";

/**
 * A channel that answers by the recipient's local part, for the dispatcher's own tests (the
 * channels themselves are tested against the simulator): `ok…` accepted, `hard…` 550 5.1.1 at
 * RCPT, `soft…` 452 4.2.2, `later…` 421 4.7.0, `net…` a timeout, `filter…` 550 5.1.1 after DATA,
 * `template…` a personalization error. Every message it saw is kept, in order.
 */
export function scriptedChannel(channel: Channel = "email"): ChannelAdapter & {
  seen: OutgoingMessage[];
  batches: number;
  hold: Promise<void> | null;
} {
  const adapter = {
    channel,
    seen: [] as OutgoingMessage[],
    batches: 0,
    /** While set, `send` waits for it (a slow remote). */
    hold: null as Promise<void> | null,
    async send(batch: readonly OutgoingMessage[]): Promise<SendOutcome[]> {
      adapter.batches++;
      if (adapter.hold) await adapter.hold;
      adapter.seen.push(...batch);
      return batch.map((m): SendOutcome => {
        const local = m.address.split("@")[0]!;
        const smtp = (code: number, enhanced: string, text: string, stage: "rcpt" | "data") => ({
          kind: "refused" as const,
          input: { channel: "email" as const, kind: "smtp" as const, code, enhanced, text, stage },
        });
        if (local.startsWith("hard")) return smtp(550, "5.1.1", "user unknown", "rcpt");
        if (local.startsWith("soft")) return smtp(452, "4.2.2", "mailbox full", "rcpt");
        if (local.startsWith("later")) return smtp(421, "4.7.0", "try again later", "rcpt");
        if (local.startsWith("filter")) return smtp(550, "5.1.1", "user unknown", "data");
        if (local.startsWith("net")) {
          return {
            kind: "transport",
            input: { channel: "email", kind: "network", code: "ETIMEDOUT", text: "timed out" },
          };
        }
        if (local.startsWith("template")) {
          return { kind: "invalid", problem: "personalization", detail: "missing field firstName" };
        }
        return { kind: "accepted", reply: "250 ok" };
      });
    },
    async close() {},
  };
  return adapter;
}

export function dispatcher(
  database: Database,
  adapters: ChannelAdapter[],
  options: {
    now?: () => number;
    maxRunning?: number;
    affinities?: string[];
    batchSize?: number;
    workers?: number;
    leaseMs?: number;
    /** Since when every channel cannot send (a provider down), or null. */
    down?: () => number | null;
  } = {},
) {
  const channels = new Map<Channel, ChannelPlan>(
    adapters.map((a) => [a.channel, {
      adapter: a,
      workers: options.workers ?? 2,
      batchSize: options.batchSize ?? 50,
      ...(options.down ? { down: options.down } : {}),
    }]),
  );
  return startDispatcher({
    database,
    // DISPATCH_LOG=1 shows what the dispatcher logs (its errors are otherwise silent in tests).
    logger: process.env.DISPATCH_LOG ? createLogger({ level: "debug" }) : silentLogger(),
    channels: () => channels,
    idleMs: 20,
    ...(options.now ? { now: options.now } : {}),
    ...(options.maxRunning !== undefined ? { maxRunning: options.maxRunning } : {}),
    ...(options.affinities ? { affinities: options.affinities } : {}),
    ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
  });
}

/** Polls until `check` holds (or fails after `timeoutMs`). */
export async function until<T>(
  what: string,
  probe: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  do {
    last = await probe();
    if (check(last)) return last;
    await sleep(25);
  } while (Date.now() < deadline);
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last).slice(0, 2_000)}`);
}
