// bench/intake: recipients per second appended through POST /v1/deliveries/{id}/parts, over a
// real HTTP socket on loopback, on PostgreSQL (DATABASE_URL) and on PGlite, with parts of 1,000
// and 10,000 recipients. Each configuration gets a fresh database; parts go one after another
// from `CONCURRENCY` clients into one delivery each.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/intake.ts
//
// Env: TOTAL (recipients per configuration, default 200000), CONCURRENCY (default 2).
import process from "node:process";
import os from "node:os";
import { serve } from "@hono/node-server";
import { sql } from "drizzle-orm";
import { createApp } from "@sendgate/gateway";
import { createKey } from "../apps/gateway/src/services/keys.ts";
import { scratchDatabase } from "../test/support/scratch-database.ts";

const TOTAL = Number(process.env.TOTAL ?? 200_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 2);

function part(offset: number, size: number): string {
  const recipients = [];
  for (let i = 0; i < size; i++) {
    const n = offset + i;
    recipients.push({
      externalId: `r${n}`,
      address: `user${n}@example${n % 50}.com`,
      fields: { firstName: `Name${n}`, segment: n % 7 },
    });
  }
  return JSON.stringify({ recipients });
}

async function run(kind: "postgres" | "pglite", size: number) {
  const { database, drop } = await scratchDatabase(kind, "sendgate_bench");
  const app = createApp({ database, rateLimit: { perSecond: 1e9, burst: 1e9 } });
  const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 });
  await new Promise((resolve) => server.once("listening", resolve));
  const port = (server.address() as { port: number }).port;
  const base = `http://127.0.0.1:${port}`;
  const { key } = await createKey(database, "bench", false);
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const parts = Math.ceil(TOTAL / size);
  // Bodies are built before the clock starts: the figure is the gateway's, not the client's.
  const bodies = Array.from({ length: parts }, (_, p) => part(p * size, size));
  const deliveries: string[] = [];
  for (let c = 0; c < CONCURRENCY; c++) {
    const res = await fetch(`${base}/v1/deliveries`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        channel: "email",
        content: { from: "news@example.com", subject: "Hi", text: "Hello" },
      }),
    });
    deliveries.push(((await res.json()) as { id: string }).id);
  }
  let next = 0;
  let accepted = 0;
  const started = performance.now();
  await Promise.all(deliveries.map(async (id) => {
    while (next < parts) {
      const body = bodies[next++]!;
      const res = await fetch(`${base}/v1/deliveries/${id}/parts`, {
        method: "POST",
        headers,
        body,
      });
      if (res.status !== 201) throw new Error(`part answered ${res.status}: ${await res.text()}`);
      accepted += ((await res.json()) as { accepted: number }).accepted;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const [{ n }] = await database.rows<{ n: number }>(
    sql`select count(*)::int as n from messages`,
  ) as [{ n: number }];
  server.close();
  await drop();
  if (n !== parts * size || accepted !== n) {
    throw new Error(`expected ${parts * size} messages, found ${n} (accepted ${accepted})`);
  }
  return { kind, size, recipients: n, seconds, perSecond: Math.round(n / seconds) };
}

const kinds: ("postgres" | "pglite")[] = process.env.DATABASE_URL
  ? ["postgres", "pglite"]
  : ["pglite"];
console.log(
  `intake: ${TOTAL} recipients per run, ${CONCURRENCY} concurrent clients; ${os.cpus().length} × ${
    os.cpus()[0]?.model
  }; node ${process.version}`,
);
console.log("| storage | part size | recipients | seconds | recipients/s |");
console.log("|---|---|---|---|---|");
for (const kind of kinds) {
  for (const size of [1_000, 10_000]) {
    const r = await run(kind, size);
    console.log(
      `| ${r.kind} | ${r.size} | ${r.recipients} | ${r.seconds.toFixed(2)} | ${r.perSecond} |`,
    );
  }
}
