import { normalizeAddress } from "./address.ts";
import type { AddressOptions } from "./address.ts";
import type { Channel } from "./channel.ts";
import { FailureType, Reason, reasons } from "./failure.ts";
import type { Failure, ReasonCode } from "./failure.ts";
import { exclusionFor } from "./quarantine.ts";
import type { AddressStatus } from "./quarantine.ts";

/**
 * Preparation (DOMAIN §2, reasons 7–17 and 127): recipients become messages, pending or
 * ignored with the reason that excluded them. Two steps so that the caller can look up the
 * quarantine for a whole part in one query: `normalizeRecipients`, then `prepareRecipients`.
 */
export interface RecipientInput {
  readonly externalId: string;
  readonly address?: string | null;
}

export type NormalizedRecipient =
  | { index: number; externalId: string; kind: "missing" }
  | { index: number; externalId: string; kind: "invalid"; raw: string; error: string }
  | { index: number; externalId: string; kind: "ok"; address: string };

export function normalizeRecipients(
  channel: Channel,
  recipients: readonly RecipientInput[],
  options: AddressOptions = {},
): NormalizedRecipient[] {
  return recipients.map(({ externalId, address }, index) => {
    if (address === undefined || address === null || address.trim() === "") {
      return { index, externalId, kind: "missing" };
    }
    const check = normalizeAddress(channel, address, options);
    return check.ok
      ? { index, externalId, kind: "ok", address: check.address }
      : { index, externalId, kind: "invalid", raw: address, error: check.error };
  });
}

export interface PreparationContext {
  /** Quarantine status of each address of the part (absent: no entry). */
  readonly addressStatus: (address: string) => AddressStatus | null | undefined;
  /** Addresses already in the delivery from earlier parts. */
  readonly alreadyInDelivery: (address: string) => boolean;
  /** Recipients already in the delivery's target (pending or in the control group). */
  readonly targeted: number;
  /** Maximum target size of the delivery; absent: no limit. */
  readonly maxTargetSize?: number | null;
  /** Control group: given external ids, and/or a share of the target drawn at random. */
  readonly controlGroup?:
    | { readonly externalIds?: ReadonlySet<string>; readonly ratio?: number }
    | null;
  /** Randomness for the control-group draw, in [0, 1). */
  readonly random: () => number;
}

export interface PreparedMessage {
  index: number;
  externalId: string;
  /** Normalized address; null when none was given. */
  address: string | null;
  status: "pending" | "ignored";
  failure: Failure | null;
}

export interface PreparationResult {
  messages: PreparedMessage[];
  /** Recipients whose address is not valid for the channel: not messages, reported to the caller. */
  invalid: { index: number; externalId: string; address: string; error: string }[];
  pending: number;
  ignored: number;
  byReason: Partial<Record<ReasonCode, number>>;
}

const excluded = (reason: ReasonCode): Failure => ({
  // Exclusions carry their reason's type (DOMAIN §2); the message status is Ignored regardless.
  type: reasons[reason].types[0] ?? FailureType.ignored,
  reason,
});

export function prepareRecipients(
  recipients: readonly NormalizedRecipient[],
  ctx: PreparationContext,
): PreparationResult {
  const result: PreparationResult = {
    messages: [],
    invalid: [],
    pending: 0,
    ignored: 0,
    byReason: {},
  };
  const seen = new Set<string>();
  let targeted = ctx.targeted;
  const ignore = (r: NormalizedRecipient, address: string | null, reason: ReasonCode) => {
    result.messages.push({
      index: r.index,
      externalId: r.externalId,
      address,
      status: "ignored",
      failure: excluded(reason),
    });
    result.ignored++;
    result.byReason[reason] = (result.byReason[reason] ?? 0) + 1;
  };
  for (const r of recipients) {
    if (r.kind === "missing") {
      ignore(r, null, Reason.addressNotSpecified);
      continue;
    }
    if (r.kind === "invalid") {
      result.invalid.push({
        index: r.index,
        externalId: r.externalId,
        address: r.raw,
        error: r.error,
      });
      continue;
    }
    const { address } = r;
    if (seen.has(address) || ctx.alreadyInDelivery(address)) {
      ignore(r, address, Reason.duplicate);
      continue;
    }
    seen.add(address);
    const exclusion = exclusionFor(ctx.addressStatus(address));
    if (exclusion !== null) {
      ignore(r, address, exclusion);
      continue;
    }
    if (ctx.maxTargetSize != null && targeted >= ctx.maxTargetSize) {
      ignore(r, address, Reason.targetSizeLimited);
      continue;
    }
    targeted++;
    const group = ctx.controlGroup;
    if (
      group &&
      (group.externalIds?.has(r.externalId) ||
        (group.ratio !== undefined && ctx.random() < group.ratio))
    ) {
      ignore(r, address, Reason.controlAddress);
      continue;
    }
    result.messages.push({
      index: r.index,
      externalId: r.externalId,
      address,
      status: "pending",
      failure: null,
    });
    result.pending++;
  }
  return result;
}
