import type { QualificationInput } from "@sendgate/core";
import type { SendOutcome } from "../channel.ts";
import type { SmtpResult } from "./smtp-pool.ts";

type SmtpStage = NonNullable<Extract<QualificationInput, { kind: "smtp" }>["stage"]>;

/** What an SMTP error looks like: nodemailer's fields, all optional. */
export interface SmtpErrorLike {
  message?: string;
  code?: string;
  originalCode?: string;
  command?: string;
  response?: string;
  responseCode?: number;
  rejectedErrors?: SmtpErrorLike[];
}

/**
 * The SMTP command a reply answered, from nodemailer's `command`. `CONN` is a reply to no
 * command of ours: the greeting while connecting; during a send, a 421 that closed the session
 * (nodemailer hands a 421 to MAIL FROM, to DATA or after the message to that command's handler
 * first, so one left as `CONN` answered a pipelined RCPT TO).
 */
export function stageOf(
  command: string | undefined,
  phase: "connect" | "send",
): SmtpStage | undefined {
  const c = (command ?? "").toUpperCase();
  if (c === "MAIL FROM") return "mail";
  if (c === "RCPT TO") return "rcpt";
  if (c === "DATA") return "data";
  if (/^(?:EHLO|HELO|LHLO|STARTTLS|AUTH\b)/u.test(c)) return "helo";
  if (c === "CONN") return phase === "connect" ? "connect" : "rcpt";
  return undefined;
}

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3}$/u;

/** `550 5.1.1 text` (or a multi-line reply) as code, enhanced code and text. */
export function parseReply(response: string, code: number) {
  const lines = response.replace(/\r?\n$/u, "").split(/\r?\n/u)
    .map((line) => line.replace(/^\d{3}[ -]?/u, ""));
  const first = lines[0] ?? "";
  const word = first.split(" ", 1)[0] ?? "";
  const enhanced = ENHANCED.test(word) ? word : undefined;
  const text = lines.map((
    line,
  ) => (enhanced && line.startsWith(`${enhanced} `) ? line.slice(enhanced.length + 1) : line))
    .join("\n").trim();
  return { code, ...(enhanced ? { enhanced } : {}), text };
}

const EMAIL_ADDRESS = /[^\s<>()"',;:]+@[^\s<>()"',;:]+/gu;

/** A transport error's text: short, one line, without the addresses nodemailer sometimes quotes. */
function networkText(error: SmtpErrorLike): string {
  const parts = [
    error.command && error.command !== "CONN" ? `${error.command}:` : "",
    error.message ?? "",
  ];
  if (error.originalCode && !(error.message ?? "").includes(error.originalCode)) {
    parts.push(`(${error.originalCode})`);
  }
  return parts.filter(Boolean).join(" ").replace(/\s+/gu, " ").replace(EMAIL_ADDRESS, "*")
    .trim().slice(0, 200);
}

export function networkOutcome(code: string, text: string): SendOutcome {
  return { kind: "transport", input: { channel: "email", kind: "network", code, text } };
}

/**
 * An SMTP error as an outcome. A reply (4xx/5xx) is a refusal for the core to qualify, with the
 * stage it answered; no reply is a transport failure, by nodemailer's code (`ECONNECTION`,
 * `ETIMEDOUT`, `ESOCKET`, `EDNS`, `ETLS` …). The code is nodemailer's and not the system's
 * (`originalCode`, which goes in the text): a relay's host name that does not resolve is EDNS,
 * our trouble, where `ENOTFOUND` would read as the recipient's domain not existing.
 */
export function errorOutcome(error: SmtpErrorLike, phase: "connect" | "send"): SendOutcome {
  // A single-recipient message refused at RCPT: the recipient's own reply.
  const own = error.rejectedErrors?.length === 1 ? error.rejectedErrors[0]! : error;
  const reply = own.response ?? error.response;
  const code = own.responseCode ?? error.responseCode;
  if (reply && code && code >= 400 && code < 600) {
    const stage = stageOf(own.command ?? error.command, phase);
    return {
      kind: "refused",
      input: {
        channel: "email",
        kind: "smtp",
        ...parseReply(reply, code),
        ...(stage ? { stage } : {}),
      },
    };
  }
  if (error.code === "EMESSAGE" && /size/iu.test(error.message ?? "")) {
    // The server's SIZE is below the message: it would refuse it after DATA (552 5.3.4),
    // nodemailer does not send it. Written as that reply, a refusal of the content (soft 20).
    return {
      kind: "refused",
      input: {
        channel: "email",
        kind: "smtp",
        code: 552,
        enhanced: "5.3.4",
        text: "message size exceeds the limit the server announced (SIZE)",
        stage: "mail",
      },
    };
  }
  // A reply we cannot take as a refusal (2xx/3xx where a failure was expected) is a protocol error.
  const netCode = reply && code ? "EPROTOCOL" : error.code || "ECONNECTION";
  return networkOutcome(netCode, networkText(error));
}

/** A Postfix-style `queued as ID`, or the id nodemailer recognized (Microsoft 365, SES). */
function remoteIdOf(response: string, serverMessageId?: string): string | undefined {
  if (serverMessageId) return serverMessageId.replace(/^<|>$/gu, "");
  const match = /\bqueued as ([A-Za-z0-9._-]+)/iu.exec(response) ??
    /\bid=([A-Za-z0-9._-]+)/u.exec(response);
  return match?.[1];
}

export function resultOutcome(result: SmtpResult): SendOutcome {
  if (result.ok) {
    const reply = result.info.response.trim();
    const remoteId = remoteIdOf(reply, result.info.serverMessageId);
    return { kind: "accepted", reply, ...(remoteId ? { remoteId } : {}) };
  }
  if (result.phase === "build") {
    // Content and fields were checked before; what fails here is ours (a DKIM key that does not
    // parse, a library bug): retried once fixed, not failed for good as `invalid` would.
    return networkOutcome(
      "EBUILD",
      `the message could not be built: ${result.error.message}`.replace(EMAIL_ADDRESS, "*")
        .slice(0, 200),
    );
  }
  return errorOutcome(result.error, result.phase);
}
