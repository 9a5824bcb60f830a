import { FailureType, Reason } from "../../failure.ts";
import type { ReasonCode } from "../../failure.ts";
import type { RetryMode, Rule } from "../types.ts";

/**
 * SMPP 3.4 command_status values (spec §5.1.3), with what each means for the message.
 * DOMAIN §10: invalid destination → hard 1; provider busy → ignored 3 with back-off; anything
 * about our bind, our PDU or our own settings (source address, service type, validity…) is not
 * the number's fault → ignored 3, so a misconfigured ESME can never quarantine good numbers.
 * What is left (submit failed, permanent application error, vendor codes) → soft 3 to qualify,
 * which the engine's fallback gives to any code not listed here.
 */
export const smppStatus = {
  0x00: "ESME_ROK",
  0x01: "ESME_RINVMSGLEN",
  0x02: "ESME_RINVCMDLEN",
  0x03: "ESME_RINVCMDID",
  0x04: "ESME_RINVBNDSTS",
  0x05: "ESME_RALYBND",
  0x06: "ESME_RINVPRTFLG",
  0x07: "ESME_RINVREGDLVFLG",
  0x08: "ESME_RSYSERR",
  0x0a: "ESME_RINVSRCADR",
  0x0b: "ESME_RINVDSTADR",
  0x0c: "ESME_RINVMSGID",
  0x0d: "ESME_RBINDFAIL",
  0x0e: "ESME_RINVPASWD",
  0x0f: "ESME_RINVSYSID",
  0x11: "ESME_RCANCELFAIL",
  0x13: "ESME_RREPLACEFAIL",
  0x14: "ESME_RMSGQFUL",
  0x15: "ESME_RINVSERTYP",
  0x33: "ESME_RINVNUMDESTS",
  0x34: "ESME_RINVDLNAME",
  0x40: "ESME_RINVDESTFLAG",
  0x42: "ESME_RINVSUBREP",
  0x43: "ESME_RINVESMCLASS",
  0x44: "ESME_RCNTSUBDL",
  0x45: "ESME_RSUBMITFAIL",
  0x48: "ESME_RINVSRCTON",
  0x49: "ESME_RINVSRCNPI",
  0x50: "ESME_RINVDSTTON",
  0x51: "ESME_RINVDSTNPI",
  0x53: "ESME_RINVSYSTYP",
  0x54: "ESME_RINVREPFLAG",
  0x55: "ESME_RINVNUMMSGS",
  0x58: "ESME_RTHROTTLED",
  0x61: "ESME_RINVSCHED",
  0x62: "ESME_RINVEXPIRY",
  0x63: "ESME_RINVDFTMSGID",
  0x64: "ESME_RX_T_APPN",
  0x65: "ESME_RX_P_APPN",
  0x66: "ESME_RX_R_APPN",
  0x67: "ESME_RQUERYFAIL",
  0xc0: "ESME_RINVOPTPARSTREAM",
  0xc1: "ESME_ROPTPARNOTALLWD",
  0xc2: "ESME_RINVPARLEN",
  0xc3: "ESME_RMISSINGOPTPARAM",
  0xc4: "ESME_RINVOPTPARAMVAL",
  0xfe: "ESME_RDELIVERYFAILURE",
  0xff: "ESME_RUNKNOWNERR",
} as const satisfies Record<number, string>;

export function smppStatusName(status: number): string {
  if (Object.hasOwn(smppStatus, status)) return smppStatus[status as keyof typeof smppStatus];
  return status >= 0x400 && status <= 0x4ff ? "VENDOR_SPECIFIC" : "RESERVED";
}

/** `0x0b`: lower-case hex, at least two digits: how command_status appears in canonical text. */
export function smppHex(status: number): string {
  return `0x${status.toString(16).padStart(2, "0")}`;
}

type Row = [codes: number[], type: FailureType, reason: ReasonCode, retry: RetryMode, note: string];
const { hard, soft, ignored } = FailureType;

const rows: Row[] = [
  [
    [0x0b, 0x50, 0x51],
    hard,
    Reason.userUnknown,
    "never",
    "invalid destination address, TON or NPI",
  ],
  [
    [0x58, 0x14, 0x08, 0x64],
    ignored,
    Reason.unreachable,
    "backoff",
    "provider busy: throttled, queue full, system error, temporary application error",
  ],
  [[0x66], soft, Reason.refused, "schedule", "the provider's application rejected the message"],
  [
    [
      0x01,
      0x02,
      0x03,
      0x04,
      0x05,
      0x06,
      0x07,
      0x0a,
      0x0c,
      0x0d,
      0x0e,
      0x0f,
      0x11,
      0x13,
      0x15,
      0x33,
      0x34,
      0x40,
      0x42,
      0x43,
      0x44,
      0x48,
      0x49,
      0x53,
      0x54,
      0x55,
      0x61,
      0x62,
      0x63,
      0x67,
      0xc0,
      0xc1,
      0xc2,
      0xc3,
      0xc4,
    ],
    ignored,
    Reason.unreachable,
    "schedule",
    "our bind, PDU or settings are wrong, not the number",
  ],
];

/** Shipped SMPP submit rules, one per command_status. */
export const smppRules: readonly Rule[] = rows.flatMap(([codes, type, reason, retry, note]) =>
  codes.map((code): Rule => ({
    id: `sms-submit-${smppHex(code)}`,
    channel: "sms",
    pattern: String.raw`^SMPP ${smppHex(code)}\b`,
    regex: true,
    type,
    reason,
    retry,
    note: `${smppStatusName(code)}: ${note}`,
  }))
);
