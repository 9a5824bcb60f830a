/**
 * Failure types and reasons (DOMAIN §1–2). The numeric reason value is stable: it goes on the
 * wire and into the database, so never renumber an entry.
 */
export const FailureType = {
  hard: "hard",
  soft: "soft",
  ignored: "ignored",
  undefined: "undefined",
} as const;
export type FailureType = typeof FailureType[keyof typeof FailureType];
export const failureTypes: readonly FailureType[] = Object.values(FailureType);

export const Reason = {
  undefined: 0,
  userUnknown: 1,
  invalidDomain: 2,
  unreachable: 3,
  accountDisabled: 4,
  mailboxFull: 5,
  notConnected: 6,
  addressNotSpecified: 7,
  denylisted: 8,
  quarantined: 9,
  duplicate: 10,
  excludedBySqlRule: 11,
  excludedAfterArbitration: 12,
  lowQualityAddress: 14,
  unqualifiedAddress: 15,
  notEligibleForOffers: 16,
  targetSizeLimited: 17,
  refused: 20,
  personalization: 21,
  errorIgnored: 25,
  controlAddress: 127,
} as const;
export type ReasonName = keyof typeof Reason;
export type ReasonCode = typeof Reason[ReasonName];

export interface ReasonInfo {
  readonly code: ReasonCode;
  readonly name: ReasonName;
  readonly label: string;
  /** The types a failure with this reason may carry (DOMAIN §2). Empty for reason 25. */
  readonly types: readonly FailureType[];
  /** Decided while a delivery is prepared: such messages are Ignored, never sent. */
  readonly exclusion: boolean;
}

const info = (
  name: ReasonName,
  label: string,
  types: readonly FailureType[],
  exclusion = false,
): ReasonInfo => ({ code: Reason[name], name, label, types, exclusion });

const { hard, soft, ignored } = FailureType;

/** The reasons table, keyed by technical value. */
export const reasons: Readonly<Record<ReasonCode, ReasonInfo>> = {
  0: info("undefined", "Undefined", [FailureType.undefined]),
  1: info("userUnknown", "User unknown", [hard]),
  2: info("invalidDomain", "Invalid domain", [soft]),
  3: info("unreachable", "Unreachable", [soft, hard, ignored]),
  4: info("accountDisabled", "Account disabled", [soft, hard]),
  5: info("mailboxFull", "Mailbox full", [soft]),
  6: info("notConnected", "Not connected", [ignored]),
  7: info("addressNotSpecified", "Address not specified", [hard], true),
  8: info("denylisted", "Address on denylist", [hard], true),
  9: info("quarantined", "Quarantined address", [hard], true),
  10: info("duplicate", "Duplicate", [ignored], true),
  11: info("excludedBySqlRule", "Excluded by an SQL rule", [ignored], true),
  12: info("excludedAfterArbitration", "Excluded after arbitration", [ignored], true),
  14: info("lowQualityAddress", "Low-quality address", [ignored], true),
  15: info("unqualifiedAddress", "Unqualified address", [ignored], true),
  16: info("notEligibleForOffers", "Not eligible for offers", [ignored], true),
  17: info("targetSizeLimited", "Target size limited", [ignored], true),
  20: info("refused", "Refused", [soft, hard, ignored]),
  // Not in the reference's table (our decision): the message could not be built from its
  // template and the recipient's fields (a field missing, no default). The data's fault, never the
  // address's, and retrying cannot help: failed, ignored, not retried.
  21: info("personalization", "Personalization error", [ignored]),
  25: info("errorIgnored", "Error ignored", []),
  127: info("controlAddress", "Control address", [ignored], true),
};

export const reasonCodes: readonly ReasonCode[] = Object.values(Reason);

export function isReasonCode(value: number): value is ReasonCode {
  return Object.hasOwn(reasons, value);
}

/** A qualified failure: what went wrong and whose fault it is. */
export interface Failure {
  readonly type: FailureType;
  readonly reason: ReasonCode;
}

/** Soft, ignored and undefined failures are retried within the validity period; hard never (§5). */
export function isRetriable(type: FailureType): boolean {
  return type !== FailureType.hard;
}

/** Only hard and soft failures count against the address (§1); undefined waits for an operator. */
export function countsAgainstAddress(type: FailureType): boolean {
  return type === FailureType.hard || type === FailureType.soft;
}

/** Orders failure types by how much they say about the address (used to break ties). */
export const severity: Readonly<Record<FailureType, number>> = {
  undefined: 0,
  ignored: 1,
  soft: 2,
  hard: 3,
};
