import type { App, AppDeps } from "../../deps.ts";
import { register as createRule } from "./create-rule.ts";
import { register as deleteRule } from "./delete-rule.ts";
import { register as getRule } from "./get-rule.ts";
import { register as listEntries } from "./list-entries.ts";
import { register as listRules } from "./list-rules.ts";
import { register as replaceRule } from "./replace-rule.ts";
import { register as requalify } from "./requalify.ts";
import { register as updateEntry } from "./update-entry.ts";

/** Operator routes: the qualification table, the re-qualification of a text, and the rules. */
export function registerQualificationRoutes(app: App, deps: AppDeps): void {
  for (
    const register of [
      listEntries,
      requalify,
      updateEntry,
      listRules,
      createRule,
      getRule,
      replaceRule,
      deleteRule,
    ]
  ) register(app, deps);
}
