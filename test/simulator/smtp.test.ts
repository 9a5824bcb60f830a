// The simulated remote mail server, driven over loopback by nodemailer (and a raw socket for
// malformed input); asynchronous reports are caught by a tiny smtp-server standing in for the
// gateway's inbound relay and parsed with mailparser.
import { Buffer } from "node:buffer";
import net from "node:net";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTransport } from "nodemailer";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { compileRules, defaultRuleSet, qualify } from "@sendgate/core";
import { SimulatorContext } from "../../apps/simulator/src/context.ts";
import { emailMagic } from "../../apps/simulator/src/magic.ts";
import { emailOutcomes } from "../../apps/simulator/src/outcomes.ts";
import { Scenario, type ScenarioInput } from "../../apps/simulator/src/scenario.ts";
import type { LedgerEntry } from "../../apps/simulator/src/ledger.ts";
import { type SmtpServerHandle, startSmtpServer } from "../../apps/simulator/src/smtp/server.ts";
import { buildDsn } from "../../apps/simulator/src/smtp/reports.ts";
import { parseBounce, qualifyBounce } from "@sendgate/channels";
import {
  bounceDiagnostics,
  bounceStyles,
  mtaFamilies,
  phrasebook,
  protocolReplies,
  render,
} from "../../apps/simulator/src/smtp/phrasing.ts";

const LOOPBACK = "127.0.0.1";
const scenario = (input: ScenarioInput) => Scenario.parse(input);

// ---------------------------------------------------------------------------------------------
// Helpers: the relay (the gateway's inbound listener), clients, a raw SMTP session.
// ---------------------------------------------------------------------------------------------

interface Received {
  from: string;
  to: string[];
  raw: string;
}

async function startRelay() {
  const received: Received[] = [];
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disableReverseLookup: true,
    disabledCommands: ["STARTTLS"],
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "(none)",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, () => resolve()));
  const port = (server.server.address() as net.AddressInfo).port;
  return {
    port,
    received,
    /** Waits until a received message satisfies `match`. */
    async waitFor(match: (r: Received) => boolean, timeoutMs = 10_000): Promise<Received> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = received.find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error("no such message reached the relay");
        await sleep(10);
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const client = (port: number, extra: Record<string, unknown> = {}) =>
  createTransport({
    host: LOOPBACK,
    port,
    secure: false,
    ignoreTLS: true,
    connectionTimeout: 5_000,
    greetingTimeout: 5_000,
    socketTimeout: 5_000,
    ...extra,
  });

interface SendResult {
  ok: boolean;
  response?: string;
  responseCode?: number;
  code?: string;
  rejected?: string[];
}

async function send(
  port: number,
  to: string | string[],
  extra: { headers?: Record<string, string>; messageId?: string; from?: string; subject?: string } =
    {},
): Promise<SendResult> {
  const transport = client(port);
  try {
    const info = await transport.sendMail({
      from: extra.from ?? "news@sender.example",
      to,
      subject: extra.subject ?? "Hello",
      text: "Hello there.\n",
      ...(extra.headers ? { headers: extra.headers } : {}),
      ...(extra.messageId ? { messageId: extra.messageId } : {}),
    });
    return { ok: true, response: info.response, rejected: (info.rejected as string[]) ?? [] };
  } catch (error) {
    const e = error as { response?: string; responseCode?: number; code?: string };
    return { ok: false, response: e.response, responseCode: e.responseCode, code: e.code };
  } finally {
    transport.close();
  }
}

/** A line-oriented SMTP session on a plain socket, for what a well-behaved client never sends. */
async function raw(port: number) {
  const socket = net.connect(port, LOOPBACK);
  let buffer = "";
  let closed = false;
  socket.setEncoding("utf8");
  socket.on("data", (d: string) => (buffer += d));
  socket.on("close", () => (closed = true));
  socket.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  /** The next complete reply (the last line of a multi-line one has a space after the code). */
  async function reply(timeoutMs = 5_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/u.exec(buffer);
      if (m) {
        buffer = buffer.slice(m[0].length);
        return m[0].trim();
      }
      if (closed) return "(closed)";
      if (Date.now() > deadline) return "(timeout)";
      await sleep(5);
    }
  }
  return {
    reply,
    command(line: string) {
      socket.write(`${line}\r\n`);
      return reply();
    },
    write: (text: string) => socket.write(text),
    get closed() {
      return closed;
    },
    end: () => socket.destroy(),
  };
}

const entriesFor = (ctx: SimulatorContext, recipient: string) =>
  ctx.ledger.since(0, 100_000).filter((e) => e.recipient === recipient);

