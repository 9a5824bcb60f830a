import type { Channel } from "@sendgate/core";
import type { SendingWindow } from "@sendgate/core";

/** A running delivery as the dispatcher reads it (plans.runningDeliveries). */
export interface RunningDelivery {
  id: string;
  instanceId: string;
  channel: Channel;
  priority: number;
  affinity: string | null;
  scheduledAt: string | null;
  sendingWindow: SendingWindow | null;
  validUntil: string;
  retryPolicy: unknown;
  content: Record<string, unknown>;
  pausedAt: string | null;
  pauseReason: string | null;
  startedAt: string | null;
}

/** A claimed message (plans.claimCandidates). */
export interface ClaimedMessage {
  id: number;
  deliveryId: string;
  externalId: string;
  address: string | null;
  addressData: unknown;
  fields: Record<string, string | number | boolean | null> | null;
  status: string;
  failureType: string | null;
  reason: number | null;
  attempt: number;
  machine: unknown;
  domain: string | null;
  scheduledRetries: number;
  backoffsInARow: number;
}
