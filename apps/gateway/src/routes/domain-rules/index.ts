import type { App, AppDeps } from "../../deps.ts";
import { register as createDomainRule } from "./create-domain-rule.ts";
import { register as deleteDomainRule } from "./delete-domain-rule.ts";
import { register as getDomainRule } from "./get-domain-rule.ts";
import { register as listDomainRules } from "./list-domain-rules.ts";
import { register as replaceDomainRule } from "./replace-domain-rule.ts";

/** Operator routes: flow control, signing and relay per recipient domain (DOMAIN §8). */
export function registerDomainRuleRoutes(app: App, deps: AppDeps): void {
  for (
    const register of [
      listDomainRules,
      createDomainRule,
      getDomainRule,
      replaceDomainRule,
      deleteDomainRule,
    ]
  ) register(app, deps);
}
