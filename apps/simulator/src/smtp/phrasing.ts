/**
 * What the simulated remote mail server says, in the words real MTAs and mailbox providers use.
 * A gateway that qualifies failures by their text (DOMAIN §6) is only exercised if the texts vary
 * the way they do in the wild, so every outcome has several phrasings per family, drawn per
 * message from the scenario's `email.phrasing` (or a family drawn per message when `mixed`).
 *
 * The texts follow the replies and bounces these systems are known to send (Postfix, Exim,
 * on-premises Exchange, Gmail, Outlook.com / Microsoft 365, Yahoo), trimmed of the parts that
 * only make sense on the real system. Codes are the ones the scenario promises for the outcome
 * (e.g. user unknown is always 550 5.1.1), so a phrase only changes the words. Every phrase is
 * checked against the gateway core's default qualification rules in
 * `test/simulator/smtp.test.ts`: each must qualify to its outcome's expected type and reason.
 */
import type { EmailOutcome } from "../outcomes.ts";

export const mtaFamilies = ["postfix", "exim", "exchange", "gmail", "outlook", "yahoo"] as const;
export type MtaFamily = typeof mtaFamilies[number];
export type Phrasing = MtaFamily | "mixed";

/** Outcomes answered with an SMTP error reply, at RCPT TO or (full after data) after DATA. */
export type RejectionOutcome = Extract<
  EmailOutcome,
  | "userUnknown"
  | "mailboxFull"
  | "badDomain"
  | "disabled"
  | "spam"
  | "blocked"
  | "tryLater"
  | "greylist"
  | "mailboxFullAfterData"
>;
/** Outcomes accepted first and bounced later with a DSN whose Diagnostic-Code is phrased here. */
export type BounceOutcome = Extract<EmailOutcome, "bounceLater" | "softBounceLater">;
export type PhrasedOutcome = RejectionOutcome | BounceOutcome;

/** A reply before its variables are filled in: `text` holds `{rcpt}`, `{domain}` … */
export interface ReplyTemplate {
  code: number;
  enhanced: string;
  text: string;
}

/** A reply as sent: `text` starts with the enhanced code, as an MTA with ENHANCEDSTATUSCODES. */
export interface Reply {
  code: number;
  enhanced: string;
  text: string;
}

/** What a phrase may mention. `host` is the simulated MTA, `ip` the client's address. */
export interface PhraseVars {
  rcpt: string;
  local: string;
  domain: string;
  ip: string;
  host: string;
  /** A per-message token (queue id, trace id) drawn deterministically. */
  id: string;
}

const t = (code: number, enhanced: string, ...texts: string[]): ReplyTemplate[] =>
  texts.map((text) => ({ code, enhanced, text }));

const YAHOO_CODES = "https://postmaster.yahooinc.com/error-codes";

