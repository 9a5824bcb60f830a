/**
 * @sendgate/core — the pure domain of Sendgate: failure qualification, message statuses,
 * retries, quarantine, domain flow control and preparation. No I/O, no clock, no randomness:
 * time and chance come in as arguments, so the same code runs on Node and Deno and in tests.
 */
export const VERSION = "0.1.0";

export * from "./channel.ts";
export * from "./failure.ts";
export * from "./status.ts";
export * from "./retry.ts";
export * from "./quarantine.ts";
export * from "./flow-control.ts";
export * from "./address.ts";
export * from "./preparation.ts";
export * from "./sms-text.ts";
export * from "./text.ts";
export * from "./qualification/types.ts";
export * from "./qualification/normalize.ts";
export * from "./qualification/engine.ts";
export * from "./qualification/enhanced-status.ts";
export * from "./qualification/entry.ts";
export { defaultRuleSet, shippedRules } from "./qualification/rules/index.ts";
export { smppStatus, smppStatusName } from "./qualification/rules/smpp.ts";
export * from "./sending-window.ts";
export * from "./template.ts";
export * from "./sms-ids.ts";
