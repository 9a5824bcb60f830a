/**
 * RFC 3464 delivery-status fields: one per-message block, then one block per recipient, blocks
 * separated by blank lines. Read leniently: a missing per-message block, a recipient block cut by
 * a stray blank line, fields in any case, folded or wrapped lines.
 */
import type { BounceRecipient } from "./parse.ts";
import {
  detectStage,
  field,
  type Fields,
  findStatus,
  normalizeAddress,
  parseFields,
  splitBlocks,
  squash,
} from "./fields.ts";

const ACTIONS = new Set(["failed", "delayed", "delivered", "relayed", "expanded"]);

/** Strips the address or diagnostic type (`rfc822;`, `smtp;`, `dns;`, `X-Postfix;`). */
export function stripType(value: string): string {
  return value.replace(/^\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*;\s*/u, "").trim();
}

function normalizeAction(value: string | null, status: string | null): string {
  const word = value?.trim().toLowerCase().split(/[\s(;]/u)[0] ?? "";
  if (ACTIONS.has(word)) return word;
  if (/^fail/u.test(word)) return "failed";
  if (/^delay/u.test(word)) return "delayed";
  if (/^deliver/u.test(word)) return "delivered";
  if (/^relay/u.test(word)) return "relayed";
  if (/^expand/u.test(word)) return "expanded";
  // No (or a made-up) Action: a 2.x.x status says it went through; anything else failed.
  return status?.startsWith("2.") ? "delivered" : "failed";
}

function isRecipientBlock(fields: Fields): boolean {
  return fields.has("final-recipient") || fields.has("original-recipient") ||
    fields.has("x-actual-recipient");
}

function hasPerRecipientDetail(fields: Fields): boolean {
  return fields.has("action") || fields.has("status") || fields.has("diagnostic-code");
}

function toRecipient(fields: Fields): BounceRecipient | null {
  const finalValue = field(fields, "final-recipient");
  const originalValue = field(fields, "original-recipient");
  const actualValue = field(fields, "x-actual-recipient");
  const original = originalValue ? normalizeAddress(originalValue) : null;
  const recipient = (finalValue ? normalizeAddress(finalValue) : null) ?? original ??
    (actualValue ? normalizeAddress(actualValue) : null);
  if (!recipient) return null;
  const diagnosticRaw = field(fields, "diagnostic-code");
  const diagnosticCode = diagnosticRaw ? squash(stripType(diagnosticRaw)) || null : null;
  const statusField = field(fields, "status");
  const status = (statusField ? findStatus(statusField) : null) ??
    (diagnosticCode ? findStatus(diagnosticCode) : null);
  const remote = field(fields, "remote-mta");
  return {
    recipient,
    originalRecipient: original,
    action: normalizeAction(field(fields, "action"), status),
    status,
    diagnosticCode,
    remoteMta: remote ? stripType(remote) || null : null,
    stage: diagnosticCode ? detectStage(diagnosticCode) : null,
  };
}

/**
 * The recipients a delivery-status text reports, in order. Fields that fall in a block of their
 * own after a recipient block (a stray blank line) complete that recipient.
 */
export function parseDeliveryStatus(text: string): BounceRecipient[] {
  const groups: Fields[] = [];
  for (const block of splitBlocks(text)) {
    const fields = parseFields(block);
    if (isRecipientBlock(fields)) {
      groups.push(fields);
    } else if (groups.length > 0 && hasPerRecipientDetail(fields)) {
      const last = groups[groups.length - 1]!;
      for (const [name, values] of fields) if (!last.has(name)) last.set(name, values);
    }
  }
  const out: BounceRecipient[] = [];
  for (const fields of groups) {
    const recipient = toRecipient(fields);
    if (recipient) out.push(recipient);
  }
  return out;
}

/**
 * Whether a text part carries delivery-status fields inline (some MTAs send them as text/plain or
 * inside the human-readable part): a recipient field and an Action or Status field at line starts.
 */
export function looksLikeInlineStatus(text: string): boolean {
  return /^(?:Final|Original)-Recipient[ \t]*:/imu.test(text) &&
    /^(?:Action|Status)[ \t]*:/imu.test(text);
}