/** Replies per family and outcome. */
export const phrasebook: Record<MtaFamily, Record<RejectionOutcome, readonly ReplyTemplate[]>> = {
  postfix: {
    userUnknown: t(
      550,
      "5.1.1",
      "<{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table",
      "<{rcpt}>: Recipient address rejected: User unknown in local recipient table",
      '<{rcpt}>: Recipient address rejected: undeliverable address: unknown user: "{local}"',
    ),
    mailboxFull: t(
      452,
      "4.2.2",
      "<{rcpt}>: Recipient address rejected: Mailbox full",
      "<{rcpt}>: Recipient address rejected: Quota exceeded (mailbox for user is full)",
    ),
    badDomain: [
      ...t(550, "5.1.2", "<{rcpt}>: Recipient address rejected: Domain not found"),
      ...t(
        550,
        "5.4.4",
        "<{rcpt}>: Recipient address rejected: Host or domain name not found. Name service error for name={domain} type=MX: Host not found",
      ),
    ],
    disabled: t(
      550,
      "5.2.1",
      "<{rcpt}>: Recipient address rejected: Account disabled",
      "<{rcpt}>: Recipient address rejected: Mailbox is inactive",
    ),
    spam: t(
      554,
      "5.7.1",
      "<{rcpt}>: Recipient address rejected: Message rejected as spam",
      "{id}: Message content rejected as spam (SpamAssassin score 12.4)",
    ),
    blocked: t(
      554,
      "5.7.1",
      "Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{ip}",
      "Service unavailable; Client host [{ip}] blocked using b.barracudacentral.org",
    ),
    tryLater: t(
      421,
      "4.7.0",
      "{host} Error: too many connections from {ip}",
      "{host} Error: too much mail from {ip}",
    ),
    greylist: t(
      450,
      "4.7.1",
      "<{rcpt}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/{domain}.html",
      "<{rcpt}>: Recipient address rejected: Service is unavailable, try again later",
    ),
    mailboxFullAfterData: t(
      552,
      "5.2.2",
      "<{rcpt}> Quota exceeded (mailbox for user is full)",
      "<{rcpt}>: Mailbox full",
    ),
  },
  exim: {
    userUnknown: t(550, "5.1.1", "No Such User Here", "<{rcpt}>: Unknown user"),
    mailboxFull: t(
      452,
      "4.2.2",
      "{rcpt}: mailbox is full",
      "Mailbox quota exceeded for {local}",
    ),
    badDomain: [
      ...t(550, "5.1.2", "Unrouteable address"),
      ...t(550, "5.4.4", "all relevant MX records point to non-existent hosts"),
    ],
    disabled: t(
      550,
      "5.2.1",
      "Mailbox disabled for this recipient - {rcpt}",
      "{rcpt}: account has been suspended",
    ),
    spam: t(
      554,
      "5.7.1",
      "Rejected: this message looks like spam (SpamAssassin score too high)",
      "This message was classified as SPAM and may not be delivered",
    ),
    blocked: t(
      554,
      "5.7.1",
      "JunkMail rejected - {host} [{ip}] is in an RBL, see https://www.spamhaus.org/query/ip/{ip}",
      "{ip} is listed in bl.spamcop.net; see https://www.spamcop.net/bl.shtml?{ip}",
    ),
    tryLater: t(
      421,
      "4.7.0",
      "{host} Too many concurrent SMTP connections; please try again later.",
      "{host} Temporary local problem - please try later",
    ),
    greylist: t(
      450,
      "4.7.1",
      "Greylisted, please try again in 300 seconds",
      "Deferred due to greylisting. Please try again later.",
    ),
    mailboxFullAfterData: t(
      552,
      "5.2.2",
      "{rcpt}: mailbox is full (MTA-imposed quota exceeded while writing to file /var/mail/{local})",
      "Mailbox quota exceeded for {local}",
    ),
  },
  exchange: {
    userUnknown: t(550, "5.1.1", "RESOLVER.ADR.RecipNotFound; not found", "User unknown"),
    mailboxFull: t(
      452,
      "4.2.2",
      "The recipient's mailbox is full and can't accept messages now. Please try resending this message later, or contact the recipient directly.",
      "STOREDRV.Deliver; mailbox full",
    ),
    badDomain: [
      ...t(550, "5.4.4", "SMTPSEND.DNS.NonExistentDomain; nonexistent domain"),
      ...t(550, "5.1.2", "RESOLVER.ADR.BadDomain; domain {domain} does not exist"),
    ],
    disabled: t(
      550,
      "5.2.1",
      "STOREDRV.Deliver; mailbox disabled",
      "Mailbox disabled, not accepting messages",
    ),
    spam: t(
      554,
      "5.7.1",
      "Message rejected as spam by Content Filtering.",
      "Your message was rejected by the recipient's anti-spam filter",
    ),
    blocked: t(
      554,
      "5.7.1",
      "Service unavailable; Client host [{ip}] blocked using Spamhaus",
      "Access denied, [{ip}] is on a block list maintained by this organization",
    ),
    tryLater: t(
      421,
      "4.7.0",
      "Temporary server error. Please try again later. PRX5",
      "{host} Service not available, closing transmission channel",
    ),
    greylist: t(
      450,
      "4.7.1",
      "Temporarily rejected by greylisting, please try again later",
      "Temporary server error. Please try again later. PRX1",
    ),
    mailboxFullAfterData: t(
      552,
      "5.2.2",
      "STOREDRV.Deliver; mailbox full",
      "This message is larger than the current system limit or the recipient's mailbox is full. Create a shorter message body or remove attachments and try sending it again.",
    ),
  },
  gmail: {
    userUnknown: t(
      550,
      "5.1.1",
      "The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to https://support.google.com/mail/?p=NoSuchUser {id} - gsmtp",
      "The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. Learn more at https://support.google.com/mail/?p=NoSuchUser {id} - gsmtp",
    ),
    mailboxFull: t(
      452,
      "4.2.2",
      "The recipient's inbox is out of storage space. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp {id} - gsmtp",
      "The email account that you tried to reach is over quota. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp {id} - gsmtp",
    ),
    badDomain: [
      ...t(550, "5.1.2", "The recipient domain {domain} does not exist. {id} - gsmtp"),
      ...t(
        550,
        "5.4.4",
        "DNS Error: DNS type 'mx' lookup of {domain} responded with code NXDOMAIN Domain name not found: {domain}",
      ),
    ],
    disabled: t(
      550,
      "5.2.1",
      "The email account that you tried to reach is disabled. Learn more at https://support.google.com/mail/?p=DisabledUser {id} - gsmtp",
      "The user you are trying to contact is not receiving mail at this time. {id} - gsmtp",
    ),
    spam: t(
      554,
      "5.7.1",
      "[{ip}] Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. For more information, go to https://support.google.com/mail/?p=UnsolicitedMessageError {id} - gsmtp",
      "This message was blocked because its content presents a potential security issue. Please visit https://support.google.com/mail/?p=BlockedMessage to review our message content and attachment content guidelines. {id} - gsmtp",
    ),
    blocked: t(
      554,
      "5.7.1",
      "[{ip}] The IP you're using to send mail is not authorized to send email directly to our servers. Please use the SMTP relay at your service provider instead. Learn more at https://support.google.com/mail/?p=NotAuthorizedError {id} - gsmtp",
      "[{ip}] Messages missing a valid address in From: header, or having no From: header, are not accepted due to our sender reputation policy. {id} - gsmtp",
    ),
    tryLater: t(
      421,
      "4.7.0",
      "Try again later, closing connection. (EHLO) {id} - gsmtp",
      "[{ip}] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. {id} - gsmtp",
    ),
    greylist: t(
      450,
      "4.7.1",
      "This message has been temporarily deferred. Please try again later. {id} - gsmtp",
      "[{ip}] Unusual sending activity from this IP address; please retry later. {id} - gsmtp",
    ),
    mailboxFullAfterData: t(
      552,
      "5.2.2",
      "The email account that you tried to reach is over quota. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm {id} - gsmtp",
      "The recipient's inbox is out of storage space and inactive. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm {id} - gsmtp",
    ),
  },
  outlook: {
    userUnknown: t(
      550,
      "5.1.1",
      "Requested action not taken: mailbox unavailable",
      "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
    ),
    mailboxFull: t(
      452,
      "4.2.2",
      "The recipient's mailbox is full and can't accept messages now. Please try resending this message later, or contact the recipient directly.",
      "STOREDRV.Submission.Exception:QuotaExceededException; the recipient's mailbox is over its storage quota",
    ),
    badDomain: [
      ...t(
        550,
        "5.1.2",
        "We weren't able to find the recipient domain. Please check for any spelling errors, and make sure you didn't enter any spaces, periods, or other punctuation after the recipient's email address.",
      ),
      ...t(550, "5.4.4", "SMTPSEND.DNS.NonExistentDomain; nonexistent domain"),
    ],
    disabled: t(
      550,
      "5.2.1",
      "Mailbox unavailable. The recipient's mailbox is disabled",
      "Mailbox disabled, not accepting messages",
    ),
    spam: t(
      554,
      "5.7.1",
      "Message rejected as spam by Content Filtering. (SPM-001)",
      "Your message was detected as spam and rejected by Microsoft 365 content filtering",
    ),
    blocked: t(
      554,
      "5.7.1",
      "Unfortunately, messages from [{ip}] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors.",
      "Service unavailable, Client host [{ip}] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/{ip} (AS3130).",
    ),
    tryLater: t(
      421,
      "4.7.0",
      "Temporary server error. Please try again later. PRX4",
      "[{ip}] Connection refused due to abuse. Please try again later.",
    ),
    greylist: t(
      450,
      "4.7.1",
      "Server busy. Please try again later from [{ip}]. (S77714)",
      "Temporarily deferred, please try again later (S775)",
    ),
    mailboxFullAfterData: t(
      552,
      "5.2.2",
      "STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded; Failed to process message due to a permanent exception",
      "mailbox full",
    ),
  },
  yahoo: {
    userUnknown: t(
      550,
      "5.1.1",
      "delivery error: dd This user doesn't have a {domain} account ({rcpt}) [0] - {host}",
      "Requested mail action aborted, mailbox not found",
    ),
    mailboxFull: t(
      452,
      "4.2.2",
      "delivery error: dd This user's mailbox is full ({rcpt}) [-5] - {host}",
      "Requested mail action aborted, mailbox is full",
    ),
    badDomain: [
      ...t(550, "5.1.2", "Requested action not taken: domain {domain} does not exist"),
      ...t(550, "5.4.4", "Unable to route: domain {domain} not found"),
    ],
    disabled: t(
      550,
      "5.2.1",
      "delivery error: dd This account has been disabled or discontinued [#102]. - {host}",
      "delivery error: dd Requested mail action aborted, mailbox is inactive ({rcpt}) [-4] - {host}",
    ),
    spam: t(
      554,
      "5.7.1",
      `Message not accepted for policy reasons. See ${YAHOO_CODES}`,
      `Message rejected as spam. See ${YAHOO_CODES}`,
    ),
    blocked: t(
      554,
      "5.7.1",
      `[BL21] Connections will not be accepted from {ip}, because the ip is in Spamhaus's list; see ${YAHOO_CODES}`,
      `[TSS09] All messages from {ip} will be permanently deferred; Retrying will NOT succeed. See ${YAHOO_CODES}`,
    ),
    tryLater: t(
      421,
      "4.7.0",
      `[TS01] Messages from {ip} temporarily deferred due to excessive connections; see ${YAHOO_CODES}`,
      `[TS03] Service temporarily unavailable, please try again later; see ${YAHOO_CODES}`,
    ),
    greylist: t(
      450,
      "4.7.1",
      `[TS01] Messages from {ip} temporarily deferred - 4.16.50; see ${YAHOO_CODES}`,
      "Greylisted, please try again later",
    ),
    mailboxFullAfterData: t(
      552,
      "5.2.2",
      "Mailbox size limit exceeded",
      "delivery error: dd This user's mailbox is full ({rcpt}) [-5] - {host}",
    ),
  },
};

