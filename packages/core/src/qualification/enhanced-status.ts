import { FailureType, Reason } from "../failure.ts";
import type { Failure } from "../failure.ts";

/**
 * The fallback when no text rule matched: RFC 3463 enhanced status codes (and the IANA registry
 * that extends them), read as DOMAIN §10 reads them. Returns null for codes that say nothing
 * about the address (X.0.0, X.1.0 …): the reply-code class decides those.
 *
 * Permanent (5.x.x) codes about the mailbox or domain count against the address; transient
 * (4.x.x) ones never do, except mailbox full (4.2.2) and a temporarily disabled account (4.2.1),
 * which DOMAIN §2 types soft whatever the class.
 */
export function qualifyEnhancedStatus(code: string): Failure | null {
  const match = /^([245])\.(\d{1,3})\.(\d{1,3})$/u.exec(code.trim());
  if (!match) return null;
  const [, klass, subject, detail] = match;
  if (klass === "2") return null;
  const key = `${subject}.${detail}`;
  const permanent = klass === "5";
  const { hard, soft, ignored } = FailureType;
  const f = (type: FailureType, reason: Failure["reason"]): Failure => ({ type, reason });

  switch (key) {
    case "2.2":
      return f(soft, Reason.mailboxFull);
    case "2.1":
    case "7.13":
      return f(soft, Reason.accountDisabled);
  }
  if (!permanent) return f(ignored, Reason.unreachable);
  switch (key) {
    case "1.1": // bad destination mailbox address
    case "1.3": // bad destination mailbox address syntax
    case "1.6": // mailbox has moved, no forwarding address
    case "1.10": // Microsoft: RecipientNotFound (DOMAIN §10 reads it as user unknown)
    case "7.17": // mailbox owner has changed
      return f(hard, Reason.userUnknown);
    case "1.2": // bad destination system address
    case "4.4": // unable to route: domain not found
    case "7.18": // domain owner has changed
      return f(soft, Reason.invalidDomain);
    case "2.3": // message length exceeds administrative limit
    case "3.4": // message too big for system
      return f(soft, Reason.refused);
    case "1.4": // destination mailbox address ambiguous
    case "2.4": // mailing list expansion problem
    case "4.6": // routing loop
    case "4.7": // delivery time expired at the remote end
      return f(soft, Reason.unreachable);
  }
  switch (subject) {
    case "1": // sender address trouble (X.1.7, X.1.8): ours
    case "3": // remote mail system trouble
    case "4": // network and routing
    case "5": // protocol: ours
      return detail === "0" && subject !== "4" ? null : f(ignored, Reason.unreachable);
    case "6": // content could not be converted or is not accepted
    case "7": // security or policy
      return f(soft, Reason.refused);
  }
  return null;
}
