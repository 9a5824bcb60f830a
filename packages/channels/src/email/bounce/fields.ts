/**
 * Header-style fields (RFC 5322 §2.2 and the RFC 3464 delivery-status blocks that borrow its
 * syntax), addresses, enhanced status codes and the SMTP stage of a reply: the small readers the
 * bounce parser shares. Everything here is lenient: bounces are written by every MTA on earth,
 * many of them wrongly.
 */

/** Lower-cased field name → its values in order, each unfolded (continuations joined by a space). */
export type Fields = Map<string, string[]>;

const FIELD_LINE = /^([A-Za-z][A-Za-z0-9_-]{0,76})[ \t]*:[ \t]*(.*)$/u;

/** Splits text into lines, whatever its line endings. */
export function lines(text: string): string[] {
  return text.split(/\r\n|\r|\n/u);
}

/**
 * Reads a block of header-style lines. A line that starts with white space continues the field
 * before it; so does a line without a colon (some MTAs wrap a long Diagnostic-Code without
 * indenting it).
 */
export function parseFields(block: readonly string[]): Fields {
  const fields: Fields = new Map();
  let last: { name: string; index: number } | null = null;
  for (const line of block) {
    const match = /^[ \t]/u.test(line) ? null : FIELD_LINE.exec(line);
    if (match) {
      const name = match[1]!.toLowerCase();
      const values = fields.get(name) ?? [];
      values.push(match[2]!.trim());
      fields.set(name, values);
      last = { name, index: values.length - 1 };
    } else if (last && line.trim() !== "") {
      const values = fields.get(last.name)!;
      const before = values[last.index]!;
      values[last.index] = before === "" ? line.trim() : `${before} ${line.trim()}`;
    }
  }
  return fields;
}

/** The first value of a field, or null. */
export function field(fields: Fields, name: string): string | null {
  const value = fields.get(name)?.[0];
  return value === undefined || value === "" ? null : value;
}

/** Groups lines into blocks separated by blank lines (lines of only white space count as blank). */
export function splitBlocks(text: string): string[][] {
  const blocks: string[][] = [];
  let current: string[] = [];
  for (const line of lines(text)) {
    if (line.trim() === "") {
      if (current.length > 0) blocks.push(current);
      current = [];
    } else {
      current.push(line);
    }
  }
  if (current.length > 0) blocks.push(current);
  return blocks;
}

/** The header block of a message: its lines up to the first blank line. */
export function headerBlock(text: string): string[] {
  const out: string[] = [];
  for (const line of lines(text)) {
    if (line.trim() === "") break;
    out.push(line);
  }
  return out;
}

// A mailbox as bounces print it: no spaces, brackets or quotes; a domain of letters, digits,
// dots and dashes (or an address literal). Deliberately loose on the local part.
const ADDRESS_SOURCE = String
  .raw`[^\s<>()\[\]"',;:@]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f.:]+\])`;
export const ADDRESS = new RegExp(ADDRESS_SOURCE, "u");
const ADDRESS_GLOBAL = new RegExp(ADDRESS_SOURCE, "gu");

/**
 * An address as the parser returns it: no `rfc822;` type, no angle brackets or `mailto:`, the
 * domain lower-cased (the local part keeps its case: it may be significant, RFC 5321 §2.4).
 */
export function normalizeAddress(value: string): string | null {
  let text = value.trim().replace(/^[A-Za-z0-9-]+\s*;\s*/u, ""); // rfc822; / RFC822; / utf-8;
  text = text.replace(/mailto:/giu, "");
  const match = ADDRESS.exec(text);
  if (!match) return null;
  const address = match[0].replace(/\.+$/u, "");
  const at = address.lastIndexOf("@");
  return `${address.slice(0, at)}@${address.slice(at + 1).toLowerCase()}`;
}

/** Every address in a text, normalized, in order. */
export function findAddresses(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(ADDRESS_GLOBAL)) {
    const address = normalizeAddress(match[0]);
    if (address) out.push(address);
  }
  return out;
}

/**
 * The enhanced status code (RFC 3463) in a text: `5.1.1`, qmail's `(#5.1.1)`. Only classes 2, 4
 * and 5 exist; subject and detail are at most three digits, which keeps version numbers and IP
 * addresses out.
 */