/** The SMTP reply a later DSN quotes in its Diagnostic-Code, per bounce outcome. */
export const bounceDiagnostics: Record<MtaFamily, Record<BounceOutcome, readonly ReplyTemplate[]>> =
  Object.fromEntries(
    mtaFamilies.map((family) => [family, {
      bounceLater: phrasebook[family].userUnknown,
      softBounceLater: phrasebook[family].mailboxFullAfterData,
    }]),
  ) as Record<MtaFamily, Record<BounceOutcome, readonly ReplyTemplate[]>>;

/** The 250 answer to DATA. */
export const acceptedReplies: Record<MtaFamily, readonly ReplyTemplate[]> = {
  postfix: t(250, "2.0.0", "Ok: queued as {id}"),
  exim: t(250, "2.0.0", "OK id={id}"),
  exchange: t(250, "2.6.0", "<{id}@{host}> [InternalId={id}] Queued mail for delivery"),
  gmail: t(250, "2.0.0", "OK {id} - gsmtp"),
  outlook: t(
    250,
    "2.6.0",
    "<{id}@{host}> [InternalId={id}, Hostname={host}] Queued mail for delivery",
  ),
  yahoo: t(250, "2.0.0", "ok dirdel {id}"),
};

/** Said by the server itself, whatever the family: SIZE exceeded, refused during a fault. */
export const protocolReplies = {
  tooLarge: {
    code: 552,
    enhanced: "5.3.4",
    text: "5.3.4 Message size exceeds fixed maximum message size",
  },
  refused: {
    code: 421,
    enhanced: "4.3.2",
    text: "4.3.2 Service not available, closing transmission channel",
  },
} as const satisfies Record<string, Reply>;

