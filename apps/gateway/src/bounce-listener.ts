import { Buffer } from "node:buffer";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from "smtp-server";
import type { Database } from "@sendgate/db";
import type { Logger } from "./log.ts";
import { storeEmailReport } from "./services/email-reports.ts";

/**
 * The bounce listener (DOMAIN §4; issue 10): an SMTP server for the bounce domain that the email
 * channel puts in the VERP return path. It accepts mail only for that domain (no open relay:
 * any other recipient is refused with 550 5.7.1), stores each message raw in `email_reports`
 * and answers 250 only once the insert committed (451 4.3.0 when the database refused, so that
 * the sending MTA keeps it and tries again). Reports are parsed and applied later by the
 * dispatchers; the listener never parses in the session.
 */
export interface BounceListenerOptions {
  database: Database;
  logger: Logger;
  host: string;
  port: number;
  /** The domains accepted, looked up per recipient (the email channel's settings may change). */
  domains: () => Promise<readonly string[]>;
  /** Largest message accepted (SIZE); 64 MiB. */
  maxBytes?: number;
}

export interface RunningBounceListener {
  url: string;
  port: number;
  close(): Promise<void>;
}

const smtpError = (code: number, message: string) =>
  Object.assign(new Error(message), { responseCode: code });

export async function startBounceListener(
  options: BounceListenerOptions,
): Promise<RunningBounceListener> {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const log = options.logger;
  const server = new SMTPServer({
    name: "sendgate-bounces",
    banner: "Sendgate bounce listener",
    logger: false,
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    disableReverseLookup: true,
    size: maxBytes,
    // On close, sessions still open (an MTA's idle pooled connection) get 5 s, not 30.
    closeTimeout: 5_000,
    onRcptTo(address: SMTPServerAddress, _session: SMTPServerSession, callback) {
      const at = address.address.lastIndexOf("@");
      const domain = at < 0 ? "" : address.address.slice(at + 1).toLowerCase();
      options.domains().then((domains) => {
        if (domains.some((d) => d.toLowerCase() === domain)) return callback();
        log.warn({ rcpt: address.address }, "bounce listener refused a recipient (not our domain)");
        callback(smtpError(550, "5.7.1 Relaying denied: this server only takes reports"));
      }, () => callback(smtpError(451, "4.3.0 Temporary failure, try again later")));
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= maxBytes) chunks.push(chunk);
      });
      stream.on("error", (error) => callback(error));
      stream.on("end", () => {
        if (stream.sizeExceeded || size > maxBytes) {
          return callback(smtpError(552, "5.3.4 Message too big for this server"));
        }
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
        const to = session.envelope.rcptTo.map((r) => r.address);
        // One stored report per recipient address would store the same bytes twice; a report
        // names one VERP address, so one row with the first (the others are in `origin`).
        storeEmailReport(options.database, {
          source: "smtp",
          envelopeFrom: from,
          envelopeTo: to[0] ?? null,
          origin: to.length > 1 ? `also to ${to.slice(1).join(", ")}` : null,
          raw: Buffer.concat(chunks),
        }).then((id) => {
          log.debug({ id, from, to, size }, "bounce stored");
          callback(null, `2.0.0 Stored as report ${id}`);
        }, (error: Error) => {
          log.error({ err: error.message }, "bounce listener could not store a report");
          callback(smtpError(451, "4.3.0 Could not store the message, try again later"));
        });
      });
    },
  });
  server.on("error", (error: Error) => log.warn({ err: error.message }, "bounce listener error"));
  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.server.off("error", reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `smtp://${host}:${port}`,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
