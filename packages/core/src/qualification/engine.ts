import type { Channel } from "../channel.ts";
import { FailureType, Reason } from "../failure.ts";
import type { Failure } from "../failure.ts";
import { qualifyEnhancedStatus } from "./enhanced-status.ts";
import { normalize } from "./normalize.ts";
import { smppHex, smppStatusName } from "./rules/smpp.ts";
import type {
  FailureVerdict,
  MatchSource,
  Qualification,
  QualificationInput,
  Rule,
  RuleSet,
  Verdict,
} from "./types.ts";

/** Rules ready to match: per channel, the operator layer first, then the shipped layer. */
export interface CompiledRules {
  readonly byChannel: ReadonlyMap<Channel, readonly CompiledRule[]>;
}

interface CompiledRule {
  readonly rule: Rule;
  readonly test: (text: string) => boolean;
}

/** Why a rule cannot be used, or null. Operator rules are checked with this before they are saved. */
export function ruleError(rule: Pick<Rule, "pattern" | "regex">): string | null {
  if (rule.pattern.length === 0) return "pattern is empty";
  if (!rule.regex) return null;
  try {
    new RegExp(rule.pattern, "iu");
    return null;
  } catch (error) {
    return `invalid regular expression: ${(error as Error).message}`;
  }
}

function compileRule(rule: Rule): CompiledRule {
  if (rule.regex) {
    const re = new RegExp(rule.pattern, "iu");
    return { rule, test: (text) => re.test(text) };
  }
  const needle = rule.pattern.toLowerCase();
  return { rule, test: (text) => text.toLowerCase().includes(needle) };
}

/** Compiles a rule set once; throws on a rule `ruleError` would refuse. */
export function compileRules(set: RuleSet): CompiledRules {
  const byChannel = new Map<Channel, CompiledRule[]>();
  for (const rule of [...set.operator, ...set.shipped]) {
    const error = ruleError(rule);
    if (error) throw new Error(`qualification rule ${rule.id}: ${error}`);
    const list = byChannel.get(rule.channel) ?? [];
    list.push(compileRule(rule));
    byChannel.set(rule.channel, list);
  }
  return { byChannel };
}

/** Swaps the shipped layer (deliverability update) and leaves every operator rule as it was. */
export function replaceShipped(set: RuleSet, shipped: readonly Rule[]): RuleSet {
  return { shipped, operator: set.operator };
}

const oneLine = (text: string) => text.replace(/\s*[\r\n]+\s*/gu, " ").trim();

// Each line of a multi-line SMTP reply repeats the codes (`550-5.1.1 …`): keep the text only.
const LINE_PREFIX = /^\s*(?:[2-5]\d\d[ -])?(?:([245]\.\d{1,3}\.\d{1,3})(?:\s+|$))?/u;

/** Splits a reply text into its enhanced code (given, or read off the text) and the rest. */
function smtpParts(enhanced: string | undefined, text: string) {
  let found = enhanced?.trim() || undefined;
  const rest = text.split(/\r?\n/u).map((line) =>
    line.replace(LINE_PREFIX, (_prefix, code: string | undefined) => {
      found ??= code;
      return "";
    })
  );
  return { enhanced: found, rest: oneLine(rest.join("\n")) };
}

/** The DSN's Diagnostic-Code without its type (`smtp; `). */
function diagnosticText(diagnosticCode: string | undefined): string {
  return oneLine((diagnosticCode ?? "").replace(/^\s*[\w-]+\s*;\s*/u, ""));
}

/**
 * The Status of a DSN recipient as the engine reads it. DOMAIN §10: a 5xx diagnostic wins over a
 * `4.x.x` Status when the Action is failed (MTAs that gave up after deferrals write the last
 * temporary Status beside the remote's permanent refusal): the diagnostic's own enhanced code then,
 * or none (its reply-code class decides).
 */
