// `npm start`: Sendgate for a new user, on embedded PGlite (./data) unless DATABASE_URL is set.
// Starts the simulator and the gateway (ports from the environment: PORT and the SIMULATOR_*_PORT
// variables, see README), makes sure there is an operator key (SENDGATE_ADMIN_KEY, or one created
// and printed on first start), starts a demo delivery per channel addressed to the simulator's
// magic recipients — or finds the ones an earlier start made, by their externalRef — and prints
// where to look.
import process from "node:process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllowList } from "@sendgate/channels";
import { createKey } from "../apps/gateway/src/services/keys.ts";
import { createLogger } from "../apps/gateway/src/log.ts";
import { loadConfig, startGateway, StartupError } from "@sendgate/gateway";
import {
  defaultScenario,
  loadSimulatorConfig,
  portInUse,
  startSimulator,
} from "@sendgate/simulator";

// The demo's terminal shows the banner, not an access log line per request (set
// SENDGATE_LOG_LEVEL=info to see them).
const config = loadConfig({ SENDGATE_LOG_LEVEL: "warn", ...process.env });
const simConfig = loadSimulatorConfig();
const simulator = await startSimulator(defaultScenario(), simConfig).catch((error: Error) => {
  console.error(
    `sendgate: the simulator could not start: ${portInUse(error, simConfig) ?? error.message}`,
  );
  process.exit(1);
});
// The simulator's push service is on loopback: allowed for this gateway only (SENDGATE_PUSH_ALLOW).
const simHost = parseAllowList(simConfig.host);
if (!simHost.ok) throw new Error(simHost.error);
// The bounce listener on loopback (any free port, unless SENDGATE_BOUNCE_LISTEN says where):
// the simulator's mail server sends its DSNs, auto-replies and complaints there.
const gateway = await startGateway(
  {
    ...config,
    bounceListen: config.bounceListen ?? { host: "127.0.0.1", port: 0 },
    pushAllow: [...config.pushAllow, ...simHost.allow],
  },
  { logger: createLogger({ level: config.logLevel }) },
).catch(async (error: unknown) => {
  console.error(
    error instanceof StartupError
      ? `sendgate: ${error.variable}: ${error.message}`
      : `sendgate: the gateway could not start: ${error}`,
  );
  await simulator.close();
  process.exit(1);
});

// Without SENDGATE_ADMIN_KEY, the first start on PGlite creates an operator key and keeps it
// beside the data (readable by the owner only) so that later starts show the same one.
const keyFile = gateway.database.kind === "pglite"
  ? join(config.dataDir, "operator-key.txt")
  : null;
let key = config.adminKey ??
  (keyFile && existsSync(keyFile) ? readFileSync(keyFile, "utf8").trim() : undefined);
const created = !key;
if (!key) {
  key = (await createKey(gateway.database, "demo", true)).key;
  if (keyFile) writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
}
const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const res = await fetch(`${gateway.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
};

const contents = {
  email: {
    from: "Demo <demo@sendgate.example>",
    subject: "Hello from Sendgate",
    text: "Hello {{firstName}}",
  },
  sms: { sender: "Sendgate", text: "Hello from Sendgate" },
  push: { title: "Hello", body: "Hello from Sendgate" },
} as const;

/** The recipients of a channel's demo: the simulator's magic addresses, and one without any. */
async function recipients(channel: keyof typeof contents): Promise<unknown[]> {
  if (channel === "email") {
    return [
      { externalId: "1", address: "success@simulator.example", fields: { firstName: "Ada" } },
      { externalId: "2", address: "" },
    ];
  }
  if (channel === "sms") return [{ externalId: "1", address: "+15550000000" }];
  // A push subscription minted by the simulator, with its keys: a real endpoint to send to.
  const minted = await fetch(`${simulator.urls.control[0]}/push/subscriptions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ behaviour: "accept" }),
  });
  const subscription = (await minted.json()) as {
    endpoint: string;
    keys: { p256dh: string; auth: string };
  };
  return [{
    externalId: "1",
    address: { endpoint: subscription.endpoint, keys: subscription.keys },
  }];
}

type Delivery = { id: string; state: string; counts?: { total: number } };
/** The channel's demo delivery: the one an earlier start made, or a new one, started. */
async function demo(
  channel: keyof typeof contents,
): Promise<{ delivery: Delivery; reused: boolean }> {
  const externalRef = `demo-${channel}`;
  const found = await api<{ items: Delivery[] }>(
    "GET",
    `/v1/deliveries?externalRef=${externalRef}&limit=1`,
  );
  if (found.items[0]) return { delivery: found.items[0], reused: true };
  const delivery = await api<Delivery>("POST", "/v1/deliveries", {
    channel,
    content: contents[channel],
    externalRef,
  });
  await api("POST", `/v1/deliveries/${delivery.id}/parts`, {
    recipients: await recipients(channel),
  });
  return {
    delivery: await api<Delivery>("POST", `/v1/deliveries/${delivery.id}/start`),
    reused: false,
  };
}

