/**
 * Bounces without RFC 3464 fields: the human-readable reports of qmail, Exim, Postfix, Sendmail,
 * Exchange, Domino and the big providers. One line-oriented reader serves them all, driven by
 * families of phrasing rather than by MTA: a recipient is an address on a line of its own
 * (`<addr>:`, `  addr`), or an address that starts a line followed by its reason
 * (`<addr>: host ... said:`, `addr... User unknown`), or an address named in a "could not be
 * delivered to" sentence; the reason is what follows it, or the remote server's reply when the
 * report quotes one. The phrasing families follow Sisimai's lhost modules (qmail.rb, exim.rb,
 * postfix.rb, sendmail.rb, exchange2007.rb, exchange2003.rb, domino.rb, gmail.rb, yahoo.rb,
 * amazonses.rb in github.com/sisimai/rb-sisimai, BSD 2-Clause).
 */
import type { BounceRecipient } from "./parse.ts";
import { ADDRESS, detectStage, findStatus, lines, normalizeAddress, squash } from "./fields.ts";

/** Where the copy of the original message starts: nothing after it is the report's. */
const BACKBONE: readonly RegExp[] = [
  /^-{2,}\s*Below this line is a copy of the message/imu, // qmail
  /^-{2,}\s*This is a copy of (?:the|your) message/imu, // Exim
  /^-{2,}\s*(?:Original|Returned|Unsent|Forwarded) (?:message|mail|headers?)\b/imu,
  /^-{2,}\s*Message header follows/imu,
  /^-{2,}\s*The header of the original message is following/imu,
  /^(?:Original message headers|En-t.tes de message d'origine)\s*:/imu, // Exchange
  /^Content-Type:\s*(?:message\/rfc822|text\/rfc822-headers)/imu,
  /^-{2,}\s*Original message follows/imu,
  /^\s*Original message follows\.?\s*$/imu, // IMail
];

/**
 * A line that introduces the list of failed recipients ("did not reach the following
 * recipient(s):", Exchange 2003; "could not be delivered to the following recipients", …): the
 * recipients are after the last one, and what comes before (a summary of the original, its To)
 * names nobody who failed.
 */
const RECIPIENTS_FOLLOW =
  /\b(?:did not reach|could not (?:be )?(?:delivered|reach(?:ed)?)|was not delivered|failed|not be delivered|undeliverable|permanent(?:ly)?|error)\b.*\bfollowing\s+(?:recipients?|addresse?s?|users?|destinations?)(?:\((?:s|es)\))?\s*:?\s*$/imu;

/**
 * The reason, then the address: "Unknown user: a@b" (IMail), "User unknown: <a@b>". The label
 * has two words at least, so that header lines (`To: a@b`, `Reply-To: a@b`) are never taken.
 */
const REASON_FIRST = new RegExp(
  String
    .raw`^\s*([A-Za-z][A-Za-z'.-]*(?:\s+[A-Za-z'.-]+){1,7})\s*:\s*<?(${ADDRESS.source})>?\s*\.?\s*$`,
  "iu",
);

/** Phrases only a bounce writer uses: seeing one makes the report a bounce. */
const FAMILY_MARKERS: readonly RegExp[] = [
  /Hi\. This is the qmail/iu,
  /This is the mail delivery agent at/iu,
  /This message was created automatically by mail delivery software/iu,
  /A message that you sent (?:could not be delivered|was rejected|contained one or more)/iu,
  /The following address\(es\) failed/iu,
  /This is the (?:mail system|Postfix program) at host/iu,
  /I'm sorry to have to inform you that your message could not/iu,
  /-{3,}\s*Transcript of session follows/iu,
  /-{3,}\s*The following addresses had (?:permanent fatal|transient non-fatal) errors/iu,
  /Delivery has failed to these recipients or groups/iu,
  /Your message did not reach some or all of the intended recipients/iu,
  /Diagnostic information for administrators/iu,
  /Remote Server returned '/iu,
  /The following recipient\(s\) could not be reached/iu,
  /was not delivered to:/iu,
  /Sorry, we were unable to deliver your message/iu,
  /Delivery to the following recipients? (?:failed|has been delayed)/iu,
  /The response from the remote server was/iu,
  /Technical details of (?:permanent|temporary) failure/iu,
  /(?:wasn't|was not|couldn't be|could not be) delivered to/iu,
  /An error occurred while trying to deliver the mail to the following recipients/iu,
  /(?:message|mail) (?:could not|couldn't|cannot|can't) be delivered/iu,
  /unable to deliver (?:your|the|this) message/iu,
  /\bpermanent (?:error|failure)\b|\bdelivery (?:has )?failed\b|\bundeliverable\b/iu,
];

const BOUNCE_SENDER = /mailer-daemon|postmaster|mail ?delivery|bounce|MAILER_DAEMON/iu;
const BOUNCE_SUBJECT =
  /undeliver|undelivered|returned mail|delivery (?:status|fail|failure|notification|problem|report)|failure notice|mail delivery|non[-_ ]?remis|unzustellbar|not delivered|could not be delivered|delivery has failed|mail failure|failed|rejected|delayed|warning/iu;
const FAILURE_SUBJECT = /fail|undeliver|returned|not delivered|could not be delivered|rejected/iu;
/** A delay report (Exim "Warning: message delayed", Postfix "Delayed Mail", Gmail "(Delay)"). */
const DELAY =
  /\bdelay(?:ed)?\b|warning:? (?:message|could not send)|\bwarning (?:message )?only\b|will (?:continue to |keep )?(?:retry|try)|will be retried|delivery attempts will continue|not yet been delivered|no action is required on your part|temporary problem delivering|still (?:trying|being retried)|\bdeferred\b/iu;

/** A line that quotes the remote server; group 1 is the reply when on the same line. */
const REPLY_MARKERS: readonly RegExp[] = [
  /Remote (?:host|server) (?:said|returned)\s*:?\s*'?(.*?)'?\s*$/iu, // qmail, Yahoo, Exchange
  /\bRemote Server at .*? returned\s*'?(.*?)'?\s*$/iu, // Exchange with a host
  /^\s*The (?:response|error) (?:from the remote server |that the other server returned )?was:?\s*(.*)$/iu, // Gmail
  /^\s*Technical details of (?:permanent|temporary) failure:\s*(.*)$/iu, // older Gmail
  /^\s*\(reason:\s*(.*?)\)?\s*$/iu, // Sendmail fatal-errors section
  /^\s*host \S+(?:\s*\[[^\]]*\])? said:\s*(.*)$/iu, // Postfix continuation line
];
const EXCHANGE_REPLY = /^\s*#?\s*([45]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\b.*?)\s*(?:##?)?\s*$/u;

