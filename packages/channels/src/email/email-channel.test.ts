// The email channel against the simulated remote mail server on loopback: relay mode to its
// SMTP port, direct mode through a stub MX resolver that answers 127.0.0.1 and the same port.
// What the simulator received is read from its ledger, and whole from the ARF complaint it sends
// for `complaint@` (the original message quoted in full) to a small SMTP sink standing in for
// the gateway's inbound listener.
import { Buffer } from "node:buffer";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { compileRules, defaultRuleSet, qualify } from "@sendgate/core";
import { type RunningSimulator, Scenario, startSimulator } from "@sendgate/simulator";
import type { ChannelAdapter, OutgoingMessage, SendOutcome } from "../channel.ts";
import { messageToken } from "../token.ts";
import { createEmailChannel, type EmailChannelConfig, type MxResolver } from "./email-channel.ts";

const SECRET = "channel-test-secret";
const LOOPBACK = "127.0.0.1";
const rules = compileRules(defaultRuleSet);

let sim: RunningSimulator;
let smtpPort: number;
let sink: Awaited<ReturnType<typeof startSink>>;

/** The gateway's inbound listener, for the reports the simulator sends. */
async function startSink() {
  const received: { to: string[]; raw: Buffer }[] = [];
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
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
        });
        callback();
      });
    },
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, () => resolve()));
  return {
    port: (server.server.address() as net.AddressInfo).port,
    async waitFor(to: string, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = received.find((r) => r.to.includes(to));
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`nothing reached the sink for ${to}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

beforeAll(async () => {
  sink = await startSink();
  sim = await startSimulator(
    // Reports (the complaint) come microseconds of real time after the message.
    Scenario.parse({ seed: 7, timeScale: 1_000_000, email: { relay: { port: sink.port } } }),
    { smtpPort: 0, smppPort: null, pushPort: null },
  );
  smtpPort = Number(new URL(sim.urls.smtp![0]!).port);
});

afterAll(async () => {
  await sim?.close();
  await sink?.close();
});

let nextId = 1;
const content = {
  from: "Équipe Été <news@sender.example>",
  subject: "Hello {{first}}",
  text: "Dear {{first}}, from {{city|your town}}.",
  html: "<p>Dear {{first}}, from <b>{{city|your town}}</b>.</p>",
};
function message(address: string, over: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    id: nextId++,
    deliveryId: "delivery-1",
    instanceId: "instance-1",
    attempt: 1,
    externalId: `ext-${nextId}`,
    address,
    addressData: null,
    fields: { first: "Jane" },
    content,
    ...over,
  };
}

const common = {
  tokenSecret: SECRET,
  bounceDomain: "bounce.sendgate.example",
  messageIdDomain: "mid.sendgate.example",
  unsubscribeBaseUrl: "https://u.sendgate.example/u/",
};

const relayConfig = (over: Partial<EmailChannelConfig> = {}): EmailChannelConfig => ({
  mode: "relay",
  relay: { host: LOOPBACK, port: smtpPort, tlsRejectUnauthorized: false },
  ...common,
  ...over,
} as EmailChannelConfig);

const loopbackMx = (hosts: string[] = [LOOPBACK]): MxResolver => ({
  resolveMx: () =>
    Promise.resolve(hosts.map((exchange, i) => ({ exchange, priority: 10 * (i + 1) }))),
  resolveAddresses: () => Promise.resolve([]),
});

const directConfig = (resolver: MxResolver, over: Partial<EmailChannelConfig> = {}) =>
  ({ mode: "direct", mxPort: smtpPort, resolver, ...common, ...over }) as EmailChannelConfig;

/** The message/rfc822 part of an ARF report (RFC 5965): the original as the server received it. */
function quotedMessage(report: string): string {
  const boundary = /boundary="([^"]+)"/u.exec(report)?.[1];
  if (!boundary) throw new Error("not a multipart report");
  const part = report.split(`\r\n--${boundary}`).find((p) =>
    /^Content-Type: message\/rfc822/imu.test(p.slice(0, p.indexOf("\r\n\r\n")))
  );
  if (!part) throw new Error("no message/rfc822 part");
  return part.slice(part.indexOf("\r\n\r\n") + 4);
}

const ledgerFor = (recipient: string) =>
  sim.ctx.ledger.since(0, 1_000_000).filter((e) => e.recipient === recipient);

/** The core's (type, reason) for an outcome, or its status for a success. */
function verdictOf(outcome: SendOutcome): unknown[] {
  if (!("input" in outcome)) return [outcome.kind];
  const v = qualify(rules, outcome.input).verdict;
  return v.outcome === "failure" ? [v.type, v.reason] : [v.outcome];
}

async function withChannel<T>(config: EmailChannelConfig, run: (c: ChannelAdapter) => Promise<T>) {
  const channel = createEmailChannel(config);
  try {
    return await run(channel);
  } finally {
    await channel.close();
  }
}

// DOMAIN §10, synchronous email: each magic recipient's outcome, stage and qualification.
const magic: [
  local: string,
  kind: SendOutcome["kind"],
  stage: string | null,
  verdict: unknown[],
][] = [
  ["success", "accepted", null, ["accepted"]],
  ["unknown", "refused", "rcpt", ["hard", 1]],
  ["mailboxfull", "refused", "rcpt", ["soft", 5]],
  ["full-after-data", "refused", "data", ["soft", 5]],
  ["disabled", "refused", "rcpt", ["soft", 4]],
  ["spam", "refused", "rcpt", ["soft", 20]],
  ["trylater", "refused", "rcpt", ["ignored", 3]],
  ["greylist", "refused", "rcpt", ["ignored", 3]],
  ["drop", "transport", null, ["ignored", 3]],
  ["@unknown-domain", "refused", "rcpt", ["soft", 2]],
];

describe.each(["relay", "direct"] as const)("magic recipients, %s mode", (mode) => {
  it("gives each its outcome, once, and the core qualifies it as DOMAIN §10 says", async () => {
    const config = mode === "relay" ? relayConfig() : directConfig(loopbackMx());
    const addresses = magic.map(([local]) =>
      local.startsWith("@")
        ? `someone-${mode}${local}-${mode}.example`
        : `${local}+${mode}@example.com`
    );
    // Successes around them, so that refusals and the drop happen on reused connections.
    const batch = addresses.flatMap((a, i) => [
      message(a),
      message(`success+${mode}-${i}@example.com`),
    ]);
    const outcomes = await withChannel(config, (c) => c.send(batch));
    expect(outcomes).toHaveLength(batch.length);
    magic.forEach(([local, kind, stage, verdict], i) => {
      const outcome = outcomes[2 * i]!;
      const what = `${local}: ${JSON.stringify(outcome)}`;
      expect(outcome.kind, what).toBe(kind);
      if (outcome.kind === "refused" && outcome.input.kind === "smtp") {
        expect(outcome.input.stage, what).toBe(stage);
      }
      if (outcome.kind === "accepted") expect(outcome.reply, what).toMatch(/^250 /u);
      expect(verdictOf(outcome), what).toEqual(verdict);
      // One attempt per message: the transport never retries on its own.
      expect(ledgerFor(addresses[i]!), what).toHaveLength(1);
      expect(outcomes[2 * i + 1]!.kind, `success after ${local}`).toBe("accepted");
    });
  });
});

describe("what the simulator received", () => {
  it("has the VERP envelope and the token as X-Sendgate-Id", async () => {
    const m = message("success+ledger@example.com");
    const [outcome] = await withChannel(relayConfig(), (c) => c.send([m]));
    expect(outcome).toMatchObject({ kind: "accepted" });
    const token = messageToken(m.id, SECRET);
    expect(sim.ctx.ledger.get(token)).toMatchObject([{
      recipient: "success+ledger@example.com",
      outcome: "accept",
      extra: { envelopeFrom: `bounces+${token}@bounce.sendgate.example`, stage: "data" },
    }]);
  });

  it("is the personalized, signed message with the gateway's headers", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const m = message("complaint+content@example.com", {
      deliveryId: "delivery-content",
      fields: { first: `<Jo> & "Ann"`, city: "Lyon\r\nBcc: evil@example.net" },
      content: { ...content, subject: "Hello {{first}} in {{city}}" },
    });
    const token = messageToken(m.id, SECRET);
    const [outcome] = await withChannel(
      relayConfig({
        dkim: (domain) =>
          domain === "sender.example"
            ? { domainName: "sender.example", keySelector: "sg1", privateKey }
            : null,
      }),
      (c) => c.send([m]),
    );
    expect(outcome).toMatchObject({ kind: "accepted" });

    // The complaint goes to the envelope sender: the VERP address with the token.
    const report = await sink.waitFor(`bounces+${token}@bounce.sendgate.example`);
    const raw = quotedMessage(report.raw.toString("utf8"));
    const head = raw.slice(0, raw.indexOf("\r\n\r\n")).replace(/\r\n[ \t]+/gu, " ");
    const original = await simpleParser(Buffer.from(raw));

    expect(original.messageId).toBe(`<${token}@mid.sendgate.example>`);
    expect(original.headers.get("x-sendgate-id")).toBe(token);
    expect(head).toMatch(
      new RegExp(`^List-Unsubscribe: <https://u\\.sendgate\\.example/u/${token}>$`, "mu"),
    );
    expect(head).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/imu);
    // The display name is RFC 2047-encoded on the wire and decodes to what the sender wrote.
    expect(head).toMatch(/^From: =\?UTF-8\?[QB]\?.+\?= <news@sender\.example>$/mu);
    expect(original.from?.value).toEqual([{ name: "Équipe Été", address: "news@sender.example" }]);
    expect(original.subject).toBe(`Hello <Jo> & "Ann" in Lyon Bcc: evil@example.net`);
    expect(original.bcc).toBeUndefined();
    expect(original.text?.trim()).toBe(`Dear <Jo> & "Ann", from Lyon\nBcc: evil@example.net.`);
    expect(original.html).toContain("Dear &lt;Jo&gt; &amp; &quot;Ann&quot;, from <b>Lyon");
    expect(head).toMatch(/^DKIM-Signature: .*\bd=sender\.example;/mu);
    expect(head).toMatch(/^DKIM-Signature: .*\bs=sg1;/mu);
  });

  it("gets nothing (not an unsigned message) when the DKIM key is broken; retried later", async () => {
    const [outcome] = await withChannel(
      relayConfig({
        dkim: () => ({ domainName: "sender.example", keySelector: "s", privateKey: "not a key" }),
      }),
      (c) => c.send([message("success+badkey@example.com", { deliveryId: "delivery-badkey" })]),
    );
    expect(outcome).toMatchObject({ kind: "transport", input: { code: "EDKIM" } });
    expect(verdictOf(outcome!)).toEqual(["ignored", 3]);
    expect(ledgerFor("success+badkey@example.com")).toHaveLength(0);
  });

  it("gets nothing for a message missing a personalization field", async () => {
    const before = sim.ctx.ledger.size;
    const outcomes = await withChannel(relayConfig(), (c) =>
      c.send([
        message("success+nofield@example.com", { fields: { city: "Lyon" } }),
        message("success+nofield2@example.com", { fields: null }),
      ]));
    expect(outcomes).toEqual([
      {
        kind: "invalid",
        problem: "personalization",
        detail: "missing personalization fields: first",
      },
      {
        kind: "invalid",
        problem: "personalization",
        detail: "missing personalization fields: first",
      },
    ]);
    expect(sim.ctx.ledger.size).toBe(before);
  });
});

