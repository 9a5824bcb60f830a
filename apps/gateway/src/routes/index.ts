import type { App, AppDeps } from "../deps.ts";
import { registerChannelRoutes } from "./channels/index.ts";
import { registerDeliveryRoutes } from "./deliveries/index.ts";
import { registerDomainRuleRoutes } from "./domain-rules/index.ts";
import { registerKeyRoutes } from "./keys/index.ts";
import { registerQualificationRoutes } from "./qualification/index.ts";
import { registerEmailReportRoutes } from "./email-reports/index.ts";
import { registerSmsRoutes } from "./sms/index.ts";
import { registerSmsCallbackRoutes } from "./sms/callbacks.ts";
import { registerQuarantineRoutes } from "./quarantine/index.ts";
import { registerSuppressionRoutes } from "./suppressions/index.ts";

/** Every /v1 route, one folder per resource, one file per route. */
export function registerRoutes(app: App, deps: AppDeps): void {
  registerDeliveryRoutes(app, deps);
  registerQuarantineRoutes(app, deps);
  registerSuppressionRoutes(app, deps);
  registerQualificationRoutes(app, deps);
  registerDomainRuleRoutes(app, deps);
  registerKeyRoutes(app, deps);
  registerChannelRoutes(app, deps);
  registerSmsRoutes(app, deps);
  registerEmailReportRoutes(app, deps);
  registerSmsCallbackRoutes(app, deps);
}
