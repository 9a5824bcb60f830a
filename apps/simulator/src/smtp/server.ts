/**
 * The simulated remote mail server: an SMTP MX on loopback that answers each recipient the way
 * the scenario says (DOMAIN §10), in the words real MTAs use (`phrasing.ts`), and sends the
 * bounces, auto-replies and complaints that come later (`reports.ts`) to the gateway's inbound
 * relay. Every message it receives gets one ledger entry per recipient: the ground truth a test
 * compares the gateway's conclusions with.
 *
 * Correlation ids in the ledger:
 * - a message that reached the end of DATA: its `X-Sendgate-Id` header, else its `Message-ID`
 *   without angle brackets, else the envelope form below;
 * - a recipient answered at RCPT TO (refused, dropped, deferred), so before any message exists:
 *   `<envelope-from>|<rcpt>|<session-id>`, where the session id is this server's connection
 *   counter (`S000001`, `S000002` … in order of arrival, so two runs of the same test give the
 *   same ids). A null sender gives `|<rcpt>|S000001`.
 * A recipient accepted at RCPT TO whose transaction never reaches the end of DATA (RSET, QUIT,
 * dropped connection) is not recorded: no message was received.
 *
 * One DATA reply covers every recipient of an SMTP transaction. When all its recipients are
 * `mailboxFullAfterData` the reply is 552 5.2.2; when only some are, the message is accepted
 * (250) and those recipients get a DSN with 5.2.2 later — what a real MTA does when it cannot
 * refuse one recipient after DATA — so the ledger stays true for every recipient.
 */
import type { Socket } from "node:net";
import { Buffer } from "node:buffer";
import process from "node:process";
import { SMTPServer } from "smtp-server";
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from "smtp-server";
import { createTransport } from "nodemailer";
import { activeFault, type FaultWindow } from "../clock.ts";
import { localCertificate } from "../certificate.ts";
import type { SimulatorContext } from "../context.ts";
import type { RunningServer } from "../control.ts";
import type { LedgerEntry } from "../ledger.ts";
import { emailMagicOutcome } from "../magic.ts";
import { type EmailOutcome, emailOutcomes, type Expected } from "../outcomes.ts";
import { between } from "../random.ts";
import {
  acceptedReplies,
  autoReplyBodies,
  autoReplySubjects,
  bounceDiagnostics,
  bounceStyles,
  chooseFamily,
  feedbackStyles,
  type MtaFamily,
  mtaHost,
  phrase,
  phrasebook,
  type PhraseVars,
  protocolReplies,
  type RejectionOutcome,
  type Reply,
  token,
} from "./phrasing.ts";
import { buildAutoReply, buildDsn, buildFeedbackReport } from "./reports.ts";

/** How the simulator introduces itself in its greeting. */
const SERVER_NAME = "mx.sendgate-simulator.localhost";
/** The header block kept for correlation and reports; beyond it, headers are ignored. */
const HEADER_LIMIT = 256 * 1024;
/** A complaint quotes the whole original up to this size, else only its headers. */
const KEEP_MESSAGE_LIMIT = 1024 * 1024;

/** A message over SIZE: refused by the protocol itself (DOMAIN §10: 5.3.4 is a refusal). */
const TOO_LARGE: Expected = { status: "failed", type: "soft", reason: 20, retried: true };

const REJECTIONS = new Set<EmailOutcome>([
  "userUnknown",
  "mailboxFull",
  "badDomain",
  "disabled",
  "spam",
  "blocked",
  "tryLater",
  "greylist",
]);

/** Accepted outcomes followed by a report (full after data: when accepted with others). */
const REPORTED = new Set<EmailOutcome>([
  "bounceLater",
  "softBounceLater",
  "mailboxFullAfterData",
  "autoReply",
  "complaint",
]);

/** The parts of smtp-server's connection object this server uses (not in its public types). */
interface Connection {
  session: SMTPServerSession;
  _socket: Socket;
  send(code: number, data?: string | string[] | null, context?: string | false): void;
}

type Draw = (...salt: (string | number)[]) => number;

/** A recipient decided at RCPT TO. */
interface Recipient {
  address: string;
  outcome: EmailOutcome;
  decidedBy: "magic" | "mix";
  occurrence: number;
  draw: Draw;
  family: MtaFamily;
}

