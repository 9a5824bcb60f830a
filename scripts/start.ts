// `npm start`: Sendgate for a new user, on embedded PGlite (./data) unless DATABASE_URL is set.
// Starts the gateway and the simulator (default ports), makes sure there is an operator key
// (SENDGATE_ADMIN_KEY, or one created and printed on first start), creates a demo delivery per
// channel addressed to the simulator's magic recipients, and prints where to look. The senders
// come with a later issue: until then the demo messages stay pending.
import process from "node:process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createKey } from "../apps/gateway/src/services/keys.ts";
import { loadConfig, startGateway } from "@sendgate/gateway";
import { defaultScenario, startSimulator } from "@sendgate/simulator";

const config = loadConfig();
const gateway = await startGateway(config);
const simulator = await startSimulator(defaultScenario(), {
  controlPort: 8090,
  smtpPort: 2525,
  smppPort: 2775,
  pushPort: 8092,
  pushTlsPort: 8093,
}).catch(async (error: Error) => {
  console.error(
    `sendgate: the simulator could not start (${error.message}); is another one running?`,
  );
  await gateway.close();
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
const api = async (path: string, body: unknown) => {
  const res = await fetch(`${gateway.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; accepted: number; ignored: number };
};
const demos = [
  {
    channel: "email",
    content: {
      from: "Demo <demo@sendgate.example>",
      subject: "Hello from Sendgate",
      text: "Hello {{firstName}}",
    },
  },
  { channel: "sms", content: { sender: "Sendgate", text: "Hello from Sendgate" } },
  { channel: "push", content: { title: "Hello", body: "Hello from Sendgate" } },
];
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
const recipients: Record<string, unknown[]> = {
  email: [{ externalId: "1", address: "success@simulator.example", fields: { firstName: "Ada" } }, {
    externalId: "2",
    address: "",
  }],
  sms: [{ externalId: "1", address: "+15550000000" }],
  push: [{
    externalId: "1",
    address: { endpoint: subscription.endpoint, keys: subscription.keys },
  }],
};
console.log(
  `Sendgate gateway on ${gateway.url} (${
    gateway.database.kind === "postgres" ? "PostgreSQL" : `PGlite in ${config.dataDir}`
  })`,
);
console.log(`  API reference   ${gateway.url}/docs   (OpenAPI: ${gateway.url}/openapi.json)`);
console.log(
  config.adminKey
    ? "  operator key    the SENDGATE_ADMIN_KEY you set"
    : `  operator key    ${key}   (${created ? "new" : "kept"}${
      keyFile ? ` in ${keyFile}` : ""
    }; set SENDGATE_ADMIN_KEY to choose your own)`,
);
console.log("  more keys       npm run keys -- create --instance NAME [--operator]");
console.log("Simulator (loopback)");
for (const [name, urls] of Object.entries(simulator.urls)) {
  console.log(`  ${name.padEnd(15)} ${urls.join("  ")}`);
}
for (const demo of demos) {
  const delivery = await api("/v1/deliveries", { ...demo, externalRef: "demo" });
  const part = await api(`/v1/deliveries/${delivery.id}/parts`, {
    recipients: recipients[demo.channel],
  });
  console.log(
    `  demo ${
      demo.channel.padEnd(5)
    }      ${gateway.url}/v1/deliveries/${delivery.id}   (${part.accepted} pending, ${part.ignored} ignored)`,
  );
}
console.log(
  "The senders are not built yet: the demo messages stay pending. Ctrl-C stops.",
);

process.on("SIGINT", async () => {
  await simulator.close();
  await gateway.close();
  process.exit(0);
});
