// `npm start`: Sendgate for a new user, on embedded PGlite (./data) unless DATABASE_URL is set.
// Starts the gateway, makes sure there is an operator key (SENDGATE_ADMIN_KEY, or one created
// and printed on first start), creates a demo delivery per channel, and prints where to look.
// The simulator and the senders come with later issues: the demo messages stay pending.
import process from "node:process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createKey } from "../apps/gateway/src/services/keys.ts";
import { loadConfig, startGateway } from "@sendgate/gateway";

const config = loadConfig();
const gateway = await startGateway(config);
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
const recipients: Record<string, unknown[]> = {
  email: [{ externalId: "1", address: "success@simulator.example", fields: { firstName: "Ada" } }, {
    externalId: "2",
    address: "",
  }],
  sms: [{ externalId: "1", address: "+15550000001" }],
  push: [{
    externalId: "1",
    address: {
      endpoint: "http://127.0.0.1:8092/push/demo",
      keys: {
        p256dh:
          "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
        auth: "tBHItJI5svbpez7KI4CCXg",
      },
    },
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
  "Senders and the simulator are not built yet (issues #4 onwards): demo messages stay pending. Ctrl-C stops.",
);

process.on("SIGINT", async () => {
  await gateway.close();
  process.exit(0);
});