const ADDR = ADDRESS.source;
// An address on its own: `<a@b>:`, `  a@b`, `To: <a@b>`, `Name (a@b)`, `a@b on 12/3/2010 ...`.
const ALONE = new RegExp(
  String.raw`^\s*(?:To:\s*)?(?:[^@<>:]{0,80}?[\s"])?[<(\[]?(${ADDR})[>)\]]?\s*:?\s*(?:on\s+\S.*)?$`,
  "iu",
);
// An address that starts a line and its reason: Postfix, Sendmail, Exim with a reason, Exim's
// `a@b <c@d>: reason`, a reply code before it (`550 5.1.1 <a@b>... User unknown`).
const WITH_REASON = new RegExp(
  String
    .raw`^\s*(?:[45]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3}\s+)?)?<?(${ADDR})>?(?:\s+<(${ADDR})>)?(?:\s*\([^)]*\))?\s*(?::|\.\.\.|\s-\s)\s*(\S.*)$`,
  "iu",
);
// An address named in a sentence about its delivery (Gmail, Outlook, Domino, generic).
const IN_SENTENCE = new RegExp(
  String
    .raw`\b(?:deliver(?:ed|ing|y)?|sen[dt](?:ing)?|message|mail|forward(?:ed|ing)?)\s+(?:(?:of\s+)?(?:your|this|the)\s+(?:message|mail|e-?mail)\s+)?(?:to|for)\s*:?\s+<?(${ADDR})>?`,
  "iu",
);
const SECTION_END =
  /^\s*(?:-{3,}|Reporting-MTA:|Final-Recipient:|Original-Recipient:|Content-[A-Za-z-]+:|Received:|Return-Path:)/iu;
