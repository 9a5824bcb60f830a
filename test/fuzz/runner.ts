import { Buffer } from "node:buffer";
import fc from "fast-check";
import { type Case, caseArbitrary, type Context } from "./cases.ts";
import { Checker, Collector, type FailureKind } from "./check.ts";
import { isDocumented, type Operation } from "./openapi.ts";
import { openWorld, seedFixtures, type World } from "./world.ts";

/**
 * The fuzz loop shared by the bounded test and the long bench: every operation of the OpenAPI
 * document gets an equal share of the budget, in small batches taken in turn so that what one
 * route writes (a delivery, a rule) is there for the next (its parts, its deletion).
 */
export interface RunOptions {
  backend: "pglite" | "postgres";
  /** Cases overall, shared equally between the operations. */
  cases: number;
  seed: number;
  /** Stop after this long even if cases remain (a bench bound). */
  minutes?: number;
  /** Cases per operation at least, whatever `cases` gives each: a new route adds cases. */
  minPerRoute?: number;
  /** Cases per operation per turn. */
  batch?: number;
  /**
   * Rows past which the run opens a fresh world: the fingerprint reads every row, so a world
   * that grew without bound would make each case slower than the last.
   */
  maxRows?: number;
  progress?: (line: string) => void;
}

export interface RouteStats {
  cases: number;
  statuses: Map<number, number>;
  /** Statuses the document does not declare for the operation (reported, not a failure). */
  undocumented: Map<number, number>;
  failures: number;
  ms: number;
}

/** Failures of one kind, on one route, with one cause: one line of the report. */
export interface FailureGroup {
  signature: string;
  op: string;
  kind: FailureKind;
  status: number;
  detail: string;
  count: number;
  /** The smallest case that failed this way, and its answer. */
  example: Case;
  answer: string;
  tags: Map<string, number>;
  /** Reported, not failed (see Failure.note). */
  note: boolean;
}

export interface Report {
  seed: number;
  backend: string;
  cases: number;
  seconds: number;
  worlds: number;
  fingerprints: number;
  /** The most rows the application tables held at a fingerprint (see `maxRows`). */
  rows: number;
  routes: Map<string, RouteStats>;
  groups: Map<string, FailureGroup>;
  /** Per operation, how many cases carried each tag: the base rate a failure's tags are read against. */
  baseline: Map<string, Map<string, number>>;
  counts: Record<FailureKind, number>;
  /** Stopped by the time bound before the cases were all run. */
  timedOut: boolean;
}

const KINDS: FailureKind[] = [
  "server-error",
  "not-problem-json",
  "bad-json",
  "unhandled-rejection",
  "write-by-refused-call",
  "logged-error",
  "logged-warning",
  "threw",
  "timeout",
  "generator",
];

/** Turns between two sowings of fresh fixtures. */
const RESEED_TURNS = 3;

/** A cause with its variable parts folded, so that one bug is one group. */
export function normalizeCause(detail: string): string {
  return detail
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/giu, "<uuid>")
    .replace(/"[^"]*"/gu, '"…"')
    .replace(/'[^']*'/gu, "'…'")
    .replace(/:\d+:\d+/gu, "")
    .replace(/(?<!SQL )\b\d+\b/gu, "N")
    .slice(0, 200);
}

/** A seed per operation and turn, spread so that neighbouring seeds do not draw alike. */
function mix(seed: number, a: number, b: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (a + 0x7f4a7c15), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (b + 0x165667b1), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) | 0;
}

const size = (c: Case) =>
  c.path.length + (typeof c.body === "string" ? c.body.length : c.body?.length ?? 0) +
  JSON.stringify(c.headers).length;