interface Session {
  id: string;
  connection: Connection | null;
  from: string;
  recipients: Map<string, Recipient>;
}

export interface SmtpServerHandle extends RunningServer {
  port: number;
  /** Malformed commands, bad addresses, oversized messages: answered with SMTP's own codes. */
  readonly protocolErrors: number;
}

const ENHANCED_FIRST = /^[245]\.\d{1,3}\.\d{1,3} /u;

const smtpError = (reply: Reply) =>
  Object.assign(new Error(reply.text), { responseCode: reply.code });

/** The header block of a message (up to the first empty line), unfolded into a map. */
function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/gu, " ").split(/\r?\n/u)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return headers;
}

function headerBlock(head: Buffer): string {
  const raw = head.toString("utf8");
  const crlf = raw.indexOf("\r\n\r\n");
  const lf = raw.indexOf("\n\n");
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return raw.slice(0, crlf + 2);
  if (lf >= 0) return raw.slice(0, lf + 1);
  return raw;
}

/**
 * Starts the remote mail server: PIPELINING, SIZE (`email.maxMessageBytes`), 8BITMIME,
 * ENHANCEDSTATUSCODES, STARTTLS with a self-signed certificate, no authentication required.
 */
export async function startSmtpServer(
  ctx: SimulatorContext,
  options: { host?: string; port?: number } = {},
): Promise<SmtpServerHandle> {
  const host = options.host ?? "127.0.0.1";
  const { key, cert } = await localCertificate();
  const sessions = new WeakMap<SMTPServerSession, Session>();
  const transports = new Map<string, ReturnType<typeof createTransport>>();
  const restarted = new Set<string>();
  let sessionCount = 0;
  let protocolErrors = 0;
  let closed = false;
  let port = options.port ?? 0;

  const smtp = new SMTPServer({
    name: SERVER_NAME,
    key,
    cert,
    logger: false,
    authOptional: true,
    size: ctx.scenario.email.maxMessageBytes,
    // Replies carry enhanced codes: ours are written into the text (see `instrument`).
    hideENHANCEDSTATUSCODES: false,
    // Loopback only: no reverse DNS lookup of the client.
    disableReverseLookup: true,
    closeTimeout: 1_000,
    onConnect(session, callback) {
      const connection = findConnection(session);
      if (connection) instrument(connection);
      const state: Session = {
        id: `S${String(++sessionCount).padStart(6, "0")}`,
        connection,
        from: "",
        recipients: new Map(),
      };
      sessions.set(session, state);
      // SIZE follows the scenario in force (it may be replaced at run time).
      smtp.options.size = ctx.scenario.email.maxMessageBytes;
      gate(connection, (error) => callback(error ?? null));
    },
    // Any credentials will do: a gateway configured with AUTH for a smarthost still gets through.
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username ?? "anonymous" });
    },
    onMailFrom(address, session, callback) {
      const state = sessions.get(session);
      gate(state?.connection ?? null, (error) => {
        if (error) return callback(error);
        if (state) {
          state.from = address.address;
          state.recipients = new Map();
        }
        callback();
      });
    },
    onRcptTo(address, session, callback) {
      const state = sessions.get(session);
      if (!state) return callback();
      gate(
        state.connection,
        (error) => (error ? callback(error) : rcpt(address, session, state, callback)),
      );
    },
    onData(stream, session, callback) {
      const state = sessions.get(session);
      if (!state) {
        stream.resume();
        stream.on("end", () => callback());
        return;
      }
      data(stream, session, state, callback);
    },
  });
  // Socket errors (a client resetting its connection) must not take the server down.
  smtp.on("error", () => {});

  function connections(): Connection[] {
    return [...smtp.connections] as unknown as Connection[];
  }

  function findConnection(session: SMTPServerSession): Connection | null {
    return connections().find((c) => c.session === session) ?? null;
  }

  /**
   * Our replies carry their enhanced code in the text (the phrasing decides it), so the server
   * must not add one; smtp-server's own error replies are bad input from the client, counted.
   */
  function instrument(connection: Connection) {
    const send = connection.send.bind(connection);
    connection.send = (code, data, context) => {
      // Replies to pipelined commands leave in one write where they can (one syscall, not three).
      const socket = connection._socket;
      if (!socket.writableCorked) {
        socket.cork();
        process.nextTick(() => socket.uncork());
      }
      if (typeof data === "string" && ENHANCED_FIRST.test(data)) return send(code, data, false);
      if (
        code >= 500 ||
        (code === 421 && typeof data === "string" &&
          /^(?:Error:|HTTP requests)|talk too soon/u.test(data))
      ) {
        protocolErrors++;
      }
      return send(code, data, context);
    };
  }

  /**
   * Applies the scheduled fault in force, if any, before a step of the session: `drop` and
   * `restart` cut the connection, `refuse` answers 421, `stall` waits until the fault ends.
   */
  function gate(connection: Connection | null, proceed: (error?: Error) => void): void {
    const faults = ctx.scenario.email.faults;
    if (faults.length === 0) return proceed();
    const elapsed = ctx.scheduler.elapsed();
    const fault = activeFault(faults, elapsed);
    if (!fault) return proceed();
    switch (fault.kind) {
      case "refuse":
        return proceed(smtpError(protocolReplies.refused));
      case "stall":
        // Re-checked when the window ends: another fault may follow.
        ctx.scheduler.after(
          fault.atMs + Math.max(fault.durationMs, 1) - elapsed,
          () => gate(connection, proceed),
        );
        return;
      case "restart":
        restart(fault, elapsed);
        connection?._socket.destroy();
        return proceed(new Error("connection dropped (restart)"));
      case "drop":
        connection?._socket.destroy();
        return proceed(new Error("connection dropped"));
    }
  }

  /** Closes the listener and every connection, and listens again when the fault window ends. */
  function restart(fault: FaultWindow, elapsed: number) {
    const key = `${fault.atMs}:${fault.durationMs}`;
    if (restarted.has(key) || closed) return;
    restarted.add(key);
    smtp.server.close();
    for (const c of connections()) c._socket.destroy();
    ctx.scheduler.after(fault.atMs + Math.max(fault.durationMs, 1) - elapsed, () => reopen(20));
  }

  function reopen(attempts: number) {
    if (closed || smtp.server.listening) return;
    const retry = () => {
      if (attempts > 1) setTimeout(() => reopen(attempts - 1), 50);
    };
    smtp.server.once("error", retry);
    smtp.server.listen(port, host, () => smtp.server.off("error", retry));
  }

  // Faults also hit idle connections and the listener, not only sessions that send something.
  const watch = setInterval(() => {
    const faults = ctx.scenario.email.faults;
    if (faults.length === 0) return;
    const elapsed = ctx.scheduler.elapsed();
    const fault = activeFault(faults, elapsed);
    if (fault?.kind === "drop") { for (const c of connections()) c._socket.destroy(); }
    else if (fault?.kind === "restart") restart(fault, elapsed);
  }, 10);
  watch.unref();

  function vars(r: Recipient, session: SMTPServerSession): PhraseVars {
    const at = r.address.lastIndexOf("@");
    const domain = at >= 0 ? r.address.slice(at + 1) : "localhost";
    return {
      rcpt: r.address,
      local: at >= 0 ? r.address.slice(0, at) : r.address,
      domain,
      ip: session.remoteAddress,
      host: mtaHost(r.family, domain, () => r.draw("host")),
      id: token((salt) => r.draw("id", salt)),
    };
  }

  function record(
    r: Recipient,
    id: string,
    state: Session,
    sync: LedgerEntry["sync"],
    stage: "rcpt" | "data",
    more: Partial<Pick<LedgerEntry, "outcome" | "decidedBy" | "expected" | "async">> & {
      extra?: Record<string, unknown>;
    } = {},
  ): LedgerEntry {
    return ctx.ledger.add({
      id,
      channel: "email",
      recipient: r.address,
      occurrence: r.occurrence,
      outcome: more.outcome ?? r.outcome,
      decidedBy: more.decidedBy ?? r.decidedBy,
      receivedAt: new Date().toISOString(),
      sync,
      ...(more.async ? { async: more.async } : {}),
      expected: { ...(more.expected ?? emailOutcomes[r.outcome].expected) },
      extra: {
        envelopeFrom: state.from,
        sessionId: state.id,
        stage,
        phrasing: r.family,
        ...more.extra,
      },
    });
  }

  const envelopeId = (state: Session, address: string) => `${state.from}|${address}|${state.id}`;

  function rcpt(
    address: SMTPServerAddress,
    session: SMTPServerSession,
    state: Session,
    callback: (error?: Error | null) => void,
  ) {
    const scenario = ctx.scenario.email;
    const decision = ctx.decide<EmailOutcome>(
      "email",
      address.address,
      scenario.mix as Partial<Record<EmailOutcome, number>>,
      emailMagicOutcome(address.address),
      "accept",
    );
    const r: Recipient = {
      address: address.address,
      outcome: decision.outcome,
      decidedBy: decision.decidedBy,
      occurrence: decision.occurrence,
      draw: decision.draw,
      family: chooseFamily(scenario.phrasing, decision.draw("family")),
    };
    const answer = () => {
      if (r.outcome === "drop") {
        record(
          r,
          envelopeId(state, r.address),
          state,
          { none: "connection dropped after RCPT TO" },
          "rcpt",
        );
        state.connection?._socket.destroy();
        return callback(new Error("connection dropped"));
      }
      if (REJECTIONS.has(r.outcome)) {
        const reply = phrase(
          phrasebook[r.family][r.outcome as RejectionOutcome],
          r.draw("phrase"),
          vars(r, session),
        );
        record(r, envelopeId(state, r.address), state, { smtp: reply }, "rcpt");
        // 421 closes the connection after the reply (smtp-server does it for any 421).
        return callback(smtpError(reply));
      }
      state.recipients.set(r.address.toLowerCase(), r);
      callback();
    };
    const latency = between(scenario.latency, r.draw("latency"));
    if (latency > 0) setTimeout(answer, latency);
    else answer();
  }

  function data(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    state: Session,
    callback: (error?: Error | null, message?: string) => void,
  ) {
    const recipients = [...state.recipients.values()];
    state.recipients = new Map();
    const head: Buffer[] = [];
    let headBytes = 0;
    let headDone = false;
    let whole: Buffer[] | null = recipients.some((r) => r.outcome === "complaint") ? [] : null;
    let wholeBytes = 0;
    stream.on("data", (chunk: Buffer) => {
      if (!headDone && headBytes < HEADER_LIMIT) {
        head.push(chunk);
        headBytes += chunk.length;
        headDone = chunk.includes("\r\n\r\n") || chunk.includes("\n\n");
      }
      if (whole) {
        wholeBytes += chunk.length;
        if (wholeBytes <= KEEP_MESSAGE_LIMIT) whole.push(chunk);
        else whole = null;
      }
    });
    stream.on("end", () => {
      gate(state.connection, (error) => {
        if (error) return callback(error);
        try {
          const message = whole && !stream.sizeExceeded
            ? Buffer.concat(whole).toString("utf8")
            : null;
          finish(
            stream,
            session,
            state,
            recipients,
            headerBlock(Buffer.concat(head)),
            message,
            callback,
          );
        } catch (failure) {
          callback(
            Object.assign(new Error("4.3.0 Internal error, try again later"), {
              responseCode: 451,
            }),
          );
          console.error("simulator smtp: failed to process a message", failure);
        }
      });
    });
  }

  function finish(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    state: Session,
    recipients: Recipient[],
    headerText: string,
    message: string | null,
    callback: (error?: Error | null, message?: string) => void,
  ) {
    const headers = parseHeaders(headerText);
    const correlation = headers.get("x-sendgate-id")?.trim() ||
      headers.get("message-id")?.trim().replace(/^<|>$/gu, "") || null;
    const idFor = (r: Recipient) => correlation ?? envelopeId(state, r.address);
    const first = recipients[0];
    if (!first) return callback(null, "2.0.0 Ok");

    if (stream.sizeExceeded) {
      protocolErrors++;
      const reply = protocolReplies.tooLarge;
      for (const r of recipients) {
        record(r, idFor(r), state, { smtp: reply }, "data", {
          outcome: "tooLarge",
          decidedBy: "protocol",
          expected: TOO_LARGE,
          extra: { decidedOutcome: r.outcome, bytes: stream.byteLength },
        });
      }
      return callback(smtpError(reply));
    }

    const full = recipients.filter((r) => r.outcome === "mailboxFullAfterData");
    if (full.length === recipients.length) {
      const reply = phrase(
        phrasebook[first.family].mailboxFullAfterData,
        first.draw("phrase"),
        vars(first, session),
      );
      for (const r of recipients) record(r, idFor(r), state, { smtp: reply }, "data");
      return callback(smtpError(reply));
    }

    const accepted = phrase(
      acceptedReplies[first.family],
      first.draw("accepted"),
      vars(first, session),
    );
    const receivedAt = new Date();
    for (const r of recipients) {
      // RFC 5321 §4.5.5: a message with a null reverse-path (`MAIL FROM:<>`, itself a report)
      // never gets a report back, whatever the outcome would send (RFC 3834 §2 for auto-replies):
      // accepted, and that is all it will hear.
      if (!state.from && REPORTED.has(r.outcome)) {
        record(r, idFor(r), state, { smtp: accepted }, "data", {
          expected: { status: "sent", retried: false },
          extra: { note: "null sender: no report is sent for it (RFC 5321 §4.5.5)" },
        });
        continue;
      }
      const report = planReport(r, session, state, headers, headerText, message, receivedAt);
      if (!report) {
        record(r, idFor(r), state, { smtp: accepted }, "data");
        continue;
      }
      const delay = between(ctx.scenario.email.asyncDelay, r.draw("async"));
      const entry = record(r, idFor(r), state, { smtp: accepted }, "data", {
        async: {
          kind: report.kind,
          dueAt: ctx.scheduler.dueAt(delay).toISOString(),
          detail: report.detail,
        },
        ...(r.outcome === "mailboxFullAfterData"
          ? { extra: { note: "accepted with other recipients: the 5.2.2 comes as a DSN" } }
          : {}),
      });
      ctx.scheduler.after(delay, () => deliver(entry, report.to, report.build));
    }
    callback(null, accepted.text);
  }

  interface Report {
    kind: "bounce" | "autoReply" | "complaint";
    to: string;
    detail: Record<string, unknown>;
    build: (now: Date) => string;
  }

  /** The report an accepted recipient's outcome calls for, if any. */
  function planReport(
    r: Recipient,
    session: SMTPServerSession,
    state: Session,
    headers: Map<string, string>,
    headerText: string,
    message: string | null,
    receivedAt: Date,
  ): Report | null {
    if (!REPORTED.has(r.outcome)) return null;
    const reportTo = ctx.scenario.email.reportTo;
    const to = reportTo === "envelope" ? state.from : reportTo;
    const v = vars(r, session);
    const subject = headers.get("subject") ?? "";
    const messageId = `${token((s) => r.draw("report-id", s), 16)}@${v.host}`;
    const boundary = `${token((s) => r.draw("boundary", s), 24)}/${v.host}`;
    switch (r.outcome) {
      case "bounceLater":
      case "softBounceLater":
      case "mailboxFullAfterData": {
        const kind = r.outcome === "bounceLater" ? "bounceLater" : "softBounceLater";
        const reply = phrase(bounceDiagnostics[r.family][kind], r.draw("phrase"), v);
        const remoteMta = `mailstore${1 + Math.floor(r.draw("mailstore") * 9)}.${v.domain}`;
        const diagnosticCode = `smtp; ${reply.code} ${reply.text}`;
        const style = bounceStyles[r.family];
        return {
          kind: "bounce",
          to,
          detail: {
            to,
            messageId,
            reportingMta: v.host,
            finalRecipient: r.address,
            action: "failed",
            status: reply.enhanced,
            remoteMta,
            diagnosticCode,
          },
          build: (now) =>
            buildDsn({
              from: style.from(v.host),
              to,
              subject: style.subject(subject || "(no subject)"),
              date: now,
              messageId,
              boundary,
              text: style.text({
                host: v.host,
                rcpt: r.address,
                remoteMta,
                diagnostic: `${reply.code} ${reply.text}`,
                // The user unknown at the next hop's RCPT; a full mailbox after its DATA.
                command: kind === "bounceLater" ? "rcpt" : "data",
              }),
              reportingMta: v.host,
              arrivalDate: receivedAt,
              recipients: [{
                finalRecipient: r.address,
                action: "failed",
                status: reply.enhanced,
                remoteMta,
                diagnosticCode,
                lastAttemptDate: now,
              }],
              originalHeaders: headerText,
            }),
        };
      }
      case "autoReply": {
        const subjects = autoReplySubjects[r.family];
        const replySubject = subjects[Math.floor(r.draw("subject") * subjects.length)]!(
          subject || "(no subject)",
        );
        const text = autoReplyBodies[Math.floor(r.draw("body") * autoReplyBodies.length)]!;
        const inReplyTo = headers.get("message-id");
        // An auto-reply comes from the recipient's own domain.
        const replyId = `${token((s) => r.draw("report-id", s), 16)}@${v.domain}`;
        return {
          kind: "autoReply",
          to,
          detail: {
            to,
            messageId: replyId,
            from: r.address,
            subject: replySubject,
            ...(inReplyTo ? { inReplyTo } : {}),
          },
          build: (now) =>
            buildAutoReply({
              from: r.address,
              to,
              subject: replySubject,
              date: now,
              messageId: replyId,
              ...(inReplyTo ? { inReplyTo } : {}),
              text,
            }),
        };
      }
      case "complaint": {
        const style = feedbackStyles[r.family];
        const fill = (s: string) => s.replace("{host}", v.host).replace("{ip}", v.ip);
        return {
          kind: "complaint",
          to,
          detail: {
            to,
            messageId,
            feedbackType: "abuse",
            userAgent: style.userAgent,
            originalMailFrom: state.from,
            originalRcptTo: r.address,
          },
          build: (now) =>
            buildFeedbackReport({
              from: fill(style.from),
              to,
              subject: fill(style.subject),
              date: now,
              messageId,
              boundary,
              text:
                `This is an email abuse report for an email message received from IP ${v.ip} on ${receivedAt.toUTCString()}.\nThe recipient marked it as spam.`,
              feedbackType: "abuse",
              userAgent: style.userAgent,
              originalMailFrom: state.from,
              originalRcptTo: r.address,
              arrivalDate: receivedAt,
              reportingMta: v.host,
              sourceIp: v.ip,
              original: message
                ? { kind: "message", raw: message }
                : { kind: "headers", raw: headerText },
            }),
        };
      }
      default:
        return null;
    }
  }

  /** Sends a report through the scenario's relay with a null envelope sender. */
  async function deliver(
    entry: LedgerEntry,
    to: string,
    build: (now: Date) => string,
  ): Promise<void> {
    if (closed || !entry.async) return;
    const detail = entry.async.detail;
    if (!to) {
      detail.undeliverable = "null envelope sender: nowhere to send the report";
      return;
    }
    const relay = ctx.scenario.email.relay;
    if (!relay) {
      detail.undeliverable = "no relay configured";
      return;
    }
    try {
      const info = await transportFor(relay).sendMail({
        envelope: { from: false, to: [to] },
        raw: build(new Date()),
      });
      ctx.ledger.markAsyncSent(entry, new Date(), {
        relay: `${relay.host}:${relay.port}`,
        response: info.response,
      });
    } catch (error) {
      detail.undeliverable = (error as Error).message;
    }
  }

  function transportFor(relay: { host: string; port: number }) {
    const key = `${relay.host}:${relay.port}`;
    let transport = transports.get(key);
    if (!transport) {
      transport = createTransport({
        host: relay.host,
        port: relay.port,
        secure: false,
        pool: true,
        maxConnections: 2,
        name: SERVER_NAME,
        // The gateway's inbound listener may offer STARTTLS with its own self-signed certificate.
        tls: { rejectUnauthorized: false },
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 30_000,
      });
      transport.on("error", () => {});
      transports.set(key, transport);
    }
    return transport;
  }

  await new Promise<void>((resolve, reject) => {
    smtp.server.once("error", reject);
    smtp.listen(port, host, () => {
      smtp.server.off("error", reject);
      resolve();
    });
  });
  port = (smtp.server.address() as { port: number }).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  return {
    urls: [`smtp://${urlHost}:${port}`],
    port,
    get protocolErrors() {
      return protocolErrors;
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(watch);
      for (const c of connections()) c._socket.destroy();
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
      for (const transport of transports.values()) transport.close();
    },
  };
}
