/**
 * SMSC delivery receipts: the text an SMSC puts in a deliver_sm's short_message (SMPP 3.4
 * appendix B, "vendor specific but typically"):
 *
 *   id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:…
 *
 * The builder writes that canonical form; the parser reads what real SMSCs actually send: fields
 * in any order, keys in any case (`Text:`, `submit_date:`), the text missing or holding colons,
 * dates with or without seconds, long stat words (`DELIVERED`), and the receipted_message_id /
 * message_state TLVs alone when the text is empty. Pure functions: no I/O, no clock.
 */

/** SMPP message_state values (SMPP 3.4 §5.3.2.35). */
export const messageState = {
  SCHEDLD: 0,
  ENROUTE: 1,
  DELIVRD: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIV: 5,
  ACCEPTD: 6,
  UNKNOWN: 7,
  REJECTD: 8,
  SKIPPED: 9,
} as const;
export type ReceiptStat = keyof typeof messageState;

/** DOMAIN §10: states that say "not there yet" and change nothing. */
const intermediate = new Set<string>(["ENROUTE", "ACCEPTD", "SCHEDLD", "BUFFRED"]);

/** Spellings real SMSCs use for the stat field, mapped to the 7-letter canonical form. */
const statAliases: Record<string, string> = {
  DELIVRD: "DELIVRD",
  DELIVERED: "DELIVRD",
  DELIVER: "DELIVRD",
  UNDELIV: "UNDELIV",
  UNDELIVERABLE: "UNDELIV",
  UNDELIVERED: "UNDELIV",
  EXPIRED: "EXPIRED",
  DELETED: "DELETED",
  REJECTD: "REJECTD",
  REJECTED: "REJECTD",
  ACCEPTD: "ACCEPTD",
  ACCEPTED: "ACCEPTD",
  ENROUTE: "ENROUTE",
  EN_ROUTE: "ENROUTE",
  UNKNOWN: "UNKNOWN",
  SCHEDLD: "SCHEDLD",
  SCHEDULED: "SCHEDLD",
  BUFFRED: "BUFFRED",
  BUFFERED: "BUFFRED",
  SKIPPED: "SKIPPED",
};

const stateNames = Object.fromEntries(
  Object.entries(messageState).map(([k, v]) => [v, k]),
) as Record<
  number,
  ReceiptStat
>;

export interface ReceiptFields {
  id: string;
  /** Parts submitted and delivered (usually 1 and 1 or 0). */
  sub?: number;
  dlvrd?: number;
  submitDate: Date;
  doneDate: Date;
  stat: string;
  /** Network error code, three digits (`000`, `001` unknown subscriber, `027` absent). */
  err: string;
  /** The message's text; only its first 20 characters are kept. */
  text?: string;
}

/** `YYMMDDhhmm` in UTC, as receipts carry dates. */
const two = (n: number) => (n < 10 ? `0${n}` : String(n));
const three = (n: number) => String(n).padStart(3, "0");

export function receiptDate(date: Date): string {
  return `${two(date.getUTCFullYear() % 100)}${two(date.getUTCMonth() + 1)}${
    two(date.getUTCDate())
  }${two(date.getUTCHours())}${two(date.getUTCMinutes())}`;
}

/**
 * Characters that read the same in ASCII and in the GSM 03.38 default alphabet, the coding a
 * receipt travels in (data_coding 0): others ('@', '_', '$', accents …) would come out changed
 * on an ESME that decodes GSM, so the excerpt replaces them with '?'.
 */
