/**
 * The load runner: acts as a campaign instance against a gateway (creates deliveries, appends
 * parts over REST, starts them), waits until every message settles or a deadline passes, and
 * judges every message against the simulator's ledger (`compare`). Used by `npm run load` and by
 * the cluster tests, which point it at gateway processes they start and kill.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { parseConfig, type RunningGateway, startGateway } from "@sendgate/gateway";
import { silentLogger } from "../../apps/gateway/src/log.ts";
import {
  compare,
  type GatewayMessage,
  type LedgerRecord,
  percentile,
  type Verdict,
} from "./compare.ts";

export type LoadChannel = "email" | "push" | "sms" | "mixed";
type One = "email" | "push" | "sms";

export interface LoadOptions {
  channel: LoadChannel;
  messages: number;
  /** Recipients per second handed to the gateway; without it, everything at once. */
  rate?: number | undefined;
  /** A simulator scenario (the parsed JSON) put on the simulator before the run. */
  scenario?: unknown;
  /** An existing gateway and an operator or instance key for it; else one is started. */
  gateway?: { url: string; key: string } | undefined;
  /** The control URL of the simulator the gateway sends to; else one is started. */
  simulator?: string | undefined;
  /** Give up waiting after this long (seconds). */
  deadlineSeconds?: number;
  partSize?: number;
  /** Called about once a second while the run waits. */
  onProgress?: (progress: Progress) => void;
}

export interface Progress {
  phase: "intake" | "sending";
  accepted: number;
  settled: number;
  total: number;
  elapsedSeconds: number;
}

export interface LoadReport extends Omit<Verdict, "problems"> {
  channel: LoadChannel;
  requested: number;
  accepted: number;
  rejected: number;
  database: string | null;
  gateway: string;
  simulator: string;
  deliveries: string[];
  timedOut: boolean;
  durationSeconds: number;
  throughput: { acceptedPerSecond: number; finalPerSecond: number };
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  problems: Verdict["problems"];
}

/**
 * The scenario of a run when none is given: mostly accepted, with every synchronous failure
 * DOMAIN §10 qualifies (hard, soft, ignored), so that a run checks qualification and retries
 * and not only delivery. Left out, to be added with a scenario: outcomes that kill a whole SMTP
 * connection (tryLater, drop); push 429s, which pause the whole push service for their Retry-After
 * (1 % of them, even 1 s each, keep it paused most of the time, as a polite sender must). The
 * asynchronous reports are in: DSNs (hard and soft), auto-replies and complaints, sent by the
 * simulator to the gateway's bounce listener, and SMS receipts.
 */
export const defaultLoadScenario = {
  seed: 1,
  email: {
    mix: {
      accept: 90,
      userUnknown: 3,
      mailboxFull: 2,
      mailboxFullAfterData: 1,
      disabled: 1,
      spam: 1,
      greylist: 2,
      bounceLater: 2,
      softBounceLater: 1,
      autoReply: 1,
      complaint: 1,
    },
    reportTo: "envelope",
    asyncDelay: { minMs: 50, maxMs: 1_000 },
  },
  push: {
    mix: { accept: 92, gone: 3, notFound: 1, serverError: 3, unavailable: 1 },
  },
  // Left out: throttled / queue full (the client slows the bind and tries again, so that a
  // number always throttled waits out every back-off), and no response (a 10 s timeout each).
  sms: {
    mix: {
      delivered: 86,
      enrouteDelivered: 3,
      acceptedNoReceipt: 1,
      invalidDestination: 2,
      unknownSubscriber: 2,
      absentSubscriber: 1,
      expired: 1,
      rejected: 1,
      deleted: 1,
      submitFailed: 1,
      unknown: 1,
    },
    asyncDelay: { minMs: 50, maxMs: 1_000 },
  },
};

/** Short retries so that a run ends: two more attempts, 2 s apart, within ten minutes. */
const RETRY_POLICY = { steps: [{ count: 2, intervalSeconds: 2 }] };

const root = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Whether asynchronous outcomes are still on their way: reports the simulator has scheduled and
 * not sent, or email reports the gateway stored and has not applied yet.
 */
