import { FailureType, Reason } from "../../failure.ts";
import type { Rule } from "../types.ts";

/**
 * Shipped SMS delivery-receipt rules (DOMAIN §10), matched against `SR <provider> <stat> <err>|…`.
 * `err` is provider specific; most SMSCs pass the GSM MAP error (3GPP TS 29.002) through, so the
 * err rules below use MAP values. An operator rule for a provider (`^SR acme UNDELIV 042\|`)
 * wins over all of them. DELIVRD and the intermediate stats are decided by the engine itself.
 */
const { hard, soft, ignored } = FailureType;
const err = (stat: string, codes: string) => String.raw`^SR \S+ ${stat} 0*(?:${codes})\|`;

export const receiptRules: readonly Rule[] = [
  {
    id: "sms-receipt-unknown-subscriber",
    channel: "sms",
    pattern: err("(?:UNDELIV|REJECTD)", "1|5"),
    regex: true,
    type: hard,
    reason: Reason.userUnknown,
    note: "MAP 1 unknown subscriber, 5 unidentified subscriber",
  },
  {
    id: "sms-receipt-absent-subscriber",
    channel: "sms",
    pattern: err("(?:UNDELIV|EXPIRED)", "6|27|31|33"),
    regex: true,
    type: ignored,
    reason: Reason.notConnected,
    note: "MAP 6/27 absent subscriber, 31 busy for MT SMS, 33 message waiting list full",
  },
  {
    id: "sms-receipt-barred",
    channel: "sms",
    pattern: err("(?:UNDELIV|REJECTD)", "9|11|12|13"),
    regex: true,
    type: soft,
    reason: Reason.accountDisabled,
    note:
      "MAP 9 illegal subscriber, 11 teleservice not provisioned, 12 illegal equipment, 13 call barred",
  },
  {
    id: "sms-receipt-network-failure",
    channel: "sms",
    pattern: err("UNDELIV", "34|35|36"),
    regex: true,
    type: ignored,
    reason: Reason.unreachable,
    note: "MAP 34 system failure, 35 data missing, 36 unexpected data value: the network's trouble",
  },
  {
    id: "sms-receipt-expired",
    channel: "sms",
    pattern: String.raw`^SR \S+ EXPIRED `,
    regex: true,
    type: ignored,
    reason: Reason.notConnected,
    note: "handset unreachable during the validity period",
  },
  {
    id: "sms-receipt-undeliverable",
    channel: "sms",
    pattern: String.raw`^SR \S+ UNDELIV `,
    regex: true,
    type: soft,
    reason: Reason.unreachable,
    note: "undeliverable, no more specific err rule",
  },
  {
    id: "sms-receipt-rejected",
    channel: "sms",
    pattern: String.raw`^SR \S+ REJECTD `,
    regex: true,
    type: soft,
    reason: Reason.refused,
    note: "rejected by the network or the provider",
  },
  {
    id: "sms-receipt-deleted",
    channel: "sms",
    pattern: String.raw`^SR \S+ DELETED `,
    regex: true,
    type: ignored,
    reason: Reason.unreachable,
    note: "deleted at the SMSC (cancelled, or purged by the provider)",
  },
];
