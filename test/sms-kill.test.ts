import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultScenario, type RunningSimulator, startSimulator } from "@sendgate/simulator";
import type { LedgerEntry } from "../apps/simulator/src/ledger.ts";
import { backends } from "./support/harness.ts";
import { until } from "./support/dispatch.ts";
import { baseEnv, start, type Started } from "./support/process.ts";
import { scratchDatabaseUrl } from "./support/scratch-database.ts";

// `kill -9` of a gateway process between `submit_sm_resp` and the receipts (issue 9): every
// message is taken into account by the SMSC, some receipts are already applied, others are on
// the wire unacknowledged or still to come. After a restart on the same database, every receipt
// the SMSC sends (again, for those never acknowledged) is applied, nothing is sent twice, and
// every message ends as the simulator's ledger says. On PostgreSQL and on PGlite (a data dir).

const KEY = "sms-kill-admin-key-0123456789abcdef";
const COUNT = 240;
/** Outcomes, in turn: delivered, unknown subscriber (failed), enroute then delivered. */
const OUTCOMES = ["00", "03", "12"];

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator(defaultScenario(), {
    controlPort: 0,
    smtpPort: null,
    smppPort: 0,
    pushPort: null,
    pushTlsPort: null,
  });
  // Receipts 2.5–9 s after the submit: the kill falls in the middle of them.
  const res = await fetch(`${sim.urls.control[0]}/scenario`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sms: { asyncDelay: { minMs: 2_500, maxMs: 9_000 } } }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}, 30_000);
afterAll(async () => {
  await sim?.close();
});

type Msg = { id: string; address: string; status: string; failureType: string | null };

describe.each(backends().map((b) => b.name))("kill -9 between submit_sm_resp and receipt [%s]", (
  backend,
) => {
  let env: Record<string, string>;
  let cleanup: () => Promise<void> = async () => {};
  let gateway: Started | null = null;
  let url = "";
  const tag = backend === "postgres" ? 7 : 8;

  beforeAll(async () => {
    const smpp = new URL(sim.urls.smpp![0]!);
    env = {
      ...baseEnv(),
      SENDGATE_ADMIN_KEY: KEY,
      PORT: "0",
      HOST: "127.0.0.1",
      SENDGATE_LOG_LEVEL: "info",
      SENDGATE_RATE_LIMIT: "100000",
      SENDGATE_RATE_BURST: "100000",
      SENDGATE_SMPP_URL: `smpp://sendgate:secret@127.0.0.1:${smpp.port}?window=50`,
    };
    if (backend === "postgres") {
      const scratch = await scratchDatabaseUrl("sms_kill");
      env.DATABASE_URL = scratch.url;
      cleanup = scratch.drop;
    } else {
      const dir = mkdtempSync(join(tmpdir(), "sendgate-sms-kill-"));
      env.SENDGATE_DATA_DIR = dir;
      cleanup = () => Promise.resolve(rmSync(dir, { recursive: true, force: true }));
    }
  }, 60_000);
  afterAll(async () => {
    await gateway?.stop();
    await cleanup();
  }, 60_000);

  const startGateway = async () => {
    gateway = start("apps/gateway/src/main.ts", env);
    url = (await gateway.waitFor(/gateway on (http:\/\/\S+)/u, 90_000))[1]!;
  };
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBeLessThan(300);
    // deno-lint-ignore no-explicit-any
    return (await res.json()) as any;
  };
  const messages = async (id: string) =>
    (await call("GET", `/v1/deliveries/${id}/messages?limit=1000`)).items as Msg[];
  const ledgerFor = (recipient: string): LedgerEntry[] =>
    sim.ctx.ledger.since(0, 1_000_000).filter((e) => e.recipient === recipient);

  it("loses no receipt and sends nothing twice across the restart", async () => {
    await startGateway();
    const numbers = Array.from(
      { length: COUNT },
      (_, i) => `+1555${tag}${String(i).padStart(4, "0")}${OUTCOMES[i % OUTCOMES.length]}`,
    );
    const delivery = await call("POST", "/v1/deliveries", {
      channel: "sms",
      content: { sender: "Shop", text: "Your code is 1234" },
    });
    await call("POST", `/v1/deliveries/${delivery.id}/parts`, {
      recipients: numbers.map((address, i) => ({ externalId: `${i}`, address })),
    });
    await call("POST", `/v1/deliveries/${delivery.id}/start`);

    // Every message taken into account (or already further), and the first receipts applied.
    const before = await until("taken into account, receipts coming", () => messages(delivery.id), (
      ms,
    ) =>
      ms.length === COUNT &&
      ms.every((m) => !["pending", "prepared", "sentToProvider"].includes(m.status)) &&
      ms.some((m) => m.status !== "takenIntoAccount"), 60_000);
    const open = before.filter((m) => m.status === "takenIntoAccount").length;
    gateway!.child.kill("SIGKILL");
    await gateway!.exited;
    expect(gateway!.child.signalCode).toBe("SIGKILL");
    // The kill fell between the submit responses and (most of) the receipts.
    expect(open).toBeGreaterThan(COUNT / 4);
    console.log(`[${backend}] killed with ${open} of ${COUNT} messages waiting for a receipt`);

    await startGateway();
    const after = await until(
      "every receipt applied after the restart",
      () => messages(delivery.id),
      (ms) => ms.every((m) => m.status === "receivedOnMobile" || m.status === "failed"),
      90_000,
    );
    for (const m of after) {
      const entries = ledgerFor(m.address);
      // One submit per number: nothing went out again after the restart.
      expect(entries.length, m.address).toBe(1);
      const expected = entries[0]!.expected;
      expect([m.status, m.failureType], m.address).toEqual([
        expected.status,
        expected.status === "failed" ? expected.type : null,
      ]);
    }
    const counts = (await call("GET", `/v1/deliveries/${delivery.id}`)).counts.byStatus;
    expect(counts).toMatchObject({
      receivedOnMobile: (COUNT / OUTCOMES.length) * 2,
      failed: COUNT / OUTCOMES.length,
    });
    // No report left waiting for a message: each one found its message.
    const reports = await call("GET", "/v1/sms/reports");
    expect(reports.items, JSON.stringify(reports)).toEqual([]);
  }, 240_000);
});
