// bench/fuzz: the long fuzz run over every route of the gateway's OpenAPI document (the bounded
// one is test/fuzz.test.ts). Random and mutated bodies, query strings, headers and path
// parameters, with and without valid keys, through `app.request`. It measures cases per second
// and reports, per route, the cases tried and the statuses seen; then each distinct failure:
// answers of 500 and over, error answers that are not problem+json, JSON successes that do not
// parse, unhandled rejections, and rows written by a call the gateway refused. Exits 1 on any.
//
//   npx tsx bench/fuzz.ts [--cases 100000] [--seed N] [--backend pglite|postgres] [--minutes M]
//
// `--backend postgres` uses a scratch database on DATABASE_URL's server. `--minutes` (default 60)
// bounds the run: it stops there, reports what it tried, and fails if that was not every case.
import process from "node:process";
import { parseArgs } from "node:util";
import {
  failures,
  formatCauses,
  formatFailures,
  formatRoutes,
  formatTotals,
  notes,
  runFuzz,
} from "../test/fuzz/runner.ts";

const { values } = parseArgs({
  options: {
    cases: { type: "string", default: "100000" },
    seed: { type: "string" },
    backend: { type: "string", default: "pglite" },
    minutes: { type: "string", default: "60" },
    "max-rows": { type: "string", default: "20000" },
  },
});
const backend = values.backend;
if (backend !== "pglite" && backend !== "postgres") {
  console.error(`--backend is pglite or postgres, not ${backend}`);
  process.exit(2);
}
const cases = Number(values.cases);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
console.log(`fuzz: ${cases} cases on ${backend}, seed ${seed} (replay with --seed ${seed})`);

const report = await runFuzz({
  backend,
  cases,
  seed,
  minutes: Number(values.minutes),
  maxRows: Number(values["max-rows"]),
  progress: (line) => console.log(line),
});

console.log(`\n${formatRoutes(report)}\n`);
if (notes(report).length) {
  console.log(
    `warnings the gateway logged (not failures), by route:\n\n${
      formatFailures(report, notes(report))
    }\n`,
  );
  console.log(`the same, by cause:\n${formatCauses(report, notes(report))}\n`);
}
if (failures(report).length) {
  console.log(`distinct failures, by route:\n\n${formatFailures(report)}\n`);
  console.log(`the same, by cause:\n${formatCauses(report)}\n`);
}
console.log(formatTotals(report));
if (report.timedOut) {
  console.log(`stopped by --minutes ${values.minutes} after ${report.cases} cases`);
}
const failed = failures(report).length > 0 || report.timedOut;
process.exit(failed ? 1 : 0);
