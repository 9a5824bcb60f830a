// bench/simulator-smpp: submit_sm per second the simulated SMSC absorbs on one transceiver bind,
// with a window of WINDOW outstanding submits (the smpp client has none: a small one here),
// receipts on (registered_delivery 1, answered with deliver_sm_resp), mix { delivered: 1 }.
// The SMSC runs in a child process, so the figure is the server's own core; the client (the
// same smpp package) runs in this one.
//
//   npx tsx bench/simulator-smpp.ts
//
// Env: TOTAL (submits, default 100000), WINDOW (default 100), MAX_SECONDS (default 30);
// PROFILE=1 runs the server with --cpu-prof (profile written to the working directory),
// CHILD_FLAGS adds node flags to the server (e.g. "--max-semi-space-size=32").
// Child mode (internal): `simulator-smpp.ts server` starts the SMSC and reports over IPC.
// "server CPU" is the child's CPU from listening to stop, the receipts' tail included.
import { fork } from "node:child_process";
import { Buffer } from "node:buffer";
import os from "node:os";
import { setImmediate } from "node:timers";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { connect, type PDU } from "smpp";
import { SimulatorContext } from "../apps/simulator/src/context.ts";
import { Scenario } from "../apps/simulator/src/scenario.ts";
import { startSmsc } from "../apps/simulator/src/smpp/server.ts";

const TOTAL = Number(process.env.TOTAL ?? 100_000);
const WINDOW = Number(process.env.WINDOW ?? 100);
const MAX_SECONDS = Number(process.env.MAX_SECONDS ?? 30);

if (process.argv[2] === "server") {
  const ctx = new SimulatorContext(
    Scenario.parse({
      timeScale: 1,
      sms: { mix: { delivered: 1 }, asyncDelay: { minMs: 50, maxMs: 500 } },
    }),
  );
  const smsc = await startSmsc(ctx, { port: 0 });
  const started = process.cpuUsage();
  process.send!({ port: smsc.port });
  // Never outlive the bench: its exit (or crash) closes the IPC channel.
  process.on("disconnect", () => process.exit(0));
  process.on("message", async (message: string) => {
    if (message !== "stop") return;
    const cpu = process.cpuUsage(started);
    process.send!({
      ledger: ctx.ledger.size,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      pending: ctx.scheduler.pending,
    });
    await smsc.close();
    ctx.close();
    process.exit(0);
  });
} else {
  const child = fork(fileURLToPath(import.meta.url), ["server"], {
    execArgv: [
      ...process.execArgv,
      ...(process.env.PROFILE ? ["--cpu-prof"] : []),
      ...(process.env.CHILD_FLAGS ? process.env.CHILD_FLAGS.split(" ") : []),
    ],
  });
  // Bounded whatever happens: a server that stops answering ends the bench, not a hang.
  const killer = setTimeout(() => {
    console.error("bench: timed out");
    child.kill();
    process.exit(1);
  }, (MAX_SECONDS + 30) * 1000);
  const port = await new Promise<number>((resolve) =>
    child.once("message", (m: { port: number }) => resolve(m.port))
  );
  const session = connect({ host: "127.0.0.1", port });
  session.on("error", (error) => console.error("client:", error.message));
  await new Promise<void>((resolve) => session.once("connect", () => resolve()));
  await new Promise<void>((resolve, reject) =>
    session.bind_transceiver(
      { system_id: "sendgate", password: "secret" },
      (pdu: PDU) =>
        pdu.command_status === 0 ? resolve() : reject(new Error(`bind ${pdu.command_status}`)),
    )
  );
  // Answers go out corked until the loop's check phase (in slices of 32), as the server does, so
  // a window refill or a batch of deliver_sm_resp is one write rather than one per PDU.
  let corked = false;
  let held = 0;
  const uncork = () => {
    corked = false;
    session.socket.uncork();
  };
  const cork = () => {
    if (!corked) {
      corked = true;
      held = 0;
      session.socket.cork();
      setImmediate(uncork);
    } else if (++held >= 32) {
      held = 0;
      session.socket.uncork();
      session.socket.cork();
    }
  };
  let receipts = 0;
  session.on("deliver_sm", (pdu: PDU) => {
    receipts++;
    cork();
    session.send(pdu.response());
  });

  let sent = 0;
  let answered = 0;
  let errors = 0;
  const start = performance.now();
  const clientCpu = process.cpuUsage();
  const deadline = start + MAX_SECONDS * 1000;
  let finish = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  // GSM text, encoded once (the package would re-detect the alphabet for every PDU).
  const text = Buffer.from("Your code is 123456", "latin1");
  const submitOne = () => {
    const n = sent++;
    cork();
    session.submit_sm({
      destination_addr: `+3361${String(n % 10_000_000).padStart(7, "0")}`,
      source_addr: "Sendgate",
      source_addr_ton: 5,
      data_coding: 0,
      short_message: text,
      registered_delivery: 1,
    }, (pdu: PDU) => {
      answered++;
      if (pdu.command_status !== 0) errors++;
      if (sent < TOTAL && performance.now() < deadline) submitOne();
      else if (answered === sent) finish();
    });
  };
  for (let i = 0; i < Math.min(WINDOW, TOTAL); i++) submitOne();
  await done;
  const seconds = (performance.now() - start) / 1000;
  const clientUsage = process.cpuUsage(clientCpu);
  const clientSeconds = (clientUsage.user + clientUsage.system) / 1e6;
  // Let the last receipts (asyncDelay ≤ 500 ms) arrive, bounded.
  const receiptDeadline = performance.now() + 10_000;
  while (receipts < answered - errors && performance.now() < receiptDeadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise<void>((resolve) => session.close(() => resolve()));
  child.send("stop");
  const stats = await new Promise<{ ledger: number; cpuSeconds: number; pending: number }>((
    resolve,
  ) => child.once("message", resolve));
  clearTimeout(killer);

  const cpu = os.cpus();
  console.log(
    `machine: ${cpu.length} × ${
      cpu[0]?.model ?? "?"
    }, ${os.platform()} ${os.release()}, node ${process.version}`,
  );
  console.log(
    `submits ${answered} (errors ${errors}), receipts ${receipts}, ledger ${stats.ledger}, ` +
      `server CPU ${stats.cpuSeconds.toFixed(2)} s (${
        (answered / stats.cpuSeconds).toFixed(0)
      } submits per CPU second incl. receipts), ` +
      `client CPU ${clientSeconds.toFixed(2)} s during the ${seconds.toFixed(2)} s of submits`,
  );
  console.log("| server | how | messages | seconds | messages/s |");
  console.log("|---|---|---|---|---|");
  console.log(
    `| SMSC (smpp) | submit_sm, window ${WINDOW}, 1 transceiver bind, receipts on, server in a child process | ${answered} | ${
      seconds.toFixed(2)
    } | ${(answered / seconds).toFixed(0)} |`,
  );
}