/** The simulated MTA's host name, as it would appear in its replies and reports. */
export function mtaHost(family: MtaFamily, domain: string, draw: () => number): string {
  const n = 1 + Math.floor(draw() * 9);
  switch (family) {
    case "postfix":
    case "exim":
      return `mx${n}.${domain}`;
    case "exchange":
      return `ex0${n}.${domain}`;
    case "gmail":
      return "mx.google.com";
    case "outlook":
      return `${domain.replace(/\./gu, "-")}.mail.protection.outlook.com`;
    case "yahoo":
      return `mta${n}.am0.yahoodns.net`;
  }
}

/** The family for one message: the scenario's, or one drawn when `mixed`. */
export function chooseFamily(phrasing: Phrasing, u: number): MtaFamily {
  if (phrasing !== "mixed") return phrasing;
  return mtaFamilies[Math.min(mtaFamilies.length - 1, Math.floor(u * mtaFamilies.length))]!;
}

/** Fills a template in: `{rcpt}` and the like become the message's values. */
export function render(template: ReplyTemplate, vars: PhraseVars): Reply {
  const text = template.text.replace(
    /\{(rcpt|local|domain|ip|host|id)\}/gu,
    (_m, key: keyof PhraseVars) => vars[key],
  );
  return { code: template.code, enhanced: template.enhanced, text: `${template.enhanced} ${text}` };
}

