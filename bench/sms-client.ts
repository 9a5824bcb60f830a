// bench/sms-client: submit_sm per second of the gateway's SMPP client (SmppBind) against the
// simulator's SMSC, one transceiver bind, receipts on and acknowledged — the same run as
// bench/simulator-smpp.ts (whose client is the smpp package), so the two figures compare. The
// SMSC runs in a child process (bench/simulator-smpp.ts in its server mode).
//
//   npx tsx bench/sms-client.ts
//
// Env: TOTAL (submits, default 100000), WINDOW (default 100), MAX_SECONDS (default 30).
import { fork } from "node:child_process";
import os from "node:os";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { encodeGsm7, SmppBind } from "@sendgate/channels";

const TOTAL = Number(process.env.TOTAL ?? 100_000);
const WINDOW = Number(process.env.WINDOW ?? 100);
const MAX_SECONDS = Number(process.env.MAX_SECONDS ?? 30);

const server = fileURLToPath(new URL("./simulator-smpp.ts", import.meta.url));
const child = fork(server, ["server"], { execArgv: process.execArgv });
// Bounded whatever happens.
const killer = setTimeout(() => {
  console.error("bench: timed out");
  child.kill();
  process.exit(1);
}, (MAX_SECONDS + 30) * 1000);
const port = await new Promise<number>((resolve) =>
  child.once("message", (m: { port: number }) => resolve(m.port))
);

let receipts = 0;
const bind = new SmppBind({
  host: "127.0.0.1",
  port,
  systemId: "sendgate",
  password: "secret",
  window: WINDOW,
  onDeliver: () => {
    receipts++;
    return Promise.resolve();
  },
}).start();
await new Promise<void>((resolve) => {
  const poll = setInterval(() => {
    if (bind.state === "bound") {
      clearInterval(poll);
      resolve();
    }
  }, 5);
});

const text = encodeGsm7("Your code is 123456")!;
let sent = 0;
let answered = 0;
let errors = 0;
const start = performance.now();
const cpu = process.cpuUsage();
const deadline = start + MAX_SECONDS * 1000;
// WINDOW loops, each submitting its next message when the last one is answered.
await Promise.all(Array.from({ length: WINDOW }, async () => {
  while (sent < TOTAL && performance.now() < deadline) {
    const n = sent++;
    const r = await bind.submit({
      source: "Sendgate",
      sourceTon: 5,
      destTon: 1,
      destNpi: 1,
      destination: `3361${String(n % 10_000_000).padStart(7, "0")}`,
      registeredDelivery: 1,
      dataCoding: 0,
      shortMessage: text,
    });
    answered++;
    if (r.kind !== "ok") errors++;
  }
}));
const seconds = (performance.now() - start) / 1000;
const used = process.cpuUsage(cpu);
const receiptDeadline = performance.now() + 10_000;
while (receipts < answered - errors && performance.now() < receiptDeadline) {
  await new Promise((r) => setTimeout(r, 50));
}
await bind.close();
child.send("stop");
await new Promise((resolve) => child.once("message", resolve));
clearTimeout(killer);

const cores = os.cpus();
console.log(
  `machine: ${cores.length} × ${cores[0]?.model ?? "?"}, node ${process.version}; ` +
    `submits ${answered} (errors ${errors}), receipts ${receipts}, client CPU ${
      ((used.user + used.system) / 1e6).toFixed(2)
    } s`,
);
console.log("| client | how | messages | seconds | messages/s |");
console.log("|---|---|---|---|---|");
console.log(
  `| SmppBind | window ${WINDOW}, 1 transceiver bind, receipts on, SMSC in a child process | ${answered} | ${
    seconds.toFixed(2)
  } | ${(answered / seconds).toFixed(0)} |`,
);