export async function runFuzz(options: RunOptions): Promise<Report> {
  const batch = options.batch ?? 10;
  const maxRows = options.maxRows ?? 20_000;
  const deadline = options.minutes ? Date.now() + options.minutes * 60_000 : Infinity;
  const log = options.progress ?? (() => {});
  const collector = new Collector();
  const started = performance.now();
  let world: World = await openWorld(options.backend);
  const ctx: Context = { world };
  let checker = new Checker(world, collector);
  await checker.init();
  const operations: Operation[] = world.operations;
  const arbitraries = operations.map((op) => caseArbitrary(op, ctx));
  const perOp = Math.max(options.minPerRoute ?? 1, Math.ceil(options.cases / operations.length));
  const report: Report = {
    seed: options.seed,
    backend: options.backend,
    cases: 0,
    seconds: 0,
    worlds: 1,
    fingerprints: 0,
    rows: 0,
    routes: new Map(operations.map((op) => [op.id, {
      cases: 0,
      statuses: new Map(),
      undocumented: new Map(),
      failures: 0,
      ms: 0,
    }])),
    groups: new Map(),
    baseline: new Map(operations.map((op) => [op.id, new Map()])),
    counts: Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<FailureKind, number>,
    timedOut: false,
  };

  collector.install();
  try {
    for (let turn = 0; turn * batch < perOp; turn++) {
      for (const [i, op] of operations.entries()) {
        const n = Math.min(batch, perOp - turn * batch);
        for (let k = 0; k < n; k++) {
          // Drawn just before it runs, from a seed of its own: it sees the keys and pools as the
          // previous case left them (a key revoked and minted again, a delivery just created).
          const seed = mix(options.seed, i, turn * batch + k);
          let c: Case;
          try {
            c = fc.sample(arbitraries[i]!, { seed, numRuns: 1 })[0]!;
          } catch (error) {
            generatorFailure(report, op, seed, error, log);
            continue;
          }
          const outcome = await checker.run(c);
          const stats = report.routes.get(op.id)!;
          stats.cases++;
          stats.ms += outcome.ms;
          stats.statuses.set(outcome.status, (stats.statuses.get(outcome.status) ?? 0) + 1);
          const asRouted = c.method === op.method &&
            !c.tags.some((t) => t.startsWith("path-shape"));
          if (asRouted && outcome.status && !isDocumented(op, outcome.status)) {
            stats.undocumented.set(
              outcome.status,
              (stats.undocumented.get(outcome.status) ?? 0) + 1,
            );
          }
          const base = report.baseline.get(op.id)!;
          for (const t of new Set(c.tags)) base.set(t, (base.get(t) ?? 0) + 1);
          report.cases++;
          for (const f of outcome.failures) {
            report.counts[f.kind]++;
            if (!f.note) stats.failures++;
            const signature = `${op.id} | ${f.kind} | ${f.status} | ${normalizeCause(f.detail)}`;
            let g = report.groups.get(signature);
            if (!g) {
              g = {
                signature,
                op: op.id,
                kind: f.kind,
                status: f.status,
                detail: f.detail,
                count: 0,
                example: c,
                answer: outcome.body,
                tags: new Map(),
                note: f.note ?? false,
              };
              report.groups.set(signature, g);
              if (!f.note) log(`new failure: ${signature}\n${formatCase(c)}`);
            }
            g.count++;
            if (size(c) < size(g.example)) {
              g.example = c;
              g.answer = outcome.body;
            }
            for (const t of new Set(c.tags)) g.tags.set(t, (g.tags.get(t) ?? 0) + 1);
          }
        }
        if (Date.now() > deadline) {
          report.timedOut = true;
          break;
        }
      }
      if (report.timedOut) break;
      report.rows = Math.max(report.rows, checker.rows);
      if (turn % RESEED_TURNS === RESEED_TURNS - 1) {
        // The cases cancel, start and delete what the fixtures made: fresh ones keep the
        // routes that need a draft delivery or an existing rule answering more than 409 or 404.
        await seedFixtures(world, true);
        await checker.init();
      }
      if (checker.rows > maxRows) {
        // A fresh world: its fixtures again, its pools empty but for them.
        report.fingerprints += checker.fingerprints;
        await world.close();
        world = await openWorld(options.backend);
        ctx.world = world;
        checker = new Checker(world, collector);
        await checker.init();
        report.worlds++;
      }
      if (turn % 10 === 9) {
        const s = (performance.now() - started) / 1000;
        log(
          `${report.cases} cases, ${(report.cases / s).toFixed(0)}/s, ${
            failures(report).length
          } distinct failures`,
        );
      }
    }
  } finally {
    collector.uninstall();
    report.fingerprints += checker.fingerprints;
    await world.close();
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/** A case the generator could not make: grouped like any failure, with its seed to replay. */
function generatorFailure(
  report: Report,
  op: Operation,
  seed: number,
  error: unknown,
  log: (line: string) => void,
): void {
  const detail = error instanceof Error
    ? `${error.name}: ${error.message} ${error.stack?.split("\n")[1]?.trim() ?? ""}`
    : String(error);
  const signature = `${op.id} | generator | 0 | ${normalizeCause(detail)}`;
  report.counts.generator++;
  report.routes.get(op.id)!.failures++;
  const g = report.groups.get(signature);
  if (g) {
    g.count++;
    return;
  }
  log(`new failure: ${signature} (case seed ${seed})`);
  report.groups.set(signature, {
    signature,
    op: op.id,
    kind: "generator",
    status: 0,
    detail: `${detail} (case seed ${seed})`,
    count: 1,
    example: {
      op,
      method: op.method,
      path: op.template,
      headers: {},
      key: null,
      tags: [],
      tuples: [],
    },
    answer: "",
    tags: new Map(),
    note: false,
  });
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

/** A case as a reader replays it: method, path, headers, the body cut short. */
export function formatCase(c: Case): string {
  const body = c.body === undefined
    ? "(none)"
    : typeof c.body === "string"
    ? JSON.stringify(clip(c.body, 400))
    : `bytes ${Buffer.from(c.body.subarray(0, 200)).toString("hex")}`;
  const headers = Object.fromEntries(
    Object.entries(c.headers).map(([k, v]) => [k, k === "authorization" ? redact(v) : clip(v, 80)]),
  );
  return [
    `  ${c.method} ${clip(c.path, 300)}`,
    `  headers: ${JSON.stringify(headers)}`,
    `  body: ${body}`,
  ].join("\n");
}

/** Keys are secrets even in a scratch database: the report names the key, not its value. */
function redact(v: string): string {
  return v.replace(/sg_[A-Za-z0-9_-]{20,}/gu, (k) => `sg_…${k.slice(-4)}`).slice(0, 80);
}

/**
 * The input shape of a failure group: the tags most of its cases carry and most cases of the
 * route do not (what the failing inputs have in common that the others lack).
 */
export function shapeOf(report: Report, g: FailureGroup): string[] {
  const base = report.baseline.get(g.op)!;
  const total = report.routes.get(g.op)!.cases;
  return [...g.tags]
    .map(([tag, n]) => ({
      tag,
      share: n / g.count,
      lift: n / g.count / ((base.get(tag) ?? n) / total),
    }))
    .filter((t) => t.share >= 0.5 && t.lift >= 1.5)
    .sort((a, b) => b.share - a.share || b.lift - a.lift)
    .slice(0, 8)
    .map((t) => `${t.tag} (${Math.round(t.share * 100)}%)`);
}

export function formatRoutes(report: Report): string {
  const lines = [
    "route                                         cases  ms/case  failures  statuses (undocumented*)",
  ];
  for (const [id, s] of report.routes) {
    const statuses = [...s.statuses].sort((a, b) => a[0] - b[0])
      .map(([st, n]) => `${st || "none"}${s.undocumented.has(st) ? "*" : ""}:${n}`).join(" ");
    const ms = s.cases ? (s.ms / s.cases).toFixed(1) : "-";
    lines.push(
      `${id.padEnd(45)} ${String(s.cases).padStart(5)}  ${ms.padStart(7)}  ${
        String(s.failures).padStart(8)
      }  ${statuses}`,
    );
  }
  return lines.join("\n");
}

/** The groups that fail the run (notes apart). */
export const failures = (report: Report) => [...report.groups.values()].filter((g) => !g.note);
export const notes = (report: Report) => [...report.groups.values()].filter((g) => g.note);

export function formatFailures(report: Report, which = failures(report)): string {
  const groups = which.sort((a, b) =>
    a.kind.localeCompare(b.kind) || a.op.localeCompare(b.op) || b.count - a.count
  );
  return groups.map((g, i) =>
    [
      `#${i + 1} ${g.kind} ${g.status || ""} on ${g.op} — ${g.count} case(s)`,
      `  cause: ${g.detail}`,
      `  shape: ${shapeOf(report, g).join(", ") || "(no tag stands out)"}`,
      formatCase(g.example),
      `  answer: ${clip(g.answer, 300)}`,
    ].join("\n")
  ).join("\n\n");
}

/**
 * The failures by cause across routes: one bug in a shared layer (a middleware, an error
 * mapping) fails on every route that goes through it, and reads better as one line.
 */
export function formatCauses(report: Report, which = failures(report)): string {
  const byCause = new Map<string, { kind: string; routes: Map<string, number>; count: number }>();
  for (const g of which) {
    const cause = normalizeCause(g.detail.replace(/ \(at .*$/u, ""));
    const key = `${g.kind} ${g.status || ""} | ${cause}`;
    const entry = byCause.get(key) ?? { kind: g.kind, routes: new Map(), count: 0 };
    entry.routes.set(g.op, (entry.routes.get(g.op) ?? 0) + g.count);
    entry.count += g.count;
    byCause.set(key, entry);
  }
  return [...byCause].sort((a, b) => b[1].count - a[1].count).map(([key, e]) =>
    `${key} — ${e.count} case(s) on ${e.routes.size} route(s): ` +
    [...e.routes].map(([r, n]) => `${r} (${n})`).join(", ")
  ).join("\n");
}

export function formatTotals(report: Report): string {
  return [
    `${report.cases} cases on ${report.backend} in ${report.seconds.toFixed(1)} s ` +
    `(${(report.cases / report.seconds).toFixed(0)} cases/s), seed ${report.seed}, ` +
    `${report.worlds} world(s) (up to ${report.rows} rows), ${report.fingerprints} full fingerprints`,
    ...Object.entries(report.counts).map(([k, n]) =>
      `  ${k}: ${n}${k === "logged-warning" ? " (reported, not failed)" : ""}`
    ),
    `  distinct failures: ${failures(report).length}` +
    (notes(report).length ? `, distinct warnings: ${notes(report).length}` : ""),
  ].join("\n");
}