/** Picks one of `templates` with `u` in [0, 1) and fills it in. */
export function phrase(templates: readonly ReplyTemplate[], u: number, vars: PhraseVars): Reply {
  return render(templates[Math.min(templates.length - 1, Math.floor(u * templates.length))]!, vars);
}

/** A token such as a queue id or a trace id, from a deterministic draw. */
export function token(draw: (salt: string) => number, length = 12): string {
  let out = "";
  for (let i = 0; out.length < length; i++) {
    out += Math.floor(draw(`token${i}`) * 0x100000000).toString(16).toUpperCase().padStart(8, "0");
  }
  return out.slice(0, length);
}

/** How each family words the human-readable part of a bounce (RFC 3464 first part). */
export interface BounceStyle {
  from: (host: string) => string;
  subject: (originalSubject: string) => string;
  /**
   * `command`: the SMTP command the remote reply answered. The next hop refuses an unknown user
   * at RCPT TO; a DSN that said "end of DATA" for it would describe a content filter (DOMAIN §10:
   * soft 20), not the user unknown its ledger entry expects.
   */
  text: (
    v: {
      host: string;
      rcpt: string;
      remoteMta: string;
      diagnostic: string;
      command: "rcpt" | "data";
    },
  ) => string;
}

export const bounceStyles: Record<MtaFamily, BounceStyle> = {
  postfix: {
    from: (host) => `MAILER-DAEMON@${host} (Mail Delivery System)`,
    subject: () => "Undelivered Mail Returned to Sender",
    text: (v) =>
      [
        `This is the mail system at host ${v.host}.`,
        "",
        "I'm sorry to have to inform you that your message could not",
        "be delivered to one or more recipients. It's attached below.",
        "",
        "For further assistance, please send mail to postmaster.",
        "",
        "If you do so, please include this problem report. You can",
        "delete your own text from the attached returned message.",
        "",
        "                   The mail system",
        "",
        `<${v.rcpt}>: host ${v.remoteMta} said: ${v.diagnostic} (in reply to ${
          v.command === "rcpt" ? "RCPT TO" : "end of DATA"
        } command)`,
      ].join("\n"),
  },
  exim: {
    from: (host) => `Mail Delivery System <Mailer-Daemon@${host}>`,
    subject: () => "Mail delivery failed: returning message to sender",
    text: (v) =>
      [
        "This message was created automatically by mail delivery software.",
        "",
        "A message that you sent could not be delivered to one or more of its",
        "recipients. This is a permanent error. The following address(es) failed:",
        "",
        `  ${v.rcpt}`,
        `    host ${v.remoteMta}`,
        v.command === "rcpt"
          ? `    SMTP error from remote mail server after RCPT TO:<${v.rcpt}>:`
          : "    SMTP error from remote mail server after end of data:",
        `    ${v.diagnostic}`,
      ].join("\n"),
  },
  exchange: {
    from: (host) => `postmaster@${host}`,
    subject: (s) => `Undeliverable: ${s}`,
    text: (v) =>
      [
        "Delivery has failed to these recipients or groups:",
        "",
        v.rcpt,
        "",
        "Diagnostic information for administrators:",
        "",
        `Generating server: ${v.host}`,
        "",
        v.rcpt,
        `Remote Server returned '${v.diagnostic}'`,
      ].join("\n"),
  },
  gmail: {
    from: () => "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
    subject: () => "Delivery Status Notification (Failure)",
    text: (v) =>
      [
        "** Message not delivered **",
        "",
        `There was a problem delivering your message to ${v.rcpt}. See the technical details below.`,
        "",
        "The response was:",
        "",
        v.diagnostic,
      ].join("\n"),
  },
  outlook: {
    from: () => "Microsoft Outlook <postmaster@outlook.com>",
    subject: (s) => `Undeliverable: ${s}`,
    text: (v) =>
      [
        "Your message to " + v.rcpt + " couldn't be delivered.",
        "",
        "Diagnostic information for administrators:",
        "",
        `Generating server: ${v.host}`,
        "",
        v.rcpt,
        `Remote server returned '${v.diagnostic}'`,
      ].join("\n"),
  },
  yahoo: {
    from: () => "MAILER-DAEMON@yahoo.com",
    subject: () => "Failure Notice",
    text: (v) =>
      [
        "Sorry, we were unable to deliver your message to the following address.",
        "",
        `<${v.rcpt}>:`,
        `Remote host said: ${v.diagnostic} [BODY]`,
      ].join("\n"),
  },
};

