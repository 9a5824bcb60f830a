// `npm run simulator`: starts the remote mail server, the SMSC and the push service on loopback,
// with the control API. `--only smtp,smpp,push` starts some of them; `--scenario FILE` (JSON or
// YAML) sets the scenario (default: everything succeeds; change it at run time with
// PUT /scenario).
import process from "node:process";
import { parseArgs } from "node:util";
import { defaultScenario, loadScenarioFile } from "./scenario.ts";
import { startSimulator } from "./simulator.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    scenario: { type: "string" },
    only: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    "control-port": { type: "string", default: "8090" },
    "smtp-port": { type: "string", default: "2525" },
    "smpp-port": { type: "string", default: "2775" },
    "push-port": { type: "string", default: "8092" },
    "push-tls-port": { type: "string", default: "8093" },
  },
});
const only = values.only ? new Set(values.only.split(",").map((s) => s.trim())) : null;
for (const name of only ?? []) {
  if (!["smtp", "smpp", "push"].includes(name)) {
    console.error(`simulator: unknown server "${name}" in --only (smtp, smpp, push)`);
    process.exit(2);
  }
}
const scenario = values.scenario ? loadScenarioFile(values.scenario) : defaultScenario();
const sim = await startSimulator(scenario, {
  host: values.host,
  controlPort: Number(values["control-port"]),
  smtpPort: only && !only.has("smtp") ? null : Number(values["smtp-port"]),
  smppPort: only && !only.has("smpp") ? null : Number(values["smpp-port"]),
  pushPort: only && !only.has("push") ? null : Number(values["push-port"]),
  pushTlsPort: only && !only.has("push") ? null : Number(values["push-tls-port"]),
});
console.log("Sendgate simulator (loopback)");
for (const [name, urls] of Object.entries(sim.urls)) {
  console.log(`  ${name.padEnd(8)} ${urls.join("  ")}`);
}
console.log(
  `  scenario seed ${scenario.seed}, time scale ${scenario.timeScale}; ledger at ${
    sim.urls.control[0]
  }/ledger`,
);

process.on("SIGINT", async () => {
  await sim.close();
  process.exit(0);
});
process.on("SIGTERM", async () => {
  await sim.close();
  process.exit(0);
});
