import type { Channel, QualificationInput } from "@sendgate/core";

/**
 * One message as the dispatcher hands it to a channel: everything needed to build and send it,
 * nothing of the database. `attempt` is 1-based (a retry carries the next number).
 */
export interface OutgoingMessage {
  /** The message's id (also what correlation tokens carry). */
  readonly id: number;
  readonly deliveryId: string;
  readonly instanceId: string;
  readonly attempt: number;
  readonly externalId: string;
  /** The normalized address: email address, E.164 number, or push endpoint URL. */
  readonly address: string;
  /** What the address needs besides itself: a push subscription's `{ keys: { p256dh, auth } }`. */
  readonly addressData: unknown;
  /** Personalization fields. */
  readonly fields: Readonly<Record<string, string | number | boolean | null>> | null;
  /** The delivery's content, as validated at intake (email: from, subject, text, html …). */
  readonly content: Readonly<Record<string, unknown>>;
}

/**
 * What became of one message, as a value: a channel never throws for a message's fate, and never
 * decides a status or a qualification itself; the dispatcher feeds `input` to the core.
 */
export type SendOutcome =
  /** The remote took it: SMTP 250 after DATA, push 201, submit_sm_resp 0. */
  | {
    kind: "accepted";
    remoteId?: string;
    reply?: string;
    /** Which provider took it (SMS: several providers, ids unique per provider). */
    provider?: string;
  }
  /** The remote answered no (an SMTP reply, a push status, a command_status): qualified by the core. */
  | { kind: "refused"; input: QualificationInput }
  /** No answer: timeout, refused or dropped connection, TLS, DNS (a `network` input). */
  | { kind: "transport"; input: QualificationInput }
  /**
   * The gateway could not build the message (a template field missing, a payload too large for
   * the channel): nothing was sent; the message fails without retry.
   */
  | { kind: "invalid"; problem: "personalization" | "content"; detail: string };

/** A channel's sender. One per channel per dispatcher process. */
export interface ChannelAdapter {
  readonly channel: Channel;
  /**
   * Sends a batch and answers one outcome per message, in the batch's order. Resolves when every
   * message has an outcome; rejects only if the adapter itself is broken (never for a message).
   */
  send(batch: readonly OutgoingMessage[]): Promise<SendOutcome[]>;
  /** Closes connections and agents; in-flight sends finish first. */
  close(): Promise<void>;
}