describe("batches", () => {
  it("sends 2,000 messages, each exactly once", async () => {
    const batch = Array.from(
      { length: 2_000 },
      (_, i) => message(`success+bulk${i}@example${i % 20}.com`, { deliveryId: "delivery-bulk" }),
    );
    const outcomes = await withChannel(relayConfig(), (c) => c.send(batch));
    expect(outcomes.filter((o) => o.kind === "accepted")).toHaveLength(2_000);
    const entries = sim.ctx.ledger.since(0, 1_000_000).filter((e) =>
      e.recipient.startsWith("success+bulk")
    );
    expect(entries).toHaveLength(2_000);
    expect(new Set(entries.map((e) => e.id))).toEqual(
      new Set(batch.map((m) => messageToken(m.id, SECRET))),
    );
  }, 60_000);

  it("loses no message when the server drops connections in the middle of a batch", async () => {
    const batch = Array.from({ length: 400 }, (_, i) => {
      const local = i % 100 === 50 ? "drop" : i === 250 ? "trylater" : "success";
      return message(`${local}+mid${i}@example.com`);
    });
    const outcomes = await withChannel(
      relayConfig({
        relay: { host: LOOPBACK, port: smtpPort, tlsRejectUnauthorized: false, maxConnections: 4 },
      }),
      (c) => c.send(batch),
    );
    batch.forEach((m, i) => {
      const expected = m.address.startsWith("drop")
        ? "transport"
        : m.address.startsWith("trylater")
        ? "refused"
        : "accepted";
      expect(outcomes[i]!.kind, m.address).toBe(expected);
      expect(ledgerFor(m.address), m.address).toHaveLength(1);
    });
  }, 60_000);

  it("keeps to fewer connections when a server refuses sessions past its limit", async () => {
    let received = 0;
    const limited = new SMTPServer({
      logger: false,
      authOptional: true,
      disableReverseLookup: true,
      disabledCommands: ["STARTTLS"],
      // Past two sessions, smtp-server greets with 421 and closes.
      maxClients: 2,
      onData(stream, _session, callback) {
        stream.resume();
        stream.on("end", () => {
          received++;
          callback();
        });
      },
    });
    limited.on("error", () => {});
    await new Promise<void>((resolve) => limited.listen(0, LOOPBACK, () => resolve()));
    const port = (limited.server.address() as net.AddressInfo).port;
    try {
      const outcomes = await withChannel(
        relayConfig({ relay: { host: LOOPBACK, port, maxConnections: 6 } }),
        (c) => c.send(Array.from({ length: 40 }, (_, i) => message(`user${i}@limited.example`))),
      );
      expect(outcomes.map((o) => o.kind)).toEqual(Array(40).fill("accepted"));
      expect(received).toBe(40);
    } finally {
      await new Promise<void>((resolve) => limited.close(() => resolve()));
    }
  });

  it("keeps to the relay's connection cap", async () => {
    const before = sim.ctx.ledger.size;
    const batch = Array.from({ length: 60 }, (_, i) => message(`success+cap${i}@example.com`));
    await withChannel(
      relayConfig({
        relay: { host: LOOPBACK, port: smtpPort, tlsRejectUnauthorized: false, maxConnections: 3 },
      }),
      (c) => c.send(batch),
    );
    const sessions = new Set(sim.ctx.ledger.since(before, 1_000).map((e) => e.extra?.sessionId));
    expect(sessions.size).toBeGreaterThan(0);
    expect(sessions.size).toBeLessThanOrEqual(3);
  });
});