export function findStatus(text: string): string | null {
  const match = /(?:^|[^\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)/u.exec(text);
  return match ? `${match[1]}.${match[2]}.${match[3]}` : null;
}

export type Stage = "connect" | "helo" | "mail" | "rcpt" | "data";

const COMMAND_STAGE: readonly [RegExp, Stage][] = [
  [/^(?:end\s+of\s+data|data|message\s+(?:body|content|data)|end-of-data)/iu, "data"],
  [/^rcpt/iu, "rcpt"],
  [/^mail/iu, "mail"],
  [/^(?:helo|ehlo|lhlo)/iu, "helo"],
  [/^(?:initial\s+connection|connection|connect|greeting|banner|starttls|tls)/iu, "connect"],
];

// "in reply to RCPT TO command" (Postfix), "after RCPT TO:" / "after end of data" (Exim),
// "failed on DATA command" (qmail), ">>> RCPT To:" (Sendmail transcripts).
const STAGE_PHRASES: readonly RegExp[] = [
  /\bin\s+reply\s+to\s+(?:the\s+)?((?:end\s+of\s+)?[A-Za-z]+(?:\s+(?:from|to))?)\b/iu,
  /\b(?:SMTP|LMTP)\s+error\s+from\s+remote\s+(?:mail\s+server|mailer|server)\s+after\s+(?:pipelined\s+)?((?:end\s+of\s+)?(?:initial\s+)?[A-Za-z]+)/iu,
  /\b(?:after|during|while\s+sending|on)\s+(?:the\s+)?((?:end\s+of\s+)?(?:MAIL\s+FROM|RCPT\s+TO|DATA|EHLO|HELO|LHLO|initial\s+connection|data))\b/iu,
  /\b(MAIL\s+FROM|RCPT\s+TO|DATA|EHLO|HELO)\s+command\b/u,
  /^>>>\s*(MAIL|RCPT|DATA|EHLO|HELO|LHLO|\.)/imu,
  // Yahoo tags its replies with the command: "[RCPT_TO]", "[MAIL_FROM]", "[DATA]".
  /\[(RCPT_TO|MAIL_FROM|DATA|EHLO|HELO|CONNECT)\]/u,
];

/**
 * Error replies of a session transcript (Sendmail and its kin: `>>> DATA` then `<<< 550 …`), each
 * with the command it answered: the last `>>>` line before it. Commands that got a 2xx/3xx are
 * not failures, so the first `>>>` line of a transcript says nothing about where it failed.
 */
export function transcriptErrors(text: string): { stage: Stage; reply: string }[] {
  const errors: { stage: Stage; reply: string }[] = [];
  let command: string | null = null;
  for (const line of text.split(/\r?\n/u)) {
    const sent = /^\s*>>>\s*(.*)$/u.exec(line);
    if (sent) {
      command = sent[1]!.trim();
      continue;
    }
    const got = /^\s*<<<\s*([45]\d\d\b.*)$/u.exec(line);
    if (!got || command === null) continue;
    const stage = command === "."
      ? "data"
      : COMMAND_STAGE.find(([pattern]) => pattern.test(command!))?.[1];
    if (stage) errors.push({ stage, reply: got[1]!.trim() });
  }
  return errors;
}

/** The SMTP command a remote reply answered, when the text says it. */
export function detectStage(text: string): Stage | null {
  const transcript = transcriptErrors(text);
  if (transcript.length > 0) return transcript[0]!.stage;
  for (const phrase of STAGE_PHRASES) {
    const match = phrase.exec(text);
    if (!match) continue;
    const command = match[1]!.trim();
    if (command === ".") return "data";
    for (const [pattern, stage] of COMMAND_STAGE) if (pattern.test(command)) return stage;
  }
  // qmail-remote's own phrasing (qmail-remote.c; family as in Sisimai lhost/qmail.rb).
  if (/does not like recipient/iu.test(text)) return "rcpt";
  if (/failed on DATA command|failed after I sent the message/iu.test(text)) return "data";
  if (/but sender was rejected/iu.test(text)) return "mail";
  if (/but my name was rejected/iu.test(text)) return "helo";
  if (/but greeting failed|while receiving the initial server greeting/iu.test(text)) {
    return "connect";
  }
  if (/\bRCPT\s+TO\b/iu.test(text)) return "rcpt";
  if (/\bend\s+of\s+data\b/iu.test(text)) return "data";
  if (
    /\bconnect(?:ion)?\s+to\s+\S+.*(?:refused|timed\s+out)|\bconnection\s+refused\b/iu.test(text)
  ) {
    return "connect";
  }
  return null;
}

/** Collapses runs of white space; trims. */
export function squash(text: string): string {
  return text.replace(/\s+/gu, " ").trim();
}