const REMOTE_MTA: readonly RegExp[] = [
  /\bhost\s+([A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,})\.?\s*\[[^\]]*\]/iu, // Postfix, Exim
  /\bremote host\s+([A-Za-z0-9][A-Za-z0-9.-]*)\s+said/iu,
  /\bConnected to\s+([A-Za-z0-9][A-Za-z0-9.:-]*)\s+but/iu, // qmail
  /\bGiving up on\s+([A-Za-z0-9][A-Za-z0-9.:-]*[A-Za-z0-9])/iu, // qmail
  /\bRemote Server at\s+([A-Za-z0-9][A-Za-z0-9.-]*)/iu, // Exchange
  /\bwhile talking to\s+([A-Za-z0-9][A-Za-z0-9.-]*[A-Za-z0-9])/iu, // Sendmail
];

export interface PlainTextContext {
  subject: string;
  from: string;
  /** Addresses that are never failed recipients: the report's own From and To. */
  exclude: ReadonlySet<string>;
}

export interface PlainTextResult {
  recipients: BounceRecipient[];
  /** Whether a bounce writer's own phrasing was seen (not only a bounce-like subject). */
  strong: boolean;
}

interface Draft {
  recipient: string;
  reason: string[];
  reply: string | null;
  /** Lines that only give context for the stage (a Sendmail transcript). */
  context: string[];
}

/** The report part of a text: everything before the copy of the original message. */
export function cutAtOriginal(text: string): string {
  let end = text.length;
  for (const marker of BACKBONE) {
    const match = marker.exec(text);
    if (match && match.index < end) end = match.index;
  }
  return text.slice(0, end);
}

/** Whether the report's subject or sender says it is a bounce. */
export function isBounceLike(subject: string, from: string): boolean {
  return BOUNCE_SUBJECT.test(subject) || BOUNCE_SENDER.test(from);
}

export function isStrongBounceText(text: string): boolean {
  return FAMILY_MARKERS.some((marker) => marker.test(text));
}