/** The fields of a message/delivery-status or message/feedback-report part, per block. */
function fieldBlocks(text: string): Record<string, string>[] {
  return text.replace(/\r?\n[ \t]+/gu, " ").split(/\r?\n\r?\n/u).filter((b) => b.trim()).map(
    (block) =>
      Object.fromEntries(
        block.split(/\r?\n/u).filter(Boolean).map((line) => {
          const i = line.indexOf(":");
          return [line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()];
        }),
      ),
  );
}

// ---------------------------------------------------------------------------------------------
// Qualification: every phrase the server can say must qualify as its outcome expects.
// ---------------------------------------------------------------------------------------------

describe("phrasing", () => {
  const rules = compileRules(defaultRuleSet);
  // The phrases quote the recipient: try plain, magic and bad-domain addresses.
  const recipients = [
    "jane.doe@example.com",
    "someone@unknown-domain.example",
    "x@mail.invalid",
    ...Object.keys(emailMagic).map((local) => `${local}@example.com`),
  ];
  const vars = (rcpt: string) => {
    const [local, domain] = rcpt.split("@") as [string, string];
    return { rcpt, local, domain, ip: "127.0.0.1", host: "mx1.example.com", id: "4F2A9C01B7E3" };
  };

  it("qualifies every reply of every family to its outcome's expected type and reason", () => {
    let checked = 0;
    for (const family of mtaFamilies) {
      for (const [outcome, templates] of Object.entries(phrasebook[family])) {
        const expected = emailOutcomes[outcome as keyof typeof emailOutcomes].expected;
        expect(templates.length, `${family} ${outcome}`).toBeGreaterThanOrEqual(1);
        for (const template of templates) {
          for (const rcpt of recipients) {
            const reply = render(template, vars(rcpt));
            const { verdict } = qualify(rules, {
              channel: "email",
              kind: "smtp",
              code: reply.code,
              enhanced: reply.enhanced,
              text: reply.text,
            });
            expect(verdict, `${family} ${outcome}: ${reply.code} ${reply.text}`).toMatchObject({
              outcome: "failure",
              type: "type" in expected ? expected.type : undefined,
              reason: "reason" in expected ? expected.reason : undefined,
            });
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(6 * 8 * 2 * recipients.length - 1);
  });

  it("qualifies every DSN diagnostic as the bounce outcome expects", () => {
    for (const family of mtaFamilies) {
      for (const [outcome, templates] of Object.entries(bounceDiagnostics[family])) {
        const expected = emailOutcomes[outcome as "bounceLater" | "softBounceLater"].expected;
        for (const template of templates) {
          const reply = render(template, vars("jane.doe@example.com"));
          const { verdict } = qualify(rules, {
            channel: "email",
            kind: "dsn",
            action: "failed",
            status: reply.enhanced,
            diagnosticCode: `smtp; ${reply.code} ${reply.text}`,
          });
          expect(verdict, `${family} ${outcome}: ${reply.text}`).toMatchObject({
            type: expected.type,
            reason: expected.reason,
          });
        }
      }
    }
  });

  it("writes whole DSNs that the gateway's parser and rules read as the outcome expects", async () => {
    // The report as the server builds it (the family's human-readable text with its stage
    // phrase, the delivery-status part), parsed and qualified as the gateway's listener does.
    for (const family of mtaFamilies) {
      for (const [outcome, templates] of Object.entries(bounceDiagnostics[family])) {
        const kind = outcome as "bounceLater" | "softBounceLater";
        const expected = emailOutcomes[kind].expected;
        for (const template of templates) {
          const rcpt = "jane.doe@example.com";
          const reply = render(template, vars(rcpt));
          const style = bounceStyles[family];
          const raw = buildDsn({
            from: style.from("mx.sim.example"),
            to: "bounces+m1-abcdefghijklmnop@bounces.gateway.test",
            subject: style.subject("Hello"),
            date: new Date(0),
            messageId: "dsn-1@mx.sim.example",
            boundary: "b1/mx.sim.example",
            text: style.text({
              host: "mx.sim.example",
              rcpt,
              remoteMta: "mailstore1.example.com",
              diagnostic: `${reply.code} ${reply.text}`,
              command: kind === "bounceLater" ? "rcpt" : "data",
            }),
            reportingMta: "mx.sim.example",
            arrivalDate: new Date(0),
            recipients: [{
              finalRecipient: rcpt,
              action: "failed",
              status: reply.enhanced,
              remoteMta: "mailstore1.example.com",
              diagnosticCode: `smtp; ${reply.code} ${reply.text}`,
            }],
            originalHeaders: "X-Sendgate-Id: m1-abcdefghijklmnop\r\n",
          });
          const [line] = qualifyBounce(rules, await parseBounce(raw));
          expect(line, `${family} ${kind}: ${reply.text}`).toMatchObject({
            recipient: rcpt,
            type: expected.type,
            reason: expected.reason,
          });
        }
      }
    }
  });

  it("uses several families and several phrasings per outcome", () => {
    const texts = new Set(
      mtaFamilies.flatMap((f) => phrasebook[f].userUnknown.map((t) => t.text)),
    );
    expect(texts.size).toBeGreaterThanOrEqual(10);
    for (const f of mtaFamilies) {
      expect(new Set(phrasebook[f].badDomain.map((t) => t.enhanced))).toEqual(
        new Set(["5.1.2", "5.4.4"]),
      );
    }
  });

  it("qualifies the server's own refusals (too large, refused during a fault)", () => {
    for (
      const [reply, type, reason] of [[protocolReplies.tooLarge, "soft", 20], [
        protocolReplies.refused,
        "ignored",
        3,
      ]] as const
    ) {
      expect(
        qualify(rules, { channel: "email", kind: "smtp", code: reply.code, text: reply.text })
          .verdict,
      )
        .toMatchObject({ type, reason });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The server: outcomes, ledger, reports.
// ---------------------------------------------------------------------------------------------

describe("remote mail server", () => {
  let ctx: SimulatorContext;
  let server: SmtpServerHandle;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  // Asynchronous delays of one second to one minute pass in microseconds.
  const base = (relayPort: number, email: ScenarioInput["email"] = {}): Scenario =>
    scenario({ seed: 42, timeScale: 1_000_000, email: { relay: { port: relayPort }, ...email } });

  beforeAll(async () => {
    relay = await startRelay();
    ctx = new SimulatorContext(base(relay.port));
    server = await startSmtpServer(ctx, { host: LOOPBACK, port: 0 });
  });

  afterAll(async () => {
    await server?.close();
    ctx?.close();
    await relay?.close();
  });

  it("listens on loopback and says so in its url", () => {
    expect(server.urls).toEqual([`smtp://${LOOPBACK}:${server.port}`]);
  });

  it.each<[string, number, RegExp]>([
    ["unknown", 550, /^550 5\.1\.1 /u],
    ["mailboxfull", 452, /^452 4\.2\.2 /u],
    ["disabled", 550, /^550 5\.2\.1 /u],
    ["spam", 554, /^554 5\.7\.1 /u],
    ["greylist", 450, /^450 4\.7\.1 /u],
    ["trylater", 421, /^421 4\.7\.0 /u],
  ])("answers %s@ at RCPT TO with %i and records it", async (local, code, pattern) => {
    const rcpt = `${local}@example.com`;
    const r = await send(server.port, rcpt);
    expect(r.ok).toBe(false);
    expect(r.responseCode).toBe(code);
    expect(r.response).toMatch(pattern);
    const [entry] = entriesFor(ctx, rcpt);
    expect(entry).toMatchObject({
      channel: "email",
      outcome: emailMagic[local],
      decidedBy: "magic",
      sync: { smtp: { code } },
      expected: emailOutcomes[emailMagic[local]!].expected,
      extra: { envelopeFrom: "news@sender.example", stage: "rcpt" },
    });
    // Refused before any message existed: envelope-from|rcpt|session.
    expect(entry!.id).toMatch(
      new RegExp(`^news@sender\\.example\\|${local}@example\\.com\\|S\\d{6}$`, "u"),
    );
    expect(r.response).toBe(`${code} ${entry!.sync.smtp!.text}`);
  });

  it("answers a bad domain with 550 5.1.2 or 5.4.4", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 2; i++) {
      const r = await send(server.port, `user${i}@unknown-domain-${i}.example`);
      expect(r.responseCode).toBe(550);
      seen.add(/^550 (5\.\d\.\d) /u.exec(r.response ?? "")?.[1] ?? "?");
    }
    expect([...seen].every((s) => s === "5.1.2" || s === "5.4.4")).toBe(true);
    expect(entriesFor(ctx, "user0@unknown-domain-0.example")[0]).toMatchObject({
      outcome: "badDomain",
      expected: { type: "soft", reason: 2 },
    });
  });

  it("closes the connection after 421", async () => {
    const s = await raw(server.port);
    expect(await s.reply()).toMatch(/^220 /u);
    expect(await s.command("EHLO client.example")).toMatch(/^250/u);
    expect(await s.command("MAIL FROM:<a@sender.example>")).toMatch(/^250/u);
    expect(await s.command("RCPT TO:<trylater@example.com>")).toMatch(/^421 4\.7\.0 /u);
    expect(await s.reply()).toBe("(closed)");
    s.end();
  });

  it("drops the connection for drop@", async () => {
    const r = await send(server.port, "drop@example.com");
    expect(r.ok).toBe(false);
    expect(r.responseCode).toBeUndefined();
    expect(entriesFor(ctx, "drop@example.com")[0]).toMatchObject({
      outcome: "drop",
      sync: { none: expect.any(String) },
      expected: { status: "failed", type: "ignored", reason: 3 },
    });
  });

  it("accepts success@ and records it under X-Sendgate-Id, else under Message-ID", async () => {
    const a = await send(server.port, "success@example.com", {
      headers: { "X-Sendgate-Id": "sg-0001" },
    });
    expect(a.ok).toBe(true);
    expect(a.response).toMatch(/^250 2\.\d\.0 /u);
    expect(ctx.ledger.get("sg-0001")).toMatchObject([{
      recipient: "success@example.com",
      outcome: "accept",
      sync: { smtp: { code: 250 } },
      expected: { status: "sent" },
    }]);
    const b = await send(server.port, "success+2@example.com", {
      messageId: "<m-0002@sender.example>",
    });
    expect(b.ok).toBe(true);
    expect(ctx.ledger.get("m-0002@sender.example")).toHaveLength(1);
  });

  it("records one entry per recipient of a message", async () => {
    const r = await send(server.port, [
      "success+a@example.com",
      "unknown+b@example.com",
      "success+c@example.com",
    ], {
      headers: { "X-Sendgate-Id": "sg-multi" },
    });
    expect(r.ok).toBe(true);
    expect(r.rejected).toEqual(["unknown+b@example.com"]);
    expect(ctx.ledger.get("sg-multi").map((e) => e.recipient).sort()).toEqual([
      "success+a@example.com",
      "success+c@example.com",
    ]);
    expect(entriesFor(ctx, "unknown+b@example.com")[0]!.id).toMatch(
      /\|unknown\+b@example\.com\|S\d{6}$/u,
    );
  });

  it("answers full-after-data@ with 552 5.2.2 after DATA", async () => {
    const r = await send(server.port, "full-after-data@example.com", {
      headers: { "X-Sendgate-Id": "sg-full" },
    });
    expect(r.ok).toBe(false);
    expect(r.responseCode).toBe(552);
    expect(r.response).toMatch(/^552 5\.2\.2 /u);
    expect(ctx.ledger.get("sg-full")).toMatchObject([{
      outcome: "mailboxFullAfterData",
      sync: { smtp: { code: 552, enhanced: "5.2.2" } },
      expected: { type: "soft", reason: 5 },
      extra: { stage: "data" },
    }]);
  });

  it("accepts a message whose recipients are only partly full, and bounces the full ones later", async () => {
    const r = await send(server.port, ["full-after-data+x@example.com", "success+y@example.com"], {
      headers: { "X-Sendgate-Id": "sg-partly-full" },
      from: "bounces+partly@sender.example",
    });
    expect(r.ok).toBe(true);
    const dsn = await relay.waitFor((m) => m.to.includes("bounces+partly@sender.example"));
    expect(dsn.raw).toMatch(/^Status: 5\.2\.2$/mu);
    const [full] = ctx.ledger.get("sg-partly-full").filter((e) =>
      e.outcome === "mailboxFullAfterData"
    );
    expect(full).toMatchObject({
      sync: { smtp: { code: 250 } },
      async: { kind: "bounce", detail: { status: "5.2.2" } },
    });
  });

  it("delivers bounceLater and softBounceLater as parseable RFC 3464 DSNs to the envelope sender", async () => {
    for (const [local, status] of [["bounce", "5.1.1"], ["softbounce", "5.2.2"]] as const) {
      const id = `sg-dsn-${local}`;
      const from = `bounces+${local}@sender.example`;
      const r = await send(server.port, `${local}@example.com`, {
        from,
        subject: "Your invoice",
        headers: { "X-Sendgate-Id": id },
      });
      expect(r.ok).toBe(true);
      const message = await relay.waitFor((m) => m.to.includes(from));
      // Null envelope sender, to the original's envelope sender (VERP).
      expect(message.from).toBe("");
      expect(message.to).toEqual([from]);
      const parsed = await simpleParser(message.raw, { keepDeliveryStatus: true });
      expect(parsed.headers.get("content-type")).toMatchObject({
        value: "multipart/report",
        params: { "report-type": "delivery-status" },
      });
      expect(parsed.text).toBeTruthy();
      const statusPart = parsed.attachments.find((a) =>
        a.contentType === "message/delivery-status"
      );
      const headersPart = parsed.attachments.find((a) => a.contentType === "text/rfc822-headers");
      expect(statusPart).toBeDefined();
      expect(headersPart?.content.toString()).toMatch(new RegExp(`^X-Sendgate-Id: ${id}$`, "imu"));
      const [perMessage, perRecipient] = fieldBlocks(statusPart!.content.toString());
      expect(perMessage).toMatchObject({
        "reporting-mta": expect.stringMatching(/^dns; /u),
        "arrival-date": expect.any(String),
      });

      const [entry] = ctx.ledger.get(id);
      await expect.poll(() => entry!.async?.sentAt).toBeTruthy();
      expect(entry).toMatchObject({
        outcome: local === "bounce" ? "bounceLater" : "softBounceLater",
        sync: { smtp: { code: 250 } },
        async: {
          kind: "bounce",
          detail: { status, action: "failed", finalRecipient: `${local}@example.com` },
        },
      });
      const detail = entry!.async!.detail;
      expect(perRecipient).toMatchObject({
        "final-recipient": `rfc822; ${local}@example.com`,
        action: "failed",
        status,
        "remote-mta": `dns; ${detail.remoteMta}`,
        "diagnostic-code": detail.diagnosticCode,
      });
      expect(perRecipient!["diagnostic-code"]).toMatch(
        new RegExp(`^smtp; 55\\d ${status.replace(/\./gu, "\\.")} `, "u"),
      );
      // And the gateway's core reads the DSN as the outcome expects.
      const { verdict } = qualify(compileRules(defaultRuleSet), {
        channel: "email",
        kind: "dsn",
        action: perRecipient!.action!,
        status: perRecipient!.status,
        diagnosticCode: perRecipient!["diagnostic-code"],
      });
      expect(verdict).toMatchObject({ type: entry!.expected.type, reason: entry!.expected.reason });
    }
  });

  it("sends reports to the configured address when reportTo is one", async () => {
    ctx.setScenario(base(relay.port, { reportTo: "dsn@gateway.example" }));
    try {
      const r = await send(server.port, "bounce+fixed@example.com", {
        headers: { "X-Sendgate-Id": "sg-fixed" },
      });
      expect(r.ok).toBe(true);
      const message = await relay.waitFor((m) => m.raw.includes("bounce+fixed@example.com"));
      expect(message.to).toEqual(["dsn@gateway.example"]);
    } finally {
      ctx.setScenario(base(relay.port));
    }
  });

  it("delivers an RFC 3834 auto-reply for ooto@", async () => {
    const from = "bounces+ooto@sender.example";
    await send(server.port, "ooto@example.com", {
      from,
      subject: "Meeting",
      messageId: "<m-ooto@sender.example>",
    });
    const message = await relay.waitFor((m) => m.to.includes(from));
    const parsed = await simpleParser(message.raw);
    expect(parsed.headers.get("auto-submitted")).toBe("auto-replied");
    expect(parsed.inReplyTo).toBe("<m-ooto@sender.example>");
    // RFC 3834 §3.1.5: the original's subject, after a responder's prefix.
    expect(parsed.subject).toMatch(
      /^(?:Automatic reply|Out of [Oo]ffice(?: AutoReply| Re)?|Auto(?: Response)?): Meeting$|^Out of office \(was: Meeting\)$/u,
    );
    expect(parsed.from?.value[0]?.address).toBe("ooto@example.com");
    expect(ctx.ledger.get("m-ooto@sender.example")).toMatchObject([{
      outcome: "autoReply",
      expected: { status: "sent" },
      async: { kind: "autoReply", sentAt: expect.any(String), detail: { subject: parsed.subject } },
    }]);
  });

  it("folds a long non-ASCII report subject so that decoders show no leading space", async () => {
    const subject = "Votre facture d'été — numéro 2026-0042, à régler avant le 15 décembre";
    for (const local of ["bounce", "ooto"]) {
      const from = `bounces+fold-${local}@sender.example`;
      await send(server.port, `${local}@example.com`, { from, subject });
      const message = await relay.waitFor((m) => m.to.includes(from));
      const head = message.raw.slice(0, message.raw.indexOf("\r\n\r\n"));
      expect(head, local).not.toMatch(/^Subject:\r\n/mu);
      const parsed = await simpleParser(message.raw);
      expect(parsed.subject, local).not.toMatch(/^\s/u);
      expect(parsed.subject, local).toContain(subject);
      if (local === "bounce") expect(parsed.headers.get("auto-submitted")).toBe("auto-generated");
    }
  });

  it("sends no report for a message with a null sender (RFC 5321 §4.5.5)", async () => {
    const transport = client(server.port);
    try {
      await transport.sendMail({
        envelope: { from: "", to: ["bounce@example.com"] },
        raw: "From: <>\r\nTo: bounce@example.com\r\nSubject: a report\r\n" +
          "Message-ID: <m-null@sender.example>\r\n\r\nA report of ours.\r\n",
      });
    } finally {
      transport.close();
    }
    const [entry] = ctx.ledger.get("m-null@sender.example") as LedgerEntry[];
    expect(entry).toMatchObject({
      outcome: "bounceLater",
      expected: { status: "sent" },
      extra: { envelopeFrom: "" },
    });
    expect(entry!.async).toBeUndefined();
  });

  it("delivers an RFC 5965 ARF complaint for complaint@ with the original message", async () => {
    const from = "bounces+complaint@sender.example";
    await send(server.port, "complaint@example.com", {
      from,
      headers: { "X-Sendgate-Id": "sg-arf" },
    });
    const message = await relay.waitFor((m) => m.to.includes(from));
    const parsed = await simpleParser(message.raw);
    expect(parsed.headers.get("content-type")).toMatchObject({
      value: "multipart/report",
      params: { "report-type": "feedback-report" },
    });
    const report = parsed.attachments.find((a) => a.contentType === "message/feedback-report");
    const [fields] = fieldBlocks(report!.content.toString());
    expect(fields).toMatchObject({
      "feedback-type": "abuse",
      version: "1",
      "original-mail-from": `<${from}>`,
      "original-rcpt-to": "<complaint@example.com>",
      "user-agent": expect.any(String),
      "arrival-date": expect.any(String),
    });
    // mailparser renders an inline message/rfc822 as text: read the third part off the raw MIME.
    const boundary =
      (parsed.headers.get("content-type") as unknown as { params: { boundary: string } }).params
        .boundary;
    const original = message.raw.split(`--${boundary}`).find((p) =>
      /^Content-Type: message\/rfc822$/imu.test(p)
    );
    expect(original).toMatch(/^X-Sendgate-Id: sg-arf$/imu);
    expect(original).toContain("Hello there.");
    expect(ctx.ledger.get("sg-arf")).toMatchObject([{
      outcome: "complaint",
      expected: { status: "sent", denylist: true },
      async: { kind: "complaint", detail: { feedbackType: "abuse" } },
    }]);
  });

  it("records a report as undeliverable when no relay is configured", async () => {
    ctx.setScenario(scenario({ seed: 42, timeScale: 1_000_000 }));
    try {
      await send(server.port, "bounce+norelay@example.com", {
        headers: { "X-Sendgate-Id": "sg-norelay" },
      });
      const [entry] = ctx.ledger.get("sg-norelay");
      await expect.poll(() => entry!.async?.detail.undeliverable).toBe("no relay configured");
      expect(entry!.async!.sentAt).toBeUndefined();
    } finally {
      ctx.setScenario(base(relay.port));
    }
  });

  it("adds the scenario's latency to RCPT TO answers", async () => {
    ctx.setScenario(base(relay.port, { latency: { minMs: 250, maxMs: 250 } }));
    try {
      const started = Date.now();
      const r = await send(server.port, "unknown+slow@example.com");
      expect(r.responseCode).toBe(550);
      expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    } finally {
      ctx.setScenario(base(relay.port));
    }
  });

  it("offers STARTTLS with its own certificate", async () => {
    const s = await raw(server.port);
    await s.reply();
    const ehlo = await s.command("EHLO client.example");
    for (
      const ext of [
        "PIPELINING",
        "8BITMIME",
        "STARTTLS",
        "ENHANCEDSTATUSCODES",
        `SIZE ${10 * 1024 * 1024}`,
      ]
    ) {
      expect(ehlo).toContain(ext);
    }
    s.end();
    const transport = client(server.port, {
      ignoreTLS: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false, servername: "localhost" },
    });
    try {
      const info = await transport.sendMail({
        from: "a@sender.example",
        to: "success+tls@example.com",
        subject: "tls",
        text: "over TLS",
        headers: { "X-Sendgate-Id": "sg-tls" },
      });
      expect(info.response).toMatch(/^250 /u);
    } finally {
      transport.close();
    }
    expect(ctx.ledger.get("sg-tls")).toHaveLength(1);
    // And the certificate names localhost.
    const peerCn = await new Promise((resolve, reject) => {
      const sock = net.connect(server.port, LOOPBACK);
      const steps: [RegExp, string | null][] = [[/^220 /mu, "EHLO c"], [/^250 /mu, "STARTTLS"], [
        /^220 /mu,
        null,
      ]];
      let buf = "";
      const onData = (d: string) => {
        buf += d;
        const [until, next] = steps[0]!;
        if (!until.test(buf)) return;
        buf = "";
        steps.shift();
        if (next) return void sock.write(`${next}\r\n`);
        sock.off("data", onData);
        const secure = tls.connect({
          socket: sock,
          rejectUnauthorized: false,
          servername: "localhost",
        }, () => {
          resolve(secure.getPeerCertificate().subject?.CN);
          secure.destroy();
        });
        secure.on("error", reject);
      };
      sock.setEncoding("utf8");
      sock.on("data", onData);
      sock.on("error", reject);
    });
    expect(peerCn).toBe("localhost");
  });

  it("answers bad input with SMTP's own codes, counts it and keeps serving", async () => {
    const before = server.protocolErrors;
    const s = await raw(server.port);
    expect(await s.reply()).toMatch(/^220 /u);
    expect(await s.command("MAIL FROM:<a@sender.example>")).toMatch(/^503 /u); // before EHLO
    expect(await s.command("FOO bar")).toMatch(/^500 5\.5\.2 /u);
    expect(await s.command("EHLO client.example")).toMatch(/^250/u);
    expect(await s.command("RCPT TO:<x@example.com>")).toMatch(/^503 /u); // before MAIL
    expect(await s.command("MAIL FROM:<not an address")).toMatch(/^501 /u);
    expect(await s.command(`MAIL FROM:<a@sender.example> SIZE=${10 * 1024 * 1024 + 1}`)).toMatch(
      /^552 5\.3\.4 /u,
    );
    expect(await s.command("MAIL FROM:<a@sender.example>")).toMatch(/^250 /u);
    expect(await s.command("RCPT TO:<@@@>")).toMatch(/^501 /u);
    expect(await s.command("DATA")).toMatch(/^503 /u); // no recipient yet
    expect(await s.command("RCPT TO:<success+raw@example.com>")).toMatch(/^250 /u);
    expect(await s.command("\u0001\u0002\u0003 binary junk")).toMatch(/^500 /u);
    expect(await s.command("QUIT")).toMatch(/^221 /u);
    s.end();
    expect(server.protocolErrors - before).toBeGreaterThanOrEqual(8);
    // Still serving.
    expect((await send(server.port, "success+after-junk@example.com")).ok).toBe(true);
  });

  it("refuses a message over SIZE with 552 5.3.4 and records it as the protocol's decision", async () => {
    ctx.setScenario(base(relay.port, { maxMessageBytes: 2_000 }));
    try {
      const before = server.protocolErrors;
      const s = await raw(server.port);
      await s.reply();
      expect(await s.command("EHLO client.example")).toContain("SIZE 2000");
      expect(await s.command("MAIL FROM:<a@sender.example>")).toMatch(/^250 /u);
      expect(await s.command("RCPT TO:<success+big@example.com>")).toMatch(/^250 /u);
      expect(await s.command("DATA")).toMatch(/^354 /u);
      s.write(
        `X-Sendgate-Id: sg-big\r\nSubject: big\r\n\r\n${"x".repeat(76)}\r\n`.repeat(1) +
          `${"y".repeat(76)}\r\n`.repeat(60),
      );
      expect(await s.command(".")).toMatch(/^552 5\.3\.4 /u);
      expect(await s.command("QUIT")).toMatch(/^221 /u);
      s.end();
      expect(server.protocolErrors).toBe(before + 1);
      expect(ctx.ledger.get("sg-big")).toMatchObject([{
        outcome: "tooLarge",
        decidedBy: "protocol",
        sync: { smtp: { code: 552, enhanced: "5.3.4" } },
        expected: { status: "failed", type: "soft", reason: 20 },
      }]);
    } finally {
      ctx.setScenario(base(relay.port));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Determinism: same seed, same recipients, same ledger.
// ---------------------------------------------------------------------------------------------

describe("determinism", () => {
  const mix = {
    accept: 3,
    userUnknown: 1,
    mailboxFull: 1,
    badDomain: 1,
    disabled: 1,
    spam: 1,
    greylist: 1,
    tryLater: 1,
    drop: 1,
    mailboxFullAfterData: 1,
    bounceLater: 1,
    softBounceLater: 1,
    autoReply: 1,
    complaint: 1,
  };

  async function run(): Promise<unknown[]> {
    const ctx = new SimulatorContext(
      scenario({ seed: 2024, timeScale: 1_000_000, email: { mix } }),
    );
    const server = await startSmtpServer(ctx, { host: LOOPBACK, port: 0 });
    const transport = client(server.port, { pool: true, maxConnections: 1 });
    try {
      for (let i = 0; i < 30; i++) {
        const to = `person${i % 20}@example${i % 3}.com`;
        await transport.sendMail({
          from: "news@sender.example",
          to,
          subject: `n${i}`,
          text: "hi",
          headers: { "X-Sendgate-Id": `det-${i}` },
          messageId: `<det-${i}@sender.example>`,
        }).catch(() => undefined);
      }
      await expect.poll(() => ctx.scheduler.pending).toBe(0);
      return ctx.ledger.since(0, 1000).map((e: LedgerEntry) => {
        const { receivedAt: _r, async, ...rest } = e;
        if (!async) return rest;
        const { dueAt: _d, sentAt: _s, ...keep } = async;
        return { ...rest, async: keep };
      });
    } finally {
      transport.close();
      await server.close();
      ctx.close();
    }
  }

  it("gives identical ledgers (timestamps aside) for the same seed and recipients", async () => {
    const a = await run();
    const b = await run();
    expect(a.length).toBeGreaterThanOrEqual(25);
    expect(new Set(a.map((e) => (e as { outcome: string }).outcome)).size).toBeGreaterThanOrEqual(
      6,
    );
    expect(b).toEqual(a);
  });
});

// ---------------------------------------------------------------------------------------------
// Scheduled faults (real time: timeScale 1).
// ---------------------------------------------------------------------------------------------

describe("faults", () => {
  async function withFaults(faults: NonNullable<ScenarioInput["email"]>["faults"]) {
    const ctx = new SimulatorContext(scenario({ seed: 1, timeScale: 1, email: { faults } }));
    const server = await startSmtpServer(ctx, { host: LOOPBACK, port: 0 });
    const elapsed = () => ctx.scheduler.elapsed();
    return {
      ctx,
      server,
      elapsed,
      async until(ms: number) {
        while (elapsed() < ms) await sleep(5);
      },
      async close() {
        await server.close();
        ctx.close();
      },
    };
  }

  it("drop: cuts connections as they arrive and in the middle of a session", async () => {
    const f = await withFaults([{ atMs: 600, durationMs: 700, kind: "drop" }]);
    try {
      const s = await raw(f.server.port);
      expect(await s.reply()).toMatch(/^220 /u);
      expect(await s.command("EHLO client.example")).toMatch(/^250/u);
      // Idle in the session when the fault starts: cut.
      expect(await s.reply(3_000)).toBe("(closed)");
      expect(f.elapsed()).toBeGreaterThanOrEqual(600);
      await f.until(700);
      const r = await send(f.server.port, "success@example.com");
      expect(r.ok).toBe(false);
      expect(r.responseCode).toBeUndefined();
      await f.until(1_350);
      expect((await send(f.server.port, "success@example.com")).ok).toBe(true);
    } finally {
      await f.close();
    }
  });

  it("stall: accepts the connection but answers nothing until the fault ends", async () => {
    const f = await withFaults([{ atMs: 0, durationMs: 800, kind: "stall" }]);
    try {
      const s = await raw(f.server.port);
      expect(await s.reply(300)).toBe("(timeout)");
      expect(s.closed).toBe(false);
      const greeting = await s.reply(3_000);
      expect(greeting).toMatch(/^220 /u);
      expect(f.elapsed()).toBeGreaterThanOrEqual(790);
      expect(await s.command("EHLO client.example")).toMatch(/^250/u);
      s.end();
    } finally {
      await f.close();
    }
  });

  it("refuse: answers 421 at connect and closes", async () => {
    const f = await withFaults([{ atMs: 0, durationMs: 60_000, kind: "refuse" }]);
    try {
      const s = await raw(f.server.port);
      expect(await s.reply()).toMatch(/^421 4\.3\.2 /u);
      expect(await s.reply()).toBe("(closed)");
      const r = await send(f.server.port, "success@example.com");
      expect(r.responseCode).toBe(421);
      expect(f.ctx.ledger.size).toBe(0);
    } finally {
      await f.close();
    }
  });

  it("restart: closes the listener and listens again when the fault ends", async () => {
    const f = await withFaults([{ atMs: 400, durationMs: 800, kind: "restart" }]);
    try {
      const s = await raw(f.server.port);
      expect(await s.reply()).toMatch(/^220 /u);
      expect(await s.reply(3_000)).toBe("(closed)");
      await f.until(550);
      const refused = await new Promise<string>((resolve) => {
        const sock = net.connect(f.server.port, LOOPBACK);
        sock.on("connect", () => {
          sock.destroy();
          resolve("connected");
        });
        sock.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
      });
      expect(refused).toBe("ECONNREFUSED");
      await f.until(1_300);
      expect((await send(f.server.port, "success@example.com")).ok).toBe(true);
    } finally {
      await f.close();
    }
  });
});
