// bench/simulator-smtp: messages per second the simulated remote mail server absorbs, every
// recipient accepted (`mix: {accept: 1}`), over 10 connections sending ready-made messages, in
// two rows of one run: from nodemailer's pool (what a gateway uses), then from a lean client of
// our own that pipelines MAIL, RCPT and DATA (RFC 2920) and does nothing else, so that the second
// row shows the server's capacity rather than nodemailer's. The server runs in a child process,
// so it has a core of its own; the bench also prints the server's CPU time per row.
//
//   npx tsx bench/simulator-smtp.ts
//
// Env: TOTAL (messages, default 20000), SECONDS (time limit, default 20), CONCURRENCY (messages
// in flight, default 50).
import { fork } from "node:child_process";
import net from "node:net";
import os from "node:os";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { createTransport } from "nodemailer";
import { SimulatorContext } from "../apps/simulator/src/context.ts";
import { Scenario } from "../apps/simulator/src/scenario.ts";
import { startSmtpServer } from "../apps/simulator/src/smtp/server.ts";

type FromChild = { port: number } | { ledger: number; protocolErrors: number; cpuSeconds: number };

if (process.argv.includes("--serve")) {
  // The child: the server alone, driven over IPC.
  const ctx = new SimulatorContext(Scenario.parse({ email: { mix: { accept: 1 } } }));
  const server = await startSmtpServer(ctx, { host: "127.0.0.1", port: 0 });
  process.send!({ port: server.port } satisfies FromChild);
  process.on("message", async (message: string) => {
    if (message === "stats") {
      const cpu = process.cpuUsage();
      process.send!(
        {
          ledger: ctx.ledger.size,
          protocolErrors: server.protocolErrors,
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
        } satisfies FromChild,
      );
    } else if (message === "close") {
      await server.close();
      ctx.close();
      process.exit(0);
    }
  });
} else {
  const TOTAL = Number(process.env.TOTAL ?? 20_000);
  const SECONDS = Number(process.env.SECONDS ?? 20);
  const CONCURRENCY = Number(process.env.CONCURRENCY ?? 50);

  const child = fork(fileURLToPath(import.meta.url), ["--serve"], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = () =>
    new Promise<FromChild>((resolve) => child.once("message", (m) => resolve(m as FromChild)));
  const killer = setTimeout(() => child.kill("SIGKILL"), (SECONDS + 30) * 1000);
  killer.unref();
  const { port } = (await next()) as { port: number };

  const transport = createTransport({
    host: "127.0.0.1",
    port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: 10,
    maxMessages: Infinity,
  });

  let sent = 0;
  let failed = 0;
  let issued = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  const worker = async () => {
    while (issued < TOTAL && performance.now() < deadline) {
      const n = issued++;
      try {
        const to = `user${n}@example${n % 50}.com`;
        // A ready-made message (as a gateway sends its prepared ones): the client's time goes
        // to SMTP, not to building MIME.
        await transport.sendMail({
          envelope: { from: "bench@sender.example", to: [to] },
          raw: `From: bench@sender.example\r\nTo: ${to}\r\nSubject: Message ${n}\r\n` +
            `Message-ID: <bench-${n}@sender.example>\r\nX-Sendgate-Id: bench-${n}\r\n` +
            `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello from the bench.\r\n`,
        });
        sent++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  transport.close();

  child.send("stats");
  const stats = (await next()) as { ledger: number; protocolErrors: number; cpuSeconds: number };
  const clientCpu = process.cpuUsage();

  // Second row: the lean pipelining client, 10 connections, one message in flight on each.
  let rawIssued = 0;
  let rawSent = 0;
  const rawStarted = performance.now();
  const rawDeadline = rawStarted + SECONDS * 1000;
  await Promise.all(Array.from({ length: 10 }, async (_, c) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.setNoDelay(true);
    let buffer = "";
    const waiting: ((line: string) => void)[] = [];
    socket.on("data", (chunk) => {
      buffer += chunk.toString("latin1");
      for (let i = buffer.indexOf("\r\n"); i >= 0; i = buffer.indexOf("\r\n")) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (/^\d{3} /u.test(line)) waiting.shift()?.(line); // the last line of a reply
      }
    });
    const reply = () => new Promise<string>((resolve) => waiting.push(resolve));
    const greeting = reply();
    await greeting;
    const ehlo = reply();
    socket.write(`EHLO bench${c}.example\r\n`);
    await ehlo;
    while (rawIssued < TOTAL && performance.now() < rawDeadline) {
      const n = rawIssued++;
      const to = `raw${n}@example${n % 50}.com`;
      const answers = [reply(), reply(), reply()];
      socket.write(`MAIL FROM:<bench@sender.example>\r\nRCPT TO:<${to}>\r\nDATA\r\n`);
      const [, , data = ""] = await Promise.all(answers);
      if (!data.startsWith("354")) continue;
      const done = reply();
      socket.write(
        `From: bench@sender.example\r\nTo: ${to}\r\nSubject: Message ${n}\r\n` +
          `Message-ID: <raw-${n}@sender.example>\r\nX-Sendgate-Id: raw-${n}\r\n\r\nHello.\r\n.\r\n`,
      );
      if ((await done).startsWith("250")) rawSent++;
    }
    socket.end("QUIT\r\n");
  }));
  const rawSeconds = (performance.now() - rawStarted) / 1000;
  child.send("stats");
  const rawStats = (await next()) as { ledger: number; protocolErrors: number; cpuSeconds: number };
  child.send("close");

  const cpu = os.cpus()[0]?.model ?? "unknown cpu";
  console.log(
    `machine: ${os.cpus().length} × ${cpu}, ${os.platform()} ${os.release()}, Node ${process.version}`,
  );
  console.log(
    `accepted ${sent}, failed ${failed}, ledger entries ${stats.ledger}, protocol errors ${stats.protocolErrors}`,
  );
  console.log(
    `cpu: server ${stats.cpuSeconds.toFixed(2)} s (${
      Math.round(sent / stats.cpuSeconds)
    } messages per server cpu-second), ` +
      `client ${((clientCpu.user + clientCpu.system) / 1e6).toFixed(2)} s`,
  );
  console.log("| server | how | messages | seconds | messages/s |");
  console.log("|---|---|---:|---:|---:|");
  console.log(
    `| simulator smtp | nodemailer pool of 10 connections, server in a child process, all accepted | ${sent} | ${
      seconds.toFixed(2)
    } | ${Math.round(sent / seconds)} |`,
  );
  const rawCpu = rawStats.cpuSeconds - stats.cpuSeconds;
  console.log(
    `| simulator smtp | lean pipelining client, 10 connections, server in a child process (server ${
      Math.round(rawSent / rawCpu)
    } messages per CPU-second) | ${rawSent} | ${rawSeconds.toFixed(2)} | ${
      Math.round(rawSent / rawSeconds)
    } |`,
  );
}
