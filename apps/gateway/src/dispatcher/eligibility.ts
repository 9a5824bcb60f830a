import { type Channel, windowState } from "@sendgate/core";
import type { RunningDelivery } from "./types.ts";

/**
 * Which running deliveries may send now, and why each of the others waits (DOMAIN §3: a delivery
 * whose messages stay pending must say why). One function for the dispatcher (what to claim
 * from) and for `GET /v1/deliveries/{id}` (what to tell the caller), so the two never disagree.
 */
export type WaitReason =
  | { kind: "paused"; since: string; reason: string }
  | { kind: "scheduled"; until: string }
  | { kind: "sendingWindow"; until: string | null }
  | { kind: "channelNotConfigured"; channel: Channel }
  | { kind: "noSenderForAffinity"; affinity: string }
  | { kind: "concurrencyLimit"; limit: number; ahead: number }
  /** Every sender of the channel has its remote down (SMS: no provider bound) since `since`. */
  | { kind: "providerDown"; channel: Channel; since: string };

/** A dispatcher silent for this long is taken for dead (its claims return after their lease). */
export const SENDER_TIMEOUT_MS = 15_000;

export interface LiveSender {
  id: string;
  channels: readonly string[];
  affinities: readonly string[];
  /** Channels configured but unable to send (SMS: no provider bound), with since when (ISO). */
  down?: Readonly<Record<string, string>> | null;
}

export interface Eligibility {
  /** May send now, in the order they take their turn (priority, then start). */
  active: RunningDelivery[];
  waiting: Map<string, WaitReason>;
}

const serves = (s: LiveSender, d: RunningDelivery) =>
  s.channels.includes(d.channel) && (d.affinity === null || s.affinities.includes(d.affinity));

/**
 * `running` in turn order; `senders` the live dispatchers of the cluster; `limit` how many
 * deliveries may send at once (DOMAIN §3, default 10), counted among those that could send now.
 */
export function eligibility(
  running: readonly RunningDelivery[],
  senders: readonly LiveSender[],
  now: number,
  limit: number,
): Eligibility {
  const waiting = new Map<string, WaitReason>();
  const ready: RunningDelivery[] = [];
  for (const d of running) {
    if (d.pausedAt) {
      waiting.set(d.id, {
        kind: "paused",
        since: new Date(d.pausedAt).toISOString(),
        reason: d.pauseReason ?? "",
      });
      continue;
    }
    if (d.scheduledAt && new Date(d.scheduledAt).getTime() > now) {
      waiting.set(d.id, { kind: "scheduled", until: new Date(d.scheduledAt).toISOString() });
      continue;
    }
    if (d.sendingWindow) {
      const w = windowState(d.sendingWindow, now);
      if (!w.open) {
        waiting.set(d.id, {
          kind: "sendingWindow",
          until: w.opensAt === null ? null : new Date(w.opensAt).toISOString(),
        });
        continue;
      }
    }
    if (!senders.some((s) => serves(s, d))) {
      waiting.set(
        d.id,
        d.affinity !== null && senders.some((s) => s.channels.includes(d.channel))
          ? { kind: "noSenderForAffinity", affinity: d.affinity }
          : { kind: "channelNotConfigured", channel: d.channel },
      );
      continue;
    }
    const able = senders.filter((s) => serves(s, d));
    if (able.every((s) => s.down?.[d.channel])) {
      const since = able.map((s) => s.down![d.channel]!).sort()[0]!;
      waiting.set(d.id, { kind: "providerDown", channel: d.channel, since });
      continue;
    }
    ready.push(d);
  }
  ready.slice(limit).forEach((d, i) =>
    waiting.set(d.id, { kind: "concurrencyLimit", limit, ahead: limit + i })
  );
  return { active: ready.slice(0, limit), waiting };
}

/** The active deliveries a dispatcher serves: its channels, its affinities (and none). */
export function served(
  active: readonly RunningDelivery[],
  me: { channels: ReadonlySet<string>; affinities: ReadonlySet<string> },
): RunningDelivery[] {
  return active.filter((d) =>
    me.channels.has(d.channel) && (d.affinity === null || me.affinities.has(d.affinity))
  );
}