// The demo's channels point at this simulator (its ports may change from one start to the next):
// email through its SMTP server as a relay (self-signed certificate), SMS to its SMSC, push with
// generated VAPID keys. An operator's own SENDGATE_EMAIL_RELAY is left alone.
const smtp = new URL(simulator.urls.smtp![0]!);
if (!config.emailRelay) {
  await api("PUT", "/v1/channels/email", {
    mode: "relay",
    relay: { host: smtp.hostname, port: Number(smtp.port), tlsRejectUnauthorized: false },
    bounceDomain: config.bounceDomain,
    unsubscribeBaseUrl: `${config.publicUrl ?? gateway.url}/u/`,
  });
}
// The simulator's reports go to the VERP return path by way of the gateway's bounce listener.
if (gateway.bounceUrl) {
  const listener = new URL(gateway.bounceUrl);
  const res = await fetch(`${simulator.urls.control[0]}/scenario`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      email: {
        reportTo: "envelope",
        relay: {
          host: listener.hostname.replace(/^\[(.*)\]$/u, "$1"),
          port: Number(listener.port),
        },
      },
    }),
  });
  if (!res.ok) throw new Error(`the simulator refused its relay: ${await res.text()}`);
}
// SMS through the simulator's SMSC (its default account), unless an operator's provider exists.
const smsProviders = await api<{ items: { id: string }[] }>("GET", "/v1/sms/providers");
if (smsProviders.items.length === 0 || smsProviders.items.some((p) => p.id === "simulator")) {
  const smsc = new URL(simulator.urls.smpp![0]!);
  await api("PUT", "/v1/sms/providers/simulator", {
    host: smsc.hostname,
    port: Number(smsc.port),
    systemId: "sendgate",
    password: "secret",
  });
}
const pushSettings = await fetch(`${gateway.url}/v1/channels/push`, {
  headers: { authorization: `Bearer ${key}` },
});
if (pushSettings.status === 404) {
  await api("PUT", "/v1/channels/push", { subject: "mailto:demo@sendgate.example" });
}

console.log(
  `Sendgate gateway on ${gateway.url} (${
    gateway.database.kind === "postgres" ? "PostgreSQL" : `PGlite in ${config.dataDir}`
  })`,
);
console.log(`  API reference   ${gateway.url}/docs   (OpenAPI: ${gateway.url}/openapi.json)`);
if (gateway.bounceUrl) {
  console.log(`  bounces         ${gateway.bounceUrl}   (SMTP, for the bounce domain)`);
}
console.log(
  config.adminKey
    ? "  operator key    the SENDGATE_ADMIN_KEY you set"
    : `  operator key    ${key}   (${created ? "new" : "kept"}${
      keyFile ? ` in ${keyFile}` : ""
    }; set SENDGATE_ADMIN_KEY to choose your own)`,
);
console.log(
  "  more keys       npm run keys -- create --instance NAME [--operator]   (works while this runs)",
);
console.log("Simulator (loopback)");
for (const [name, urls] of Object.entries(simulator.urls)) {
  console.log(`  ${name.padEnd(15)} ${urls.join("  ")}`);
}
const watched: { channel: string; id: string }[] = [];
for (const channel of ["email", "sms", "push"] as const) {
  const { delivery, reused } = await demo(channel);
  watched.push({ channel, id: delivery.id });
  const how = reused ? ", from an earlier start" : ", started";
  console.log(
    `  demo ${
      channel.padEnd(5)
    }      ${gateway.url}/v1/deliveries/${delivery.id}   (${delivery.state}${how})`,
  );
}
console.log("Ctrl-C stops. The demo deliveries, as they change:");

type Counts = { byStatus: Record<string, number>; byReason: Record<string, number> };
type Watched = Delivery & { counts: Counts; waiting?: { kind: string; count: number }[] };
/** One line per demo delivery whenever its counters (or why it waits) change. */
const summary = (d: Watched) => {
  const statuses = Object.entries(d.counts.byStatus).map(([s, n]) => `${s} ${n}`).join(", ");
  const reasons = Object.entries(d.counts.byReason).map(([r, n]) => `reason ${r}: ${n}`)
    .join(", ");
  const waits = (d.waiting ?? []).map((w) => `waits: ${w.kind} (${w.count})`).join(", ");
  return [d.state, statuses, reasons, waits].filter(Boolean).join("; ");
};
const last = new Map<string, string>();
const watch = setInterval(async () => {
  for (const w of watched) {
    const d = await api<Watched>("GET", `/v1/deliveries/${w.id}`).catch(() => null);
    if (!d) continue;
    const line = summary(d);
    if (last.get(w.id) !== line) {
      last.set(w.id, line);
      console.log(`  demo ${w.channel.padEnd(5)}      ${line}`);
    }
  }
}, 500);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  clearInterval(watch);
  await simulator.close();
  await gateway.close();
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