export function parsePlainText(text: string, context: PlainTextContext): PlainTextResult {
  const whole = cutAtOriginal(text);
  // Recipients after the line that introduces them, when there is one (the lines before it still
  // tell a delay from a failure).
  let report = whole;
  let intro: RegExpExecArray | null = null;
  const follows = new RegExp(RECIPIENTS_FOLLOW.source, "gimu");
  for (let m = follows.exec(whole); m; m = follows.exec(whole)) intro = m;
  if (intro) report = whole.slice(intro.index + intro[0].length);
  const strong = isStrongBounceText(report);
  if (!strong && !isBounceLike(context.subject, context.from)) {
    return { recipients: [], strong };
  }
  const drafts: Draft[] = [];
  const byAddress = new Map<string, Draft>();
  let current: Draft | null = null;
  let closed = false; // a blank line ended the reason of `current`
  let collectReply = false; // the previous line announced a reply on the next lines
  let transcript: string[] = []; // Sendmail `>>>`/`<<<` lines not yet attached
  let preamble = "";
  let previous = ""; // the last non-blank line

  const take = (raw: string): Draft | null => {
    const address = normalizeAddress(raw);
    if (!address) return null;
    const key = address.toLowerCase();
    if (context.exclude.has(key) || /^(?:mailer-daemon|mailer_daemon)@/iu.test(key)) return null;
    let draft = byAddress.get(key);
    if (!draft) {
      draft = { recipient: address, reason: [], reply: null, context: [] };
      byAddress.set(key, draft);
      drafts.push(draft);
    }
    if (transcript.length > 0) {
      draft.context.push(...transcript);
      transcript = [];
    }
    return draft;
  };

  for (const line of lines(report)) {
    const trimmed = line.trim();
    if (drafts.length === 0) preamble += line + "\n";
    // Exim: "A message sent by\n\n  <sender>\n\ncould not be delivered": not a recipient.
    const afterSentBy = /\bsent by:?$/iu.test(previous);
    if (trimmed !== "") previous = trimmed;
    if (afterSentBy && ADDRESS.test(trimmed)) continue;
    if (trimmed === "") {
      if (current && (current.reason.length > 0 || current.reply)) {
        if (!/:$/u.test(current.reason[current.reason.length - 1] ?? "")) closed = true;
      }
      if (collectReply && current?.reply) collectReply = false;
      continue;
    }
    if (/^(?:>>>|<<<)/u.test(trimmed)) {
      transcript.push(trimmed);
      continue;
    }
    if (SECTION_END.test(line)) {
      current = null;
      continue;
    }
    if (collectReply && current) {
      current.reply = current.reply ? `${current.reply} ${trimmed}` : trimmed;
      continue;
    }
    let match = REASON_FIRST.exec(line);
    if (match && !/^(?:original|final)[ -]recipient$/iu.test(match[1]!.trim())) {
      const draft = take(match[2]!);
      if (draft) {
        current = draft;
        closed = false;
        draft.reason.push(match[1]!.trim());
        continue;
      }
    }
    match = ALONE.exec(line);
    if (match) {
      const draft = take(match[1]!);
      if (draft) {
        current = draft;
        closed = false;
        continue;
      }
    }
    match = WITH_REASON.exec(line);
    if (match && !/^[A-Za-z-]+:\s/u.test(trimmed)) {
      const draft = take(match[2] ?? match[1]!);
      if (draft) {
        current = draft;
        closed = false;
        draft.reason.push(match[3]!);
        continue;
      }
    }
    match = IN_SENTENCE.exec(line);
    if (match) {
      const draft = take(match[1]!);
      if (draft) {
        current = draft;
        closed = false;
        const rest = line.slice(match.index + match[0].length).trim();
        if (rest.length > 0) draft.reason.push(rest.replace(/^because\s+/iu, ""));
        continue;
      }
    }
    if (!current) continue;
    const reply = replyOf(line);
    if (reply !== null) {
      if (reply === "") {
        collectReply = true;
      } else if (!current.reply) {
        current.reply = reply;
      }
      continue;
    }
    if (closed) continue;
    if (current.reason.join(" ").length < 2000) current.reason.push(trimmed);
  }

  const failedSubject = FAILURE_SUBJECT.test(context.subject);
  const before = intro ? whole.slice(0, intro.index + intro[0].length) : "";
  const delayed = !failedSubject &&
    (DELAY.test(context.subject) || DELAY.test(before + preamble));
  const recipients = drafts.map((draft) => toRecipient(draft, delayed));
  return { recipients, strong };
}

function replyOf(line: string): string | null {
  for (const marker of REPLY_MARKERS) {
    const match = marker.exec(line);
    if (match) return squash(match[1] ?? "");
  }
  const code = EXCHANGE_REPLY.exec(line);
  return code ? squash(code[1]!) : null;
}

function toRecipient(draft: Draft, delayed: boolean): BounceRecipient {
  const reasonText = squash(
    draft.reason.filter((line) => !/^because:?$/iu.test(line)).join(" "),
  );
  const diagnosticCode = draft.reply || reasonText || null;
  const all = [reasonText, draft.reply ?? "", ...draft.context].join("\n");
  let remoteMta: string | null = null;
  for (const pattern of REMOTE_MTA) {
    const match = pattern.exec(all);
    if (match) {
      remoteMta = match[1]!.replace(/\.$/u, "").toLowerCase();
      break;
    }
  }
  return {
    recipient: draft.recipient,
    originalRecipient: null,
    action: delayed ? "delayed" : "failed",
    status: (diagnosticCode ? findStatus(diagnosticCode) : null) ?? findStatus(all),
    diagnosticCode,
    remoteMta,
    stage: detectStage(all),
  };
}
