export * from "./instances.ts";
export * from "./deliveries.ts";
export * from "./messages.ts";
export * from "./quarantine.ts";
export * from "./qualification.ts";
export * from "./domain-rules.ts";
export * from "./jobs.ts";
export * from "./sending.ts";