function dsnStatus(input: Extract<QualificationInput, { kind: "dsn" }>): string | undefined {
  const status = input.status?.trim() || undefined;
  if (!status?.startsWith("4") || input.action.trim().toLowerCase() !== "failed") return status;
  const diagnostic = diagnosticText(input.diagnosticCode);
  if (!/^\s*5\d\d\b|\b5\.\d{1,3}\.\d{1,3}\b/u.test(diagnostic)) return status;
  return /\b(5\.\d{1,3}\.\d{1,3})\b/u.exec(diagnostic)?.[1];
}

/**
 * The canonical text of an input: the line rules match and the qualification table records.
 * The normalized text removes variable content from the free text only; the structured prefix
 * (`SMPP 0x58 …`, `SR smsc UNDELIV 001|#MESSAGE#`) is already free of it.
 */
export function canonicalText(input: QualificationInput): { text: string; normalized: string } {
  switch (input.kind) {
    case "smtp": {
      const { enhanced, rest } = smtpParts(input.enhanced, input.text);
      // A reply after DATA is its own entry: the same words mean something else there.
      const stage = input.stage === "data" ? "[after DATA]" : "";
      const text = [String(input.code), enhanced, rest, stage].filter(Boolean).join(" ");
      return { text, normalized: normalize(text) };
    }
    case "dsn": {
      const stage = input.stage === "data" ? "[after DATA]" : "";
      const text = [dsnStatus(input), diagnosticText(input.diagnosticCode), stage].filter(Boolean)
        .join(" ");
      return { text, normalized: normalize(text) };
    }
    case "submit": {
      const text = `SMPP ${smppHex(input.commandStatus)} ${smppStatusName(input.commandStatus)}`;
      return { text, normalized: text };
    }
    case "receipt": {
      // DOMAIN §10: `SR <provider> <stat> <err>|#MESSAGE#`.
      const provider = (input.provider ?? "smsc").trim().replace(/\s+/gu, "-") || "smsc";
      const err = (input.err ?? "").trim() || "000";
      const text = `SR ${provider} ${input.stat.trim().toUpperCase()} ${err}|#MESSAGE#`;
      return { text, normalized: text };
    }
    case "http": {
      const body = oneLine(input.body ?? "").slice(0, 500);
      const head = `PUSH ${input.status}`;
      return {
        text: body ? `${head} ${body}` : head,
        normalized: body ? `${head} ${normalize(body)}` : head,
      };
    }
    case "network": {
      const head = `NET ${input.code.trim().toUpperCase() || "UNKNOWN"}`;
      const body = oneLine(input.text ?? "");
      return {
        text: body ? `${head} ${body}` : head,
        normalized: body ? `${head} ${normalize(body)}` : head,
      };
    }
  }
}

const SMS_INTERMEDIATE = new Set(["ENROUTE", "ACCEPTD", "SCHEDLD", "BUFFRED"]);

/** Answers that are not failures: decided before any rule, rules never turn them into failures. */
function successOf(input: QualificationInput): Verdict | null {
  switch (input.kind) {
    case "smtp":
      if (input.code >= 200 && input.code < 300) return { outcome: "success", status: "sent" };
      return input.code >= 300 && input.code < 400 ? { outcome: "intermediate" } : null;
    case "dsn": {
      const action = input.action.trim().toLowerCase();
      if (action === "delivered") return { outcome: "success", status: "sent" };
      return action === "failed" ? null : { outcome: "intermediate" }; // delayed, relayed, expanded
    }
    case "submit":
      return input.commandStatus === 0 ? { outcome: "success", status: "takenIntoAccount" } : null;
    case "receipt": {
      const stat = input.stat.trim().toUpperCase();
      if (stat === "DELIVRD") return { outcome: "success", status: "receivedOnMobile" };
      return SMS_INTERMEDIATE.has(stat) ? { outcome: "intermediate" } : null;
    }
    case "http":
      return input.status >= 200 && input.status < 300
        ? { outcome: "success", status: "sent" }
        : null;
    case "network":
      return null;
  }
}

