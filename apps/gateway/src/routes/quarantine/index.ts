import type { App, AppDeps } from "../../deps.ts";
import { register as deleteEntry } from "./delete-entry.ts";
import { register as getEntry } from "./get-entry.ts";
import { register as importList } from "./import-list.ts";
import { register as listEntries } from "./list-entries.ts";
import { register as setStatus } from "./set-status.ts";

/** Operator routes: the quarantine table, one address at a time or a whole suppression list. */
export function registerQuarantineRoutes(app: App, deps: AppDeps): void {
  for (const register of [listEntries, importList, getEntry, setStatus, deleteEntry]) {
    register(app, deps);
  }
}
