// bench/email-channel: messages per second the email channel (`createEmailChannel`, relay mode)
// sends to the simulated remote mail server, every recipient accepted, beside nodemailer's own
// pool sending ready-made messages in the same run: the difference is what the channel costs
// (templates, MIME building per recipient, tokens, its pool). The server runs in a child process,
// so it has a core of its own; both clients use 10 connections. The pool row ignores STARTTLS, so
// the channel runs once without TLS (the same conditions) and once with STARTTLS (its default).
//
//   npx tsx bench/email-channel.ts
//
// Env: TOTAL (messages per row, default 20000), BATCH (messages per send() call, default 1000),
// BATCHES (send() calls in flight, default 2), DKIM (1: add a row with RSA-2048 DKIM signing).
import { generateKeyPairSync } from "node:crypto";
import { fork } from "node:child_process";
import os from "node:os";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { createTransport } from "nodemailer";
import { createEmailChannel, type OutgoingMessage } from "../packages/channels/src/index.ts";
import { SimulatorContext } from "../apps/simulator/src/context.ts";
import { Scenario } from "../apps/simulator/src/scenario.ts";
import { startSmtpServer } from "../apps/simulator/src/smtp/server.ts";

type FromChild = { port: number } | { ledger: number; cpuSeconds: number };

if (process.argv.includes("--serve")) {
  const ctx = new SimulatorContext(Scenario.parse({ email: { mix: { accept: 1 } } }));
  const server = await startSmtpServer(ctx, { host: "127.0.0.1", port: 0 });
  process.send!({ port: server.port } satisfies FromChild);
  process.on("message", async (message: string) => {
    if (message === "stats") {
      const cpu = process.cpuUsage();
      process.send!({ ledger: ctx.ledger.size, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
    } else if (message === "close") {
      await server.close();
      ctx.close();
      process.exit(0);
    }
  });
} else {
  const TOTAL = Number(process.env.TOTAL ?? 20_000);
  const BATCH = Number(process.env.BATCH ?? 1_000);
  const BATCHES = Number(process.env.BATCHES ?? 2);
  const DKIM = process.env.DKIM === "1";

  const child = fork(fileURLToPath(import.meta.url), ["--serve"], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = () =>
    new Promise<FromChild>((resolve) => child.once("message", (m) => resolve(m as FromChild)));
  const killer = setTimeout(() => child.kill("SIGKILL"), 300_000);
  killer.unref();
  const { port } = (await next()) as { port: number };
  const stats = async () => {
    child.send("stats");
    return (await next()) as { ledger: number; cpuSeconds: number };
  };
  const rows: string[] = [];
  const row = (how: string, sent: number, seconds: number, serverCpu: number, clientCpu: number) =>
    rows.push(
      `| ${how} | ${sent} | ${seconds.toFixed(2)} | ${Math.round(sent / seconds)} | ${
        (clientCpu / sent * 1e6).toFixed(0)
      } µs | ${(serverCpu / sent * 1e6).toFixed(0)} µs |`,
    );
  const cpuNow = () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1e6;
  };

  // Row 1: nodemailer's pool, ready-made messages (as bench/simulator-smtp.ts).
  {
    const transport = createTransport({
      host: "127.0.0.1",
      port,
      secure: false,
      ignoreTLS: true,
      pool: true,
      maxConnections: 10,
      maxMessages: Infinity,
    });
    let issued = 0;
    let sent = 0;
    const before = await stats();
    const cpu0 = cpuNow();
    const started = performance.now();
    await Promise.all(Array.from({ length: 50 }, async () => {
      while (issued < TOTAL) {
        const n = issued++;
        const to = `user${n}@example${n % 50}.com`;
        try {
          await transport.sendMail({
            envelope: { from: "bench@sender.example", to: [to] },
            raw: `From: bench@sender.example\r\nTo: ${to}\r\nSubject: Message ${n}\r\n` +
              `Message-ID: <pool-${n}@sender.example>\r\nX-Sendgate-Id: pool-${n}\r\n` +
              `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello from the bench.\r\n`,
          });
          sent++;
        } catch { /* counted by the difference */ }
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    transport.close();
    const after = await stats();
    row(
      "nodemailer pool (10 connections), ready-made raw messages",
      sent,
      seconds,
      after.cpuSeconds - before.cpuSeconds,
      cpuNow() - cpu0,
    );
  }

  const { privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });

  // Row 2 (and 3): the channel, personalized subject, text and HTML per recipient.
  const channelRow = async (
    label: string,
    total: number,
    options: { dkim?: boolean; tls: boolean },
    firstId: number,
  ) => {
    const dkim = options.dkim ?? false;
    const channel = createEmailChannel({
      mode: "relay",
      relay: {
        host: "127.0.0.1",
        port,
        maxConnections: 10,
        tlsRejectUnauthorized: false,
        ignoreTLS: !options.tls,
      },
      tokenSecret: "bench-secret",
      bounceDomain: "bounces.sender.example",
      unsubscribeBaseUrl: "https://sender.example/u/",
      ...(dkim
        ? { dkim: () => ({ domainName: "sender.example", keySelector: "bench", privateKey }) }
        : {}),
    });
    const content = {
      from: "Sender News <news@sender.example>",
      subject: "Hello {{first_name}}, your {{month|monthly}} news",
      text: "Dear {{first_name}},\n\nHere is the news for {{city|your town}}.\n",
      html: "<p>Dear {{first_name}},</p><p>Here is the news for {{city|your town}}.</p>",
    };
    const message = (n: number): OutgoingMessage => ({
      id: firstId + n,
      deliveryId: `bench-${label}`,
      instanceId: "bench",
      attempt: 1,
      externalId: String(n),
      address: `user${n}@example${n % 50}.com`,
      addressData: null,
      fields: { first_name: `User ${n}`, city: n % 3 ? "Lyon" : null },
      content,
    });
    let issued = 0;
    let accepted = 0;
    let other = 0;
    const before = await stats();
    const cpu0 = cpuNow();
    const started = performance.now();
    await Promise.all(Array.from({ length: BATCHES }, async () => {
      while (issued < total) {
        const from = issued;
        issued = Math.min(total, issued + BATCH);
        const batch = Array.from({ length: issued - from }, (_, i) => message(from + i));
        for (const outcome of await channel.send(batch)) {
          if (outcome.kind === "accepted") accepted++;
          else other++;
        }
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    await channel.close();
    const after = await stats();
    if (other) console.log(`${label}: ${other} messages not accepted`);
    row(label, accepted, seconds, after.cpuSeconds - before.cpuSeconds, cpuNow() - cpu0);
  };

  const how = `relay mode (10 connections), batches of ${BATCH}, ${BATCHES} in flight`;
  await channelRow(`email channel, ${how}, no TLS (as the pool row)`, TOTAL, { tls: false }, 1);
  await channelRow(`email channel, ${how}, STARTTLS`, TOTAL, { tls: true }, 1e6);
  if (DKIM) {
    await channelRow(
      "email channel, no TLS, DKIM-signed (RSA-2048)",
      Math.ceil(TOTAL / 4),
      { tls: false, dkim: true },
      1e7,
    );
  }
  const final = await stats();
  child.send("close");

  const cpu = os.cpus()[0]?.model ?? "unknown cpu";
  console.log(
    `machine: ${os.cpus().length} × ${cpu}, ${os.platform()} ${os.release()}, Node ${process.version}`,
  );
  console.log(`ledger entries in the server: ${final.ledger}`);
  console.log(
    "| client | messages | seconds | messages/s | client CPU per message | server CPU per message |",
  );
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const line of rows) console.log(line);
}
