import type { App, AppDeps } from "../../deps.ts";
import { register as addPart } from "./add-part.ts";
import { register as createDelivery } from "./create-delivery.ts";
import { register as getDelivery } from "./get-delivery.ts";
import { register as listDeliveries } from "./list-deliveries.ts";
import { register as messages } from "./messages.ts";
import { register as startCancel } from "./start-delivery.ts";

export function registerDeliveryRoutes(app: App, deps: AppDeps): void {
  for (
    const register of [createDelivery, listDeliveries, getDelivery, addPart, startCancel, messages]
  ) register(app, deps);
}