/** Auto-reply subjects (RFC 3834): Outlook's "Automatic reply", Gmail's vacation, Notes' "Auto". */
/** Auto-reply subjects: each carries the original's (RFC 3834 §3.1.5: "Auto: " and the subject). */
export const autoReplySubjects: Record<MtaFamily, readonly ((subject: string) => string)[]> = {
  postfix: [(s) => `Out of Office: ${s}`, (s) => `Auto: ${s}`],
  exim: [(s) => `Auto: ${s}`, (s) => `Out of office (was: ${s})`],
  exchange: [(s) => `Automatic reply: ${s}`, (s) => `Out of Office AutoReply: ${s}`],
  gmail: [(s) => `Out of office Re: ${s}`, (s) => `Auto: ${s}`],
  outlook: [(s) => `Automatic reply: ${s}`],
  yahoo: [(s) => `Auto Response: ${s}`, (s) => `Auto: ${s}`],
};

export const autoReplyBodies: readonly string[] = [
  "Thank you for your message. I am out of the office with limited access to email and will respond when I return.",
  "I am currently away and will reply to your message as soon as possible after my return.",
  "Hello, I'm on leave until next week. For urgent matters, please contact my colleagues.",
];

/** Who sends complaint reports (RFC 5965) and how they name themselves in User-Agent. */
export const feedbackStyles: Record<
  MtaFamily,
  { from: string; userAgent: string; subject: string }
> = {
  postfix: { from: "abuse@{host}", userAgent: "SpamCop/1.0", subject: "[SpamCop] spam report" },
  exim: { from: "abuse@{host}", userAgent: "Abusix-ARF/1.0", subject: "Abuse report" },
  exchange: {
    from: "staff@hotmail.com",
    userAgent: "Microsoft JMRP/1.0",
    subject: "complaint about message from {ip}",
  },
  gmail: {
    from: "fbl-noreply@google.com",
    userAgent: "Google-FBL/1.0",
    subject: "Abuse report for message from {ip}",
  },
  outlook: {
    from: "staff@hotmail.com",
    userAgent: "Microsoft JMRP/1.0",
    subject: "complaint about message from {ip}",
  },
  yahoo: {
    from: "feedback@arf.mail.yahoo.com",
    userAgent: "Yahoo!-Mail-Feedback/2.0",
    subject: "FW: Abuse report",
  },
};
