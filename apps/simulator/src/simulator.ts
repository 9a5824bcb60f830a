import { serve } from "@hono/node-server";
import { SimulatorContext } from "./context.ts";
import { createControlApp, type RunningServer } from "./control.ts";
import type { Scenario } from "./scenario.ts";
import { startSmtpServer } from "./smtp/server.ts";
import { type RunningSmsc, startSmsc } from "./smpp/server.ts";
import { registerPushControl, startPushService } from "./push/server.ts";

export interface SimulatorOptions {
  host?: string;
  /** Port of the control API (0: any free port). */
  controlPort?: number;
  /** A server's port, 0 for any free port, null to leave that server off. */
  smtpPort?: number | null;
  smppPort?: number | null;
  pushPort?: number | null;
  pushTlsPort?: number | null;
}

export interface RunningSimulator {
  ctx: SimulatorContext;
  /** Every server's URLs by name (`smtp`, `smpp`, `push`), and the control API's. */
  urls: Record<string, string[]> & { control: string[] };
  /** The SMSC, when started: its binds and protocol errors, for tests. */
  smsc: RunningSmsc | null;
  close(): Promise<void>;
}

/** Starts the servers asked for and the control API, sharing one context (scenario, ledger). */
export async function startSimulator(
  scenario: Scenario,
  options: SimulatorOptions = {},
): Promise<RunningSimulator> {
  const host = options.host ?? "127.0.0.1";
  const ctx = new SimulatorContext(scenario);
  const control = createControlApp(ctx);
  const running: RunningServer[] = [];
  const urls: Record<string, string[]> = {};
  let smscServer: RunningSmsc | null = null;
  if (options.smtpPort !== null) {
    const smtp = await startSmtpServer(ctx, { host, port: options.smtpPort ?? 0 });
    running.push(smtp);
    urls.smtp = smtp.urls;
  }
  if (options.smppPort !== null) {
    const smsc = await startSmsc(ctx, { host, port: options.smppPort ?? 0 });
    running.push(smsc);
    urls.smpp = smsc.urls;
    smscServer = smsc;
  }
  if (options.pushPort !== null) {
    const push = await startPushService(ctx, {
      host,
      port: options.pushPort ?? 0,
      tlsPort: options.pushTlsPort ?? 0,
    });
    registerPushControl(control, push);
    running.push(push);
    urls.push = push.urls;
  }
  const server = serve({ fetch: control.fetch, hostname: host, port: options.controlPort ?? 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", () => resolve());
    server.once("error", reject);
  });
  const port = (server.address() as { port: number }).port;
  return {
    ctx,
    urls: { ...urls, control: [`http://${host}:${port}`] },
    smsc: smscServer,
    async close() {
      ctx.close();
      await Promise.all(running.map((r) => r.close()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
