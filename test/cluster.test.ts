import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "@sendgate/db";
import { defaultScenario, type RunningSimulator, startSimulator } from "@sendgate/simulator";
import { defaultLoadScenario, type LoadReport, runLoad } from "../scripts/load/run.ts";
import { backends } from "./support/harness.ts";
import { baseEnv, start, type Started } from "./support/process.ts";
import { scratchDatabaseUrl } from "./support/scratch-database.ts";

// Several gateway processes on one PostgreSQL, as `npm run gateway` starts them: one serving the
// API, two dispatching (SENDGATE_ROLES), started at the same moment on an empty database. The
// load runner acts as the campaign instance and judges every message against the simulator's
// ledger; the test watches who holds claims, and kills a dispatcher with SIGKILL mid-batch.

const onPostgres = backends().some((b) => b.name === "postgres");
const KEY = "cluster-admin-key-0123456789abcdef";
/** Per channel and dispatcher process: what one process can hold in flight (workers × batch). */
const WORKERS = 2;
const BATCH = 50;
/** SMS binds the provider allows, for the cluster. */
const BINDS = 2;

describe.runIf(onPostgres)("several gateway processes on one PostgreSQL", () => {
  let scratch: { url: string; drop(): Promise<void> };
  let sim: RunningSimulator;
  let db: Database;
  let api: Started;
  let apiUrl = "";
  let bounces: URL;
  const dispatchers: Started[] = [];
  const env = (roles: string) => ({
    ...baseEnv(),
    // Dispatchers name their connections, so that a test can cut exactly those.
    DATABASE_URL: roles === "dispatcher"
      ? `${scratch.url}?application_name=sendgate-dispatcher`
      : scratch.url,
    HOST: "127.0.0.1",
    PORT: "0",
    SENDGATE_ROLES: roles,
    // The API process takes the simulator's reports; the dispatchers apply them.
    ...(roles === "api" ? { SENDGATE_BOUNCE_LISTEN: "127.0.0.1:0" } : {}),
    SENDGATE_ADMIN_KEY: KEY,
    SENDGATE_RATE_LIMIT: "100000",
    SENDGATE_RATE_BURST: "100000",
    SENDGATE_PUSH_ALLOW: "127.0.0.1",
    SENDGATE_LEASE_SECONDS: "3",
    SENDGATE_LOG_LEVEL: "info",
  });
  const LISTENING = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"gateway listening"/u;
  const startDispatcherProcess = async () => {
    const p = start("apps/gateway/src/main.ts", env("dispatcher"));
    dispatchers.push(p);
    await p.waitFor(/"msg":"gateway listening"/u, 90_000);
    return p;
  };
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBeLessThan(300);
    return await res.json();
  };
  /** The dispatcher processes holding claims right now, by pid (claimers are `host:pid:random`). */
  const claimers = async () =>
    (await db.rows<{ claimer: string }>(
      sql`select distinct claimed_by as claimer from messages where claimed_by is not null`,
    )).map((r) => Number(r.claimer.split(":").at(-2)));

  /** Waits (up to a minute) until the processes holding claims are as `wanted` says. */
  const untilClaimedBy = async (wanted: (pids: number[]) => boolean, otherwise: string) => {
    const deadline = Date.now() + 60_000;
    while (!wanted(await claimers())) {
      if (Date.now() > deadline) throw new Error(otherwise);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  beforeAll(async () => {
    scratch = await scratchDatabaseUrl("sendgate_cluster");
    sim = await startSimulator(defaultScenario(), {
      controlPort: 0,
      smtpPort: 0,
      smppPort: 0,
      pushPort: 0,
      pushTlsPort: 0,
    });
    // All three at once on the empty database: migrations take turns (an advisory lock).
    api = start("apps/gateway/src/main.ts", env("api"));
    const [match] = await Promise.all([
      api.waitFor(LISTENING, 90_000),
      startDispatcherProcess(),
      startDispatcherProcess(),
    ]);
    apiUrl = match[1]!;
    bounces = new URL(
      (await api.waitFor(/"url":"(smtp:\/\/[^"]+)"[^\n]*"msg":"bounce listener listening"/u))[1]!,
    );
    db = await openDatabase({ url: scratch.url, max: 2 });
    const smtp = new URL(sim.urls.smtp![0]!);
    await call("PUT", "/v1/channels/email", {
      mode: "relay",
      relay: { host: smtp.hostname, port: Number(smtp.port), tlsRejectUnauthorized: false },
      bounceDomain: "bounces.cluster.test",
      workers: WORKERS,
      batchSize: BATCH,
    });
    await call("PUT", "/v1/channels/push", {
      subject: "mailto:ops@cluster.test",
      workers: WORKERS,
      batchSize: BATCH,
    });
    // Two binds for the whole cluster: one per dispatcher process, never more.
    const smsc = new URL(sim.urls.smpp![0]!);
    await call("PUT", "/v1/sms/providers/simulator", {
      host: smsc.hostname,
      port: Number(smsc.port),
      systemId: "sendgate",
      password: "secret",
      binds: BINDS,
      window: 20,
    });
  }, 180_000);

  /** The SMSC's bound sessions, sampled while a test runs: never above the provider's binds. */
  let maxBinds = 0;
  const sampleBinds = () => setInterval(() => (maxBinds = Math.max(maxBinds, smscBinds())), 50);
  const smscBinds = () => sim.smsc?.activeBinds ?? 0;

  afterAll(async () => {
    await Promise.all([api, ...dispatchers].filter(Boolean).map((p) => p.stop()));
    await db?.close();
    await sim?.close();
    await scratch?.drop();
  }, 60_000);

  const load = (messages: number, onProgress?: () => void): Promise<LoadReport> =>
    runLoad({
      channel: "mixed",
      messages,
      gateway: { url: apiUrl, key: KEY },
      simulator: sim.urls.control[0]!,
      // The default scenario, DSNs, auto-replies and complaints included, sent to the API
      // process's bounce listener.
      scenario: {
        ...defaultLoadScenario,
        email: {
          ...defaultLoadScenario.email,
          relay: { host: bounces.hostname, port: Number(bounces.port) },
        },
      },
      deadlineSeconds: 150,
      ...(onProgress ? { onProgress } : {}),
    });

  it("sends with both dispatcher processes, each message once", async () => {
    const seen = new Set<number>();
    const watch = setInterval(() => {
      claimers().then((pids) => pids.forEach((p) => seen.add(p)), () => {});
    }, 100);
    const binds = sampleBinds();
    const report = await load(4_000).finally(() => {
      clearInterval(watch);
      clearInterval(binds);
    });
    expect(report, JSON.stringify(report.problems)).toMatchObject({
      accepted: 4_000,
      settled: 4_000,
      lost: 0,
      mismatched: 0,
      duplicates: 0,
      timedOut: false,
    });
    // Both processes held claims during the run; the API process never did.
    expect([...seen].sort()).toEqual(dispatchers.map((d) => d.child.pid!).sort());
    // The provider's binds were shared: each dispatcher held one slot, the SMSC saw at most two.
    const slots = await db.rows<{ holder: string }>(
      sql`select holder from sms_bind_leases where lease_until > now()`,
    );
    expect(slots).toHaveLength(BINDS);
    expect(new Set(slots.map((s) => Number(s.holder.split(":").at(-2))))).toEqual(
      new Set(dispatchers.map((d) => d.child.pid!)),
    );
    expect(maxBinds).toBeGreaterThan(0);
    expect(maxBinds).toBeLessThanOrEqual(BINDS);
  }, 200_000);

  it(
    "loses nothing when the dispatchers' database connections are cut in the middle of a batch",
    async () => {
      let cuts = 0;
      let cutting: Promise<void> | null = null;
      const report = await load(4_000, () => {
        if (cutting) return;
        cutting = (async () => {
          for (let n = 0; n < 2; n++) {
            await untilClaimedBy((pids) => pids.length > 0, "nobody claimed");
            const cut = await db.rows<{ n: number }>(sql`
            select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
            where application_name = 'sendgate-dispatcher'`);
            cuts += cut[0]!.n;
            await new Promise((r) => setTimeout(r, 1_000));
          }
        })();
      });
      await cutting;
      expect(cuts).toBeGreaterThan(0);
      expect(report, JSON.stringify(report.problems)).toMatchObject({
        accepted: 4_000,
        settled: 4_000,
        lost: 0,
        mismatched: 0,
        timedOut: false,
      });
      // The processes lived through it (they reconnect), and said what happened.
      for (const d of dispatchers) expect(d.child.exitCode, d.output().slice(-3000)).toBeNull();
      console.log(
        `connections cut (${cuts}) mid-batch: ${report.duplicates} duplicates (bound ${
          2 * 2 * 2 * WORKERS * BATCH
        })`,
      );
      expect(report.duplicates).toBeLessThanOrEqual(2 * 2 * 2 * WORKERS * BATCH);
    },
    200_000,
  );

  it("loses nothing when a dispatcher is killed in the middle of a batch", async () => {
    const victim = dispatchers[0]!;
    let killed: Promise<void> | null = null;
    const report = await load(4_000, () => {
      if (killed) return;
      killed = (async () => {
        // Wait until it holds claims: then it is in the middle of a batch.
        await untilClaimedBy(
          (pids) => pids.includes(victim.child.pid!),
          "the victim never claimed",
        );
        victim.child.kill("SIGKILL");
        await victim.exited;
        await startDispatcherProcess();
      })();
    });
    await killed;
    expect(victim.child.signalCode).toBe("SIGKILL");
    expect(report, JSON.stringify(report.problems)).toMatchObject({
      accepted: 4_000,
      settled: 4_000,
      lost: 0,
      mismatched: 0,
      timedOut: false,
    });
    // At most what the killed process had in flight went twice (two channels).
    console.log(
      `kill -9 mid-batch: ${report.duplicates} duplicates (bound ${2 * WORKERS * BATCH})`,
    );
    expect(report.duplicates).toBeLessThanOrEqual(2 * WORKERS * BATCH);
  }, 200_000);
});