function verdict(
  failure: Failure,
  source: MatchSource,
  extra: Partial<FailureVerdict> = {},
): FailureVerdict {
  return {
    outcome: "failure",
    type: failure.type,
    reason: failure.reason,
    retry: failure.type === FailureType.hard ? "never" : "schedule",
    ruleId: null,
    source,
    toQualify: source === "class" || source === "none",
    ...extra,
  };
}

/** When no rule matched: the enhanced code, then the reply-code class, then undefined (0). */
function fallback(input: QualificationInput): FailureVerdict {
  const klass = (digit: string | undefined) =>
    digit === "5"
      ? verdict({ type: FailureType.soft, reason: Reason.unreachable }, "class")
      : digit === "4"
      ? verdict({ type: FailureType.ignored, reason: Reason.unreachable }, "class")
      : null;
  switch (input.kind) {
    case "smtp":
    case "dsn": {
      const diagnostic = input.kind === "dsn" ? diagnosticText(input.diagnosticCode) : "";
      // A DSN without a Status: the diagnostic's enhanced code and reply code, wherever they
      // stand in it (plain-text bounces quote the remote reply after the host: `host mx[…] said:
      // 553 … does not exist`), never inside a dotted number such as an IP address.
      const enhanced = input.kind === "smtp"
        ? smtpParts(input.enhanced, input.text).enhanced
        : dsnStatus(input) || smtpParts(undefined, diagnostic).enhanced ||
          /(?:^|[\s:;(\[<])([45]\.\d{1,3}\.\d{1,3})(?=[\s:;)\]>]|$)/u.exec(diagnostic)?.[1];
      const byCode = enhanced ? qualifyEnhancedStatus(enhanced) : null;
      if (byCode) return verdict(byCode, "enhanced");
      const digit = input.kind === "smtp" ? String(input.code)[0] : enhanced?.[0] ??
        /(?:^|[\s:;(\[<])([45])\d\d(?=[\s\-:;)\]>]|$)/u.exec(diagnostic)?.[1];
      const byClass = klass(digit);
      if (byClass) return byClass;
      break;
    }
    case "submit": // DOMAIN §10: other codes → soft 3, to qualify.
      return verdict({ type: FailureType.soft, reason: Reason.unreachable }, "class");
    case "network": // connection trouble is never the address's fault.
      return verdict({ type: FailureType.ignored, reason: Reason.unreachable }, "class");
    case "http":
    case "receipt":
      break;
  }
  return verdict({ type: FailureType.undefined, reason: Reason.undefined }, "none");
}

/**
 * Qualifies what a channel saw (DOMAIN §6): success and progress answers first; then the first
 * matching rule, operator layer before shipped layer; then the RFC 3463 enhanced code; then the
 * reply-code class; else undefined (0), to qualify.
 */
export function qualify(rules: CompiledRules, input: QualificationInput): Qualification {
  const { text, normalized } = canonicalText(input);
  const done = successOf(input);
  if (done) return { verdict: done, text, normalized };
  const match = rules.byChannel.get(input.channel)?.find((candidate) => candidate.test(text));
  let result: FailureVerdict;
  if (match) {
    const { rule } = match;
    result = verdict(rule, "rule", {
      ruleId: rule.id,
      ...(rule.retry ? { retry: rule.retry } : {}),
    });
    if (rule.pauseDelivery) result.pauseDelivery = true;
  } else {
    result = fallback(input);
  }
  // DOMAIN §10: "user unknown" at end of DATA (accepted at RCPT) is a filter speaking: soft 20,
  // never hard.
  if (
    (input.kind === "smtp" || input.kind === "dsn") && input.stage === "data" &&
    result.type === FailureType.hard
  ) {
    result = { ...result, type: FailureType.soft, reason: Reason.refused, retry: "schedule" };
  }
  if (input.kind === "http" && input.retryAfterMs !== undefined && result.retry !== "never") {
    result.retryAfterMs = input.retryAfterMs;
  }
  return { verdict: result, text, normalized };
}
