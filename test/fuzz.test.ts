import process from "node:process";
import { sql } from "drizzle-orm";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Case } from "./fuzz/cases.ts";
import { Checker, Collector } from "./fuzz/check.ts";
import {
  failures,
  formatCauses,
  formatFailures,
  formatRoutes,
  formatTotals,
  notes,
  type Report,
  runFuzz,
} from "./fuzz/runner.ts";
import { openWorld, type World } from "./fuzz/world.ts";

/**
 * The bounded fuzz run (bench/fuzz.ts is the long one): every operation of the gateway's OpenAPI
 * document, on PGlite in memory, once with a fixed seed and once with a fresh one that a failure
 * prints. FUZZ_SEED replays a run's second half, FUZZ_CASES changes the budget.
 */
const CASES = Number(process.env.FUZZ_CASES ?? 8_000);
const FIXED_SEED = 20_240_601;
const RANDOM_SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
/** Per route and per run: a route added to the document gets these without new code. */
const MIN_PER_ROUTE = 40;

function summary(report: Report): string {
  const warned = notes(report).length
    ? `\nwarnings the gateway logged (not failures):\n${formatCauses(report, notes(report))}`
    : "";
  return `${formatRoutes(report)}\n${formatTotals(report)}${warned}`;
}

describe("fuzz: every route of the OpenAPI document [pglite]", () => {
  for (const [name, seed] of [["fixed", FIXED_SEED], ["random", RANDOM_SEED]] as const) {
    it(
      `answers well-formed, under 500, and writes nothing when it refuses (${name} seed ${seed})`,
      async () => {
        const report = await runFuzz({
          backend: "pglite",
          cases: CASES / 2,
          seed,
          minPerRoute: MIN_PER_ROUTE,
          // A guard, not the budget: a machine this slow fails with a report, not a timeout.
          minutes: 4,
        });
        console.log(`fuzz, ${name} seed ${seed}:\n${summary(report)}`);
        expect(report.timedOut, `stopped after ${report.cases} cases by the time guard`).toBe(
          false,
        );
        // Each route of the document was tried, and got past authentication: fixtures and keys
        // reach every route, not only its 401.
        expect(report.routes.size).toBeGreaterThan(0);
        for (const [route, stats] of report.routes) {
          expect(stats.cases, route).toBeGreaterThanOrEqual(MIN_PER_ROUTE);
          const past = [...stats.statuses].filter(([s]) => s !== 401 && s !== 403)
            .reduce((n, [, c]) => n + c, 0);
          expect(past, `${route}: cases past authentication`).toBeGreaterThan(stats.cases / 4);
        }
        // Depth overall: a fuzzer that only ever hears 400 tests the validator, not the gateway.
        const ok = [...report.routes.values()].flatMap((s) => [...s.statuses])
          .filter(([s]) => s >= 200 && s < 300).reduce((n, [, c]) => n + c, 0);
        expect(ok / report.cases, "share of 2xx answers").toBeGreaterThan(0.15);
        expect(
          failures(report).length,
          `distinct failures, seed ${seed} (replay: FUZZ_SEED=${seed}):\n\n${
            formatFailures(report)
          }` +
            `\n\nby cause:\n${formatCauses(report)}`,
        ).toBe(0);
      },
      300_000,
    );
  }
});

/** The checker itself, against a stub app that misbehaves in each way the invariant names. */
describe("fuzz: the invariant catches what it claims to", () => {
  let world: World;
  beforeAll(async () => {
    world = await openWorld("pglite");
  }, 60_000);
  afterAll(async () => {
    await world?.close();
  });

  it("reports a 5xx, a non-problem error, bad JSON, a rejection and a refused write", async () => {
    const stub = new Hono();
    const problem = (status: number) =>
      new Response(JSON.stringify({ type: "about:blank", title: "x", status }), {
        status,
        headers: { "content-type": "application/problem+json" },
      });
    stub.get("/ok", () => problem(404));
    stub.get("/crash", () => problem(500));
    stub.get("/plain", () => new Response("not found", { status: 404 }));
    stub.get(
      "/mismatch",
      () =>
        problem(418).text().then((t) =>
          new Response(t, { status: 400, headers: { "content-type": "application/problem+json" } })
        ),
    );
    stub.get(
      "/bad-json",
      () => new Response("{", { headers: { "content-type": "application/json" } }),
    );
    stub.get("/reject", () => {
      void Promise.reject(new Error("lost"));
      return problem(404);
    });
    stub.get("/write", async () => {
      await world.database.rows(sql`update instances set name = name || '!' where name = 'fuzz-b'`);
      return problem(400);
    });
    const checker = new Checker(
      { ...world, app: stub as unknown as World["app"] },
      new Collector(),
    );
    await checker.init();
    const collector = checker.collector;
    collector.install();
    const kinds: Record<string, string[]> = {};
    try {
      for (
        const path of ["/ok", "/crash", "/plain", "/mismatch", "/bad-json", "/reject", "/write"]
      ) {
        const c: Case = {
          op: world.operations[0]!,
          method: "GET",
          path,
          headers: {},
          key: null,
          tags: [],
          tuples: [],
        };
        kinds[path] = (await checker.run(c)).failures.map((f) => f.kind);
      }
    } finally {
      collector.uninstall();
    }
    expect(kinds).toEqual({
      "/ok": [],
      "/crash": ["server-error"],
      "/plain": ["not-problem-json"],
      "/mismatch": ["not-problem-json"],
      "/bad-json": ["bad-json"],
      "/reject": ["unhandled-rejection"],
      "/write": ["write-by-refused-call"],
    });
  }, 60_000);
});