async function asyncPending(simulator: string, api: Api): Promise<boolean> {
  const health = await (await fetch(`${simulator}/health`)).json() as { asyncPending?: number };
  if ((health.asyncPending ?? 0) > 0) return true;
  const reports = await api.call<{ counts: { state: string; count: number }[] }>(
    "GET",
    "/v1/email/reports?limit=1",
  ).catch(() => ({ counts: [] }));
  return reports.counts.some((c) =>
    (c.state === "pending" || c.state === "waiting") && c.count > 0
  );
}

/** Starts the repository's simulator (`npm run simulator`) on free loopback ports. */
async function startSimulatorProcess(): Promise<
  { url: string; smtp: string; smpp: string; stop(): void }
> {
  const child: ChildProcess = spawn(process.execPath, [
    "--import",
    "tsx",
    join(root, "apps/simulator/src/main.ts"),
    "--only",
    "smtp,smpp,push",
    "--host",
    "127.0.0.1",
    "--control-port",
    "0",
    "--smtp-port",
    "0",
    "--smpp-port",
    "0",
    "--push-port",
    "0",
    "--push-tls-port",
    "0",
  ], { stdio: ["ignore", "pipe", "inherit"], cwd: root });
  let output = "";
  const urls = await new Promise<Record<string, string>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("the simulator did not start in 60 s")),
      60_000,
    );
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (!/scenario seed/u.test(output)) return;
      clearTimeout(timer);
      const found: Record<string, string> = {};
      for (const line of output.split("\n")) {
        const m = /^\s+(\w+)\s+(\S+:\/\/\S+)/u.exec(line);
        if (m) found[m[1]!] = m[2]!;
      }
      resolve(found);
    });
    child.once("exit", (code) => reject(new Error(`the simulator exited (${code}):\n${output}`)));
  });
  if (!urls.control || !urls.smtp || !urls.smpp) {
    throw new Error(`unexpected simulator banner:\n${output}`);
  }
  return {
    url: urls.control,
    smtp: urls.smtp,
    smpp: urls.smpp,
    stop: () => child.kill("SIGTERM"),
  };
}

/** This run's SMS the simulator accepted and will never send a receipt for (acceptedNoReceipt). */
async function noReceiptExpected(
  simulator: string,
  ours: (recipient: string) => boolean,
): Promise<number> {
  const res = await fetch(`${simulator}/ledger/export`).catch(() => null);
  if (!res?.ok) return 0;
  const last = new Map<string, string>();
  for (const line of (await res.text()).split("\n")) {
    if (!line.trim()) continue;
    const e = JSON.parse(line) as LedgerRecord;
    if (e.channel === "sms" && ours(e.recipient)) last.set(e.recipient, e.expected.status);
  }
  return [...last.values()].filter((s) => s === "takenIntoAccount").length;
}

class Api {
  constructor(readonly base: string, readonly key: string) {}
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    for (let attempt = 0;; attempt++) {
      let res: Response;
      try {
        res = await fetch(`${this.base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${this.key}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (error) {
        // A connection reset under load: a read is tried again (a write is not: it may have
        // landed, and the verdict must count what the gateway really took).
        if (method === "GET" && attempt < 5) {
          await sleep(500);
          continue;
        }
        throw error;
      }
      // A gateway's per-key rate limit is the only refusal worth waiting out.
      if (res.status === 429 && attempt < 20) {
        await sleep(Number(res.headers.get("retry-after") ?? "1") * 1000);
        continue;
      }
      if (!res.ok) {
        const text = await res.text();
        throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 2000)}`);
      }
      return (await res.json()) as T;
    }
  }
}

type Subscription = { endpoint: string; keys: { p256dh: string; auth: string } };

