// `npm run simulator`: starts the remote mail server, the SMSC and the push service on loopback,
// with the control API. `--only smtp,smpp,push` starts some of them; `--scenario FILE` (JSON or
// YAML) sets the scenario (default: everything succeeds; change it at run time with
// PUT /scenario).
import process from "node:process";
import { parseArgs } from "node:util";
import { loadSimulatorConfig, portInUse } from "./config.ts";
import { defaultScenario, loadScenarioFile } from "./scenario.ts";
import { startSimulator } from "./simulator.ts";

const env = loadSimulatorConfig();
const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    scenario: { type: "string" },
    only: { type: "string" },
    host: { type: "string", default: env.host },
    "control-port": { type: "string", default: String(env.controlPort) },
    "smtp-port": { type: "string", default: String(env.smtpPort) },
    "smpp-port": { type: "string", default: String(env.smppPort) },
    "push-port": { type: "string", default: String(env.pushPort) },
    "push-tls-port": { type: "string", default: String(env.pushTlsPort) },
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
const ports = {
  host: values.host,
  controlPort: Number(values["control-port"]),
  smtpPort: Number(values["smtp-port"]),
  smppPort: Number(values["smpp-port"]),
  pushPort: Number(values["push-port"]),
  pushTlsPort: Number(values["push-tls-port"]),
};
const sim = await startSimulator(scenario, {
  ...ports,
  smtpPort: only && !only.has("smtp") ? null : ports.smtpPort,
  smppPort: only && !only.has("smpp") ? null : ports.smppPort,
  pushPort: only && !only.has("push") ? null : ports.pushPort,
  pushTlsPort: only && !only.has("push") ? null : ports.pushTlsPort,
}).catch((error: unknown) => {
  console.error(`simulator: ${portInUse(error, ports) ?? (error as Error).message}`);
  process.exit(1);
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