const safe = /[^A-Za-z0-9 !"#%&'()*+,\-./:;<=>?]/gu;

/** The canonical receipt text. */
export function formatReceipt(r: ReceiptFields): string {
  const text = (r.text ?? "").slice(0, 20).replace(safe, "?");
  return `id:${r.id} sub:${three(r.sub ?? 1)} dlvrd:${
    three(r.dlvrd ?? (r.stat === "DELIVRD" ? 1 : 0))
  } ` +
    `submit date:${receiptDate(r.submitDate)} done date:${receiptDate(r.doneDate)} ` +
    `stat:${r.stat} err:${r.err} text:${text}`;
}

export interface ParsedReceipt {
  /** The receipted message id: the receipted_message_id TLV when present, else the text's id. */
  id: string;
  /** The id as written in the text, when it differs from the TLV (some SMSCs write one in hex, the other in decimal). */
  textId?: string;
  /** Canonical stat (DELIVRD, UNDELIV …); an unrecognised word is kept upper-cased. */
  stat: string;
  /** Error code as sent (`000` when absent). */
  err: string;
  /** False for ENROUTE, ACCEPTD, SCHEDLD, BUFFRED: an intermediate notification. */
  final: boolean;
  sub?: number;
  dlvrd?: number;
  submitDate?: Date;
  doneDate?: Date;
  text?: string;
  /** message_state TLV when present. */
  messageState?: number;
  /** network_error_code TLV when present: [network type (3 GSM), error code]. */
  networkError?: [number, number];
}

export interface ReceiptTlvs {
  receipted_message_id?: string;
  message_state?: number;
  network_error_code?: [number, number];
}

const keyPattern = /(?:^|[\s,;])(id|sub|dlvrd|submit[ _]?date|done[ _]?date|stat|err|text)\s*:/giu;

const canonicalKey = (raw: string) => raw.toLowerCase().replace(/[ _]/gu, "");

/** `YYMMDDhhmm[ss]` → Date (UTC: a receipt says nothing of the SMSC's time zone). */
export function parseReceiptDate(value: string): Date | undefined {
  const m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/u.exec(value.trim());
  if (!m) return undefined;
  const [yy, mo, dd, hh, mi] = m.slice(1, 6).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const ss = m[6] === undefined ? 0 : Number(m[6]);
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59 || ss > 59) return undefined;
  const date = new Date(Date.UTC(2000 + yy, mo - 1, dd, hh, mi, ss));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

const normaliseStat = (raw: string) => {
  const word = raw.trim().toUpperCase();
  return statAliases[word] ?? word;
};

/**
 * Parses a delivery receipt: the short_message text, and the receipted_message_id and
 * message_state TLVs when the deliver_sm had them (they win over the text, which is free-form).
 * Returns null when neither says which message or which state: not a receipt.
 *
 * Each key is taken the first time it appears; after `text:`, a key seen already is part of the
 * text (so a message reading "stat:DELIVRD" cannot forge a state), a key not seen yet is a field
 * that some SMSC put after the text.
 */
export function parseReceipt(
  text: string | undefined,
  tlvs: ReceiptTlvs = {},
): ParsedReceipt | null {
  const source = text ?? "";
  const fields = new Map<string, string>();
  const marks: { key: string; start: number; valueStart: number }[] = [];
  for (const m of source.matchAll(keyPattern)) {
    const key = canonicalKey(m[1]!);
    if (marks.some((k) => k.key === key)) continue;
    const start = m.index! + (m[0].length - m[0].trimStart().length);
    marks.push({ key, start, valueStart: m.index! + m[0].length });
  }
  for (let i = 0; i < marks.length; i++) {
    const end = i + 1 < marks.length ? marks[i + 1]!.start : source.length;
    const value = source.slice(marks[i]!.valueStart, end);
    fields.set(marks[i]!.key, marks[i]!.key === "text" ? value.trimEnd() : value.trim());
  }

  const textId = fields.get("id") || undefined;
  const tlvId = tlvs.receipted_message_id?.trim() || undefined;
  const id = tlvId ?? textId;
  const statText = fields.get("stat");
  const stat = statText
    ? normaliseStat(statText)
    : tlvs.message_state !== undefined
    ? stateNames[tlvs.message_state]
    : undefined;
  if (!id || !stat) return null;

  const num = (key: string) => {
    const v = fields.get(key);
    return v !== undefined && /^\d+$/u.test(v) ? Number(v) : undefined;
  };
  const date = (key: string) => {
    const v = fields.get(key);
    return v ? parseReceiptDate(v) : undefined;
  };
  // The text's err is what qualification rules are written against (`SR <provider> <stat>
  // <err>`); the network_error_code TLV stands in for it only when the text has none.
  const network = tlvs.network_error_code;
  const result: ParsedReceipt = {
    id,
    stat,
    err: fields.get("err") || (network ? three(network[1]) : "000"),
    final: !intermediate.has(stat),
  };
  if (tlvId && textId && textId !== tlvId) result.textId = textId;
  const sub = num("sub");
  if (sub !== undefined) result.sub = sub;
  const dlvrd = num("dlvrd");
  if (dlvrd !== undefined) result.dlvrd = dlvrd;
  const submitDate = date("submitdate");
  if (submitDate) result.submitDate = submitDate;
  const doneDate = date("donedate");
  if (doneDate) result.doneDate = doneDate;
  if (fields.has("text")) result.text = fields.get("text");
  if (tlvs.message_state !== undefined) result.messageState = tlvs.message_state;
  if (network) result.networkError = network;
  return result;
}

/**
 * Whether two message ids name the same message, tolerating what SMSCs do: case, leading zeros,
 * and one side in hex and the other in decimal (submit_sm_resp "1a2b", receipt "6699"). Two ids
 * that are different strings in the same notation never match; across notations a coincidence
 * is possible (hex "10" and decimal "16"), so prefer exact matches when both exist.
 */
export function sameMessageId(a: string, b: string): boolean {
  const x = a.trim().toLowerCase().replace(/^0+(?=.)/u, "");
  const y = b.trim().toLowerCase().replace(/^0+(?=.)/u, "");
  if (x === y) return true;
  const hex = /^[0-9a-f]{1,32}$/u;
  const dec = /^\d{1,39}$/u;
  if (hex.test(x) && dec.test(y) && BigInt(`0x${x}`) === BigInt(y)) return true;
  if (dec.test(x) && hex.test(y) && BigInt(x) === BigInt(`0x${y}`)) return true;
  return false;
}

/**
 * esm_class of a deliver_sm that carries a receipt (SMPP 3.4 §5.2.12, bits 2-5): 0x04 SMSC
 * delivery receipt, 0x20 intermediate delivery notification (ENROUTE …). 0x08 and 0x10 are SME
 * acknowledgements; 0x00 is a mobile-originated message.
 */
export function isReceiptEsmClass(esmClass: number): boolean {
  const type = esmClass & 0x3c;
  return type === 0x04 || type === 0x20;
}
