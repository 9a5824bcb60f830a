import type { App, AppDeps } from "../../deps.ts";
import { register as createKey } from "./create-key.ts";
import { register as listKeys } from "./list-keys.ts";
import { register as revokeKey } from "./revoke-key.ts";

/** Operator routes: API keys, managed while the gateway runs. */
export function registerKeyRoutes(app: App, deps: AppDeps): void {
  for (const register of [createKey, listKeys, revokeKey]) register(app, deps);
}