describe("transport failures", () => {
  it("answers a relay that refuses connections with a transport outcome for every message", async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, LOOPBACK, () => resolve()));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const started = Date.now();
    const outcomes = await withChannel(
      relayConfig({ relay: { host: LOOPBACK, port } }),
      (c) => c.send(Array.from({ length: 30 }, (_, i) => message(`success+down${i}@example.com`))),
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({
        kind: "transport",
        input: { kind: "network", code: "ESOCKET" },
      });
      expect(verdictOf(outcome)).toEqual(["ignored", 3]);
    }
  });

  it("verifies a relay's certificate unless told not to (the simulator's is self-signed)", async () => {
    const [outcome] = await withChannel(
      relayConfig({ relay: { host: LOOPBACK, port: smtpPort } }),
      (c) => c.send([message("success+verify@example.com")]),
    );
    // nodemailer reports a refused certificate as a socket error, the reason in the text.
    expect(outcome).toMatchObject({
      kind: "transport",
      input: { kind: "network", code: "ESOCKET" },
    });
    expect(
      outcome!.kind === "transport" && outcome!.input.kind === "network" && outcome!.input.text,
    )
      .toMatch(/self.signed|certificate/iu);
    expect(verdictOf(outcome!)).toEqual(["ignored", 3]);
    expect(ledgerFor("success+verify@example.com")).toHaveLength(0);
  });

  it("gives up on a server that never greets, within the greeting timeout", async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, LOOPBACK, () => resolve()));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const outcomes = await withChannel(
        relayConfig({ relay: { host: LOOPBACK, port }, timeouts: { greetingMs: 300 } }),
        (c) => c.send([message("success+silent@example.com")]),
      );
      expect(outcomes[0]).toMatchObject({ kind: "transport", input: { code: "ETIMEDOUT" } });
      expect(verdictOf(outcomes[0]!)).toEqual(["ignored", 3]);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it("answers after close() without sending", async () => {
    const channel = createEmailChannel(relayConfig());
    await channel.close();
    const [outcome] = await channel.send([message("success+afterclose@example.com")]);
    expect(outcome).toMatchObject({ kind: "transport" });
    expect(ledgerFor("success+afterclose@example.com")).toHaveLength(0);
  });
});