/** Subscriptions minted by the simulator's push service, following its scenario's mix. */
async function mint(simulator: string, count: number): Promise<Subscription[]> {
  const out: Subscription[] = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(20, count) }, async () => {
    while (next < count) {
      const i = next++;
      const res = await fetch(`${simulator}/push/subscriptions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ behaviour: "mix" }),
      });
      if (!res.ok) {
        throw new Error(`minting a push subscription: ${res.status} ${await res.text()}`);
      }
      const sub = (await res.json()) as Subscription;
      out[i] = { endpoint: sub.endpoint, keys: sub.keys };
    }
  }));
  return out;
}

/** Runs one load: see the module's comment. Resolves with the report; never exits the process. */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const run = randomBytes(4).toString("hex");
  const partSize = options.partSize ?? 5_000;
  const deadline = (options.deadlineSeconds ?? 600) * 1000;
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    // The simulator: the one the gateway sends to, or ours.
    let simulator = options.simulator?.replace(/\/+$/u, "");
    let smtp: string | null = null;
    let smpp: string | null = null;
    if (!simulator) {
      if (options.gateway) {
        throw new Error(
          "--gateway needs --simulator: the control URL of the simulator that gateway sends to " +
            "(npm start prints it)",
        );
      }
      const sim = await startSimulatorProcess();
      cleanups.push(() => sim.stop());
      simulator = sim.url;
      smtp = sim.smtp;
      smpp = sim.smpp;
    }
    const scenario = options.scenario ?? (options.simulator ? undefined : defaultLoadScenario);
    if (scenario !== undefined) {
      const res = await fetch(`${simulator}/scenario`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(scenario),
      });
      if (!res.ok) throw new Error(`the simulator refused the scenario: ${await res.text()}`);
    }

    // The gateway: the one given, or ours (PostgreSQL with DATABASE_URL, else a fresh PGlite).
    let api: Api;
    let database: string | null = null;
    if (options.gateway) {
      api = new Api(options.gateway.url.replace(/\/+$/u, ""), options.gateway.key);
    } else {
      const key = `sgk_load_${randomBytes(24).toString("base64url")}`;
      const dataDir = mkdtempSync(join(tmpdir(), "sendgate-load-"));
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const parsed = parseConfig({
        DATABASE_URL: process.env.DATABASE_URL,
        SENDGATE_DATA_DIR: dataDir,
        HOST: "127.0.0.1",
        PORT: "0",
        SENDGATE_ADMIN_KEY: key,
        SENDGATE_ADMIN_INSTANCE: "load",
        SENDGATE_RATE_LIMIT: "100000",
        SENDGATE_RATE_BURST: "100000",
        SENDGATE_PUSH_ALLOW: "127.0.0.1",
        SENDGATE_LOG_LEVEL: "warn",
        // The channels bootstrapped as a user's environment would: there from the first tick.
        SENDGATE_EMAIL_RELAY: `smtp://127.0.0.1:${new URL(smtp!).port}?insecure`,
        // Two binds of a window of 50: the simulator's account takes any number.
        SENDGATE_SMPP_URL: `smpp://sendgate:secret@127.0.0.1:${
          new URL(smpp!).port
        }?binds=2&window=50`,
        SENDGATE_BOUNCE_DOMAIN: "bounces.load.sendgate.localhost",
        // The simulator's reports come back here (its relay is set below).
        SENDGATE_BOUNCE_LISTEN: "127.0.0.1:0",
        SENDGATE_VAPID_SUBJECT: "mailto:load@sendgate.localhost",
      });
      if (!parsed.ok) throw new Error(`gateway configuration: ${parsed.errors.join("; ")}`);
      const gateway: RunningGateway = await startGateway(parsed.config, {
        logger: silentLogger(),
      });
      cleanups.push(() => gateway.close());
      database = gateway.database.kind;
      if (gateway.bounceUrl && scenario !== undefined) {
        const listener = new URL(gateway.bounceUrl);
        const given = scenario as { email?: Record<string, unknown> };
        const res = await fetch(`${simulator}/scenario`, {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            ...given,
            email: {
              ...given.email,
              relay: { host: listener.hostname, port: Number(listener.port) },
            },
          }),
        });
        if (!res.ok) throw new Error(`the simulator refused its relay: ${await res.text()}`);
      }
      api = new Api(gateway.url, key);
    }

    // Intake: one delivery per channel (or, with a rate, one per second and channel).
    const third = Math.floor(options.messages / 3);
    const split: { channel: One; count: number }[] = options.channel === "mixed"
      ? [
        { channel: "email", count: options.messages - 2 * third },
        { channel: "push", count: third },
        { channel: "sms", count: third },
      ]
      : [{ channel: options.channel, count: options.messages }];
    const pushSubs = await mint(
      simulator,
      split.find((s) => s.channel === "push")?.count ?? 0,
    );
    // SMS numbers of this run: +44, three digits of the run, eight of the message (never the
    // simulator's magic +1555… numbers, so that its scenario's mix decides).
    const runDigits = String(
      parseInt(run.replace(/[^0-9a-f]/giu, "").slice(0, 6) || "0", 16) % 1000,
    )
      .padStart(3, "0");
    const recipient = (channel: One, n: number) =>
      channel === "email"
        ? { externalId: `${n}`, address: `load-${run}-${n}@load.simulator.example`, fields: { n } }
        : channel === "sms"
        ? { externalId: `${n}`, address: `+44${runDigits}${String(n).padStart(8, "0")}` }
        : { externalId: `${n}`, address: pushSubs[n]! };
    const contents = {
      email: {
        from: "Load <load@sendgate.localhost>",
        subject: "Load {{n}}",
        text: "Hello {{n}}, this is a load test.",
      },
      push: { title: "Load", body: "This is a load test", ttlSeconds: 600 },
      sms: { sender: "Load", text: "This is a load test: @ and € in GSM-7" },
    };
    const deliveries: { id: string; channel: One }[] = [];
    let accepted = 0;
    let rejected = 0;
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    const intakeProgress = () =>
      options.onProgress?.({
        phase: "intake",
        accepted,
        settled: 0,
        total: options.messages,
        elapsedSeconds: elapsed(),
      });
    const create = async (channel: One, ref: string) => {
      const d = await api.call<{ id: string }>("POST", "/v1/deliveries", {
        channel,
        content: contents[channel],
        externalRef: ref,
        retryPolicy: RETRY_POLICY,
        validitySeconds: 3_600,
      });
      deliveries.push({ id: d.id, channel });
      return d.id;
    };
    const append = async (id: string, channel: One, from: number, to: number) => {
      const recipients = [];
      for (let n = from; n < to; n++) recipients.push(recipient(channel, n));
      const part = await api.call<{ accepted: number; rejected: unknown[]; ignored: number }>(
        "POST",
        `/v1/deliveries/${id}/parts`,
        { recipients },
      );
      accepted += part.accepted;
      rejected += part.rejected.length + part.ignored;
    };
    if (options.rate === undefined) {
      for (const { channel, count } of split) {
        if (count === 0) continue;
        const id = await create(channel, `load-${run}-${channel}`);
        for (let from = 0; from < count; from += partSize) {
          await append(id, channel, from, Math.min(count, from + partSize));
          intakeProgress();
        }
        await api.call("POST", `/v1/deliveries/${id}/start`);
      }
    } else {
      // A flow of small deliveries, each started at once: intake and sending overlap.
      const perTick = Math.max(1, Math.round(options.rate));
      const offsets = new Map(split.map((s) => [s.channel, 0]));
      for (let tick = 0;; tick++) {
        const due = started + tick * 1000;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        let left = false;
        for (const { channel, count } of split) {
          const from = offsets.get(channel)!;
          if (from >= count) continue;
          const share = Math.max(1, Math.round(perTick * count / options.messages));
          const to = Math.min(count, from + share);
          const id = await create(channel, `load-${run}-${channel}-${tick}`);
          await append(id, channel, from, to);
          await api.call("POST", `/v1/deliveries/${id}/start`);
          offsets.set(channel, to);
          if (to < count) left = true;
        }
        intakeProgress();
        if (!left) break;
      }
    }
    const intakeSeconds = elapsed();

    // Wait for every delivery to finish, or the deadline.
    type Counts = { counts: { byStatus: Record<string, number> }; state: string };
    let timedOut = false;
    let quiet = 0;
    for (;;) {
      const views = await Promise.all(
        deliveries.map((d) => api.call<Counts>("GET", `/v1/deliveries/${d.id}`)),
      );
      const unsettled = views.reduce(
        (sum, v) =>
          sum + (v.counts.byStatus.pending ?? 0) + (v.counts.byStatus.prepared ?? 0) +
          (v.counts.byStatus.sentToProvider ?? 0),
        0,
      );
      // SMS taken into account by the provider wait for their receipt, except those the ledger
      // says will never have one.
      const awaiting = views.reduce((sum, v) => sum + (v.counts.byStatus.takenIntoAccount ?? 0), 0);
      options.onProgress?.({
        phase: "sending",
        accepted,
        settled: accepted - unsettled - awaiting,
        total: options.messages,
        elapsedSeconds: elapsed(),
      });
      if (views.every((v) => v.state === "finished" || v.state === "cancelled")) {
        // The asynchronous outcomes too: nothing left in the simulator's schedule (DSNs,
        // auto-replies, complaints, receipts), and every email report the gateway stored applied
        // (a soft bounce may open a delivery again: the next round sees it).
        // Quiet twice in a row, a second apart: a report the simulator is handing over (its
        // schedule done, not stored by the listener yet) is counted by neither side for a moment.
        quiet = (await asyncPending(simulator!, api)) ? 0 : quiet + 1;
        if (quiet >= 2) {
          if (awaiting === 0) break;
          const mine = `+44${runDigits}`;
          if (awaiting <= (await noReceiptExpected(simulator!, (r) => r.startsWith(mine)))) break;
        }
      }
      if (performance.now() - started > deadline) {
        timedOut = true;
        break;
      }
      await sleep(1000);
    }

    // Every message as the gateway reports it, and the ledger.
    const messages: GatewayMessage[] = [];
    for (const d of deliveries) {
      let cursor: string | null = null;
      do {
        const page: { items: Omit<GatewayMessage, "channel">[]; nextCursor: string | null } =
          await api.call(
            "GET",
            `/v1/deliveries/${d.id}/messages?limit=1000${
              cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""
            }`,
          );
        for (const m of page.items) messages.push({ ...m, channel: d.channel });
        cursor = page.nextCursor;
      } while (cursor);
    }
    const ours = new Set(messages.map((m) => `${m.channel}\n${m.address}`));
    const ledgerRes = await fetch(`${simulator}/ledger/export`);
    if (!ledgerRes.ok) throw new Error(`reading the simulator's ledger: ${ledgerRes.status}`);
    const ledger: LedgerRecord[] = [];
    for (const line of (await ledgerRes.text()).split("\n")) {
      if (!line.trim()) continue;
      const e = JSON.parse(line) as LedgerRecord;
      if (ours.has(`${e.channel}\n${e.recipient}`)) ledger.push(e);
    }
    const verdict = compare(messages, ledger);

    const settledAt = messages.filter((m) => !["pending", "prepared"].includes(m.status));
    const latencies = settledAt.map((m) => Date.parse(m.updatedAt) - Date.parse(m.createdAt))
      .sort((a, b) => a - b);
    const lastFinal = Math.max(0, ...settledAt.map((m) => Date.parse(m.updatedAt)));
    const firstAccepted = Math.min(...messages.map((m) => Date.parse(m.createdAt)));
    const sendingSeconds = Math.max(0.001, (lastFinal - firstAccepted) / 1000);
    return {
      channel: options.channel,
      requested: options.messages,
      accepted,
      rejected,
      database,
      gateway: api.base,
      simulator,
      deliveries: deliveries.map((d) => d.id),
      timedOut,
      durationSeconds: Number(elapsed().toFixed(2)),
      throughput: {
        acceptedPerSecond: Math.round(accepted / Math.max(0.001, intakeSeconds)),
        finalPerSecond: Math.round(verdict.settled / sendingSeconds),
      },
      latencyMs: {
        p50: percentile(latencies, 0.5),
        p90: percentile(latencies, 0.9),
        p99: percentile(latencies, 0.99),
        max: latencies.at(-1) ?? 0,
      },
      ...verdict,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}
