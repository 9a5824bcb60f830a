import type { Rule, RuleSet } from "../types.ts";
import { emailRules } from "./email.ts";
import { networkRules } from "./network.ts";
import { pushRules } from "./push.ts";
import { receiptRules } from "./receipt.ts";
import { smppRules } from "./smpp.ts";

/**
 * The shipped layer, in matching order within each channel: each channel's own rules, then the
 * catch-all for transport failures.
 */
export const shippedRules: readonly Rule[] = [
  ...emailRules,
  ...networkRules,
  ...smppRules,
  ...receiptRules,
  ...pushRules,
];

/** The default rule set: shipped rules only, no operator rule yet. */
export const defaultRuleSet: RuleSet = { shipped: shippedRules, operator: [] };
