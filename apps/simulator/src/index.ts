export { type RunningSimulator, type SimulatorOptions, startSimulator } from "./simulator.ts";
export { SimulatorContext } from "./context.ts";
export { defaultScenario, loadScenarioFile, parseScenario, Scenario } from "./scenario.ts";
export type { LedgerEntry } from "./ledger.ts";
export * from "./outcomes.ts";
export * from "./magic.ts";
export { loadSimulatorConfig, portInUse, type SimulatorConfig } from "./config.ts";