describe("direct delivery", () => {
  it("falls back to the next MX when the first refuses connections", async () => {
    // 127.0.0.2 is loopback too, but nothing listens there on the simulator's port.
    const outcomes = await withChannel(
      directConfig(loopbackMx(["127.0.0.2", LOOPBACK])),
      (c) =>
        c.send([message("success+fallback@example.com"), message("unknown+fallback@example.com")]),
    );
    expect(outcomes.map((o) => o.kind)).toEqual(["accepted", "refused"]);
  });

  it("refuses a domain without mail as soft 2, sending nothing", async () => {
    const resolver: MxResolver = {
      resolveMx: (domain) =>
        domain === "nullmx.example"
          ? Promise.resolve([{ exchange: "", priority: 0 }])
          : Promise.reject(Object.assign(new Error("queryMx ENOTFOUND"), { code: "ENOTFOUND" })),
      resolveAddresses: () => Promise.resolve([]),
    };
    const outcomes = await withChannel(
      directConfig(resolver),
      (c) => c.send([message("success@nullmx.example"), message("success@nxdomain.example")]),
    );
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ kind: "refused", input: { code: 550, enhanced: "5.1.2" } });
      expect(verdictOf(outcome)).toEqual(["soft", 2]);
    }
    expect(ledgerFor("success@nullmx.example")).toHaveLength(0);
  });

  it("delivers to the domain's own address when it has no MX", async () => {
    const resolver: MxResolver = {
      resolveMx: () =>
        Promise.reject(Object.assign(new Error("queryMx ENODATA"), { code: "ENODATA" })),
      resolveAddresses: () => Promise.resolve([LOOPBACK]),
    };
    const [outcome] = await withChannel(
      directConfig(resolver),
      (c) => c.send([message("success+implicit@implicit.example")]),
    );
    expect(outcome).toMatchObject({ kind: "accepted" });
  });

  it("takes a domain with a relay rule to that relay instead of its MX", async () => {
    const asked: string[] = [];
    const resolver: MxResolver = {
      resolveMx: (domain) => {
        asked.push(domain);
        return Promise.reject(Object.assign(new Error("SERVFAIL"), { code: "ESERVFAIL" }));
      },
      resolveAddresses: () => Promise.resolve([]),
    };
    const outcomes = await withChannel(
      directConfig(resolver, {
        relayFor: (domain) =>
          domain === "relayed.example"
            ? { host: LOOPBACK, port: smtpPort, tlsRejectUnauthorized: false }
            : null,
      }),
      (c) => c.send([message("success+r@relayed.example"), message("success+r@other.example")]),
    );
    expect(outcomes[0]).toMatchObject({ kind: "accepted" });
    expect(outcomes[1]).toMatchObject({ kind: "transport", input: { code: "ESERVFAIL" } });
    expect(verdictOf(outcomes[1]!)).toEqual(["ignored", 3]);
    expect(asked).toEqual(["other.example"]);
  });

  it("looks a domain's MX up once for a whole batch", async () => {
    let lookups = 0;
    const resolver: MxResolver = {
      resolveMx: () => {
        lookups++;
        return Promise.resolve([{ exchange: LOOPBACK, priority: 10 }]);
      },
      resolveAddresses: () => Promise.resolve([]),
    };
    const outcomes = await withChannel(
      directConfig(resolver),
      (c) => c.send(Array.from({ length: 50 }, (_, i) => message(`success+once${i}@once.example`))),
    );
    expect(outcomes.every((o) => o.kind === "accepted")).toBe(true);
    expect(lookups).toBe(1);
  });
});
