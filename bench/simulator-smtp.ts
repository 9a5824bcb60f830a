// bench/simulator-smtp: messages per second the simulated remote mail server absorbs, every
// recipient accepted (`mix: {accept: 1}`), from nodemailer with a pool of 10 connections sending
// ready-made messages. The server runs in a child process, so it has a core of its own; the
// client has the parent's and, on a 2-core machine, is the limit: the bench also prints the
// server's CPU time, and messages per server CPU-second is the server's own capacity.
//
//   npx tsx bench/simulator-smtp.ts
//
// Env: TOTAL (messages, default 20000), SECONDS (time limit, default 20), CONCURRENCY (messages
// in flight, default 50).
import { fork } from "node:child_process";
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
}
