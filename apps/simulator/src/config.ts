import process from "node:process";
import { z } from "zod";
import type { SimulatorOptions } from "./simulator.ts";

const Port = z.coerce.number().int().min(0).max(65_535);

/**
 * Where the simulator listens, from the environment (`npm start` and `npm run simulator` read the
 * same variables; the simulator's flags override them). 0 picks a free port, so two checkouts can
 * run side by side.
 */
const schema = z.object({
  SIMULATOR_HOST: z.string().min(1).default("127.0.0.1"),
  SIMULATOR_CONTROL_PORT: Port.default(8090),
  SIMULATOR_SMTP_PORT: Port.default(2525),
  SIMULATOR_SMPP_PORT: Port.default(2775),
  SIMULATOR_PUSH_PORT: Port.default(8092),
  SIMULATOR_PUSH_TLS_PORT: Port.default(8093),
});

export type SimulatorConfig = Required<
  Pick<
    SimulatorOptions,
    "host" | "controlPort" | "smtpPort" | "smppPort" | "pushPort" | "pushTlsPort"
  >
>;

/** The variable that sets each port, to name it when that port is taken. */
export const portVariables = {
  controlPort: "SIMULATOR_CONTROL_PORT",
  smtpPort: "SIMULATOR_SMTP_PORT",
  smppPort: "SIMULATOR_SMPP_PORT",
  pushPort: "SIMULATOR_PUSH_PORT",
  pushTlsPort: "SIMULATOR_PUSH_TLS_PORT",
} as const;

export function loadSimulatorConfig(
  env: Record<string, string | undefined> = process.env,
): SimulatorConfig {
  const parsed = schema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== "")),
  );
  if (!parsed.success) {
    console.error(
      `simulator: invalid configuration:\n  ${
        parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n  ")
      }`,
    );
    process.exit(2);
  }
  const e = parsed.data;
  return {
    host: e.SIMULATOR_HOST,
    controlPort: e.SIMULATOR_CONTROL_PORT,
    smtpPort: e.SIMULATOR_SMTP_PORT,
    smppPort: e.SIMULATOR_SMPP_PORT,
    pushPort: e.SIMULATOR_PUSH_PORT,
    pushTlsPort: e.SIMULATOR_PUSH_TLS_PORT,
  };
}

/** Which variable to change when the simulator could not listen (`EADDRINUSE` on a port). */
export function portInUse(error: unknown, config: SimulatorConfig): string | null {
  const e = error as { code?: string; port?: number };
  if (e?.code !== "EADDRINUSE") return null;
  const entry = (Object.keys(portVariables) as (keyof typeof portVariables)[])
    .find((k) => config[k] === e.port);
  const variable = entry ? portVariables[entry] : "a SIMULATOR_*_PORT variable";
  return `${variable}: port ${
    e.port ?? "?"
  } on ${config.host} is already in use (another simulator?); set it to a free port, or 0 for any`;
}
