// `npm run load`: a campaign instance's load against a gateway, judged message by message against
// the simulator's ledger. See README, "Load runner".
//
//   npm run load -- --channel email|push|sms|mixed --messages N [--rate R] [--scenario FILE]
//                   [--gateway URL --key K --simulator URL] [--deadline SECONDS] [--json]
//
// Exit status: 0 when nothing was lost or mismatched, 1 when something was, 2 on a usage error.
import { readFileSync } from "node:fs";
import process from "node:process";
import { parseArgs } from "node:util";
import { type LoadChannel, type LoadReport, runLoad } from "./load/run.ts";

const usage = `usage: npm run load -- --channel email|push|sms|mixed --messages N [--rate R]
       [--scenario FILE] [--gateway URL --key K --simulator URL] [--deadline SECONDS] [--json]`;

function fail(message: string): never {
  console.error(`load: ${message}\n${usage}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      channel: { type: "string", default: "mixed" },
      messages: { type: "string", default: "1000" },
      rate: { type: "string" },
      scenario: { type: "string" },
      gateway: { type: "string" },
      key: { type: "string" },
      simulator: { type: "string" },
      deadline: { type: "string", default: "600" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const channel = values.channel as LoadChannel;
if (!["email", "push", "sms", "mixed"].includes(channel)) {
  fail(`--channel ${channel}: email, push, sms or mixed`);
}
const positive = (name: string, value: string | undefined, max: number) => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) fail(`--${name} ${value}: an integer 1–${max}`);
  return n;
};
const messages = positive("messages", values.messages, 10_000_000)!;
const rate = positive("rate", values.rate, 1_000_000);
const deadlineSeconds = positive("deadline", values.deadline, 86_400)!;
if (values.gateway && !values.key) fail("--gateway needs --key (an API key of that gateway)");
if (values.gateway && !URL.canParse(values.gateway)) fail(`--gateway ${values.gateway}: a URL`);
if (values.simulator && !URL.canParse(values.simulator)) {
  fail(`--simulator ${values.simulator}: a URL`);
}
let scenario: unknown;
if (values.scenario) {
  try {
    scenario = JSON.parse(readFileSync(values.scenario, "utf8"));
  } catch (error) {
    fail(`--scenario ${values.scenario}: ${(error as Error).message}`);
  }
}

const tty = process.stderr.isTTY && !values.json;
let lastLine = 0;
const report: LoadReport = await runLoad({
  channel,
  messages,
  rate,
  scenario,
  gateway: values.gateway ? { url: values.gateway, key: values.key! } : undefined,
  simulator: values.simulator,
  deadlineSeconds,
  onProgress(p) {
    const line = `${p.phase}: ${p.accepted} accepted, ${p.settled} settled of ${p.total} (${
      p.elapsedSeconds.toFixed(0)
    } s)`;
    if (tty) process.stderr.write(`\r${line}   `);
    else if (p.elapsedSeconds - lastLine >= 5) {
      lastLine = p.elapsedSeconds;
      console.error(line);
    }
  },
}).catch((error: Error) => {
  if (tty) process.stderr.write("\n");
  console.error(`load: ${error.message}`);
  process.exit(1);
});
if (tty) process.stderr.write("\n");

if (values.json) {
  console.log(JSON.stringify(report));
} else {
  const r = report;
  console.log(
    `${r.channel}: ${r.accepted} accepted of ${r.requested} (${r.rejected} rejected or excluded), ` +
      `${r.settled} settled in ${r.durationSeconds} s${r.timedOut ? " (deadline reached)" : ""}`,
  );
  console.log(`  gateway ${r.gateway} (${r.database ?? "external"}), simulator ${r.simulator}`);
  console.log(
    `  throughput: ${r.throughput.acceptedPerSecond} accepted/s, ${r.throughput.finalPerSecond} final/s`,
  );
  console.log(
    `  latency accepted → final: p50 ${r.latencyMs.p50} ms, p90 ${r.latencyMs.p90} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms`,
  );
  console.log("  outcomes:");
  for (const [key, n] of Object.entries(r.distribution).sort((a, b) => b[1] - a[1])) {
    console.log(`    ${key.padEnd(24)} ${n}`);
  }
  console.log(`  lost ${r.lost}, mismatched ${r.mismatched}, duplicates ${r.duplicates}`);
  for (const p of r.problems) {
    console.log(`    ${p.kind} message ${p.messageId} (${p.address}): ${p.detail}`);
  }
}
process.exit(report.lost > 0 || report.mismatched > 0 ? 1 : 0);
