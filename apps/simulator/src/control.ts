import { Hono } from "hono";
import type { SimulatorContext } from "./context.ts";
import { parseScenario } from "./scenario.ts";

/** A server's running handle. */
export interface RunningServer {
  /** `smtp://127.0.0.1:2525`, `smpp://…`, `http://…`. */
  urls: string[];
  close(): Promise<void>;
}

const problem = (status: number, title: string, detail: string, errors?: string[]) =>
  new Response(
    JSON.stringify({ type: "about:blank", title, status, detail, ...(errors ? { errors } : {}) }),
    {
      status,
      headers: { "content-type": "application/problem+json" },
    },
  );

/**
 * The control API: the scenario (read, replace at run time) and the ledger (by id, since a
 * sequence number, summary, NDJSON export). Servers add their own routes (push subscriptions).
 */
export function createControlApp(ctx: SimulatorContext): Hono {
  const app = new Hono();
  app.get(
    "/health",
    (c) => c.json({ status: "ok", messages: ctx.ledger.size, asyncPending: ctx.scheduler.pending }),
  );
  app.get("/scenario", (c) => c.json(ctx.scenario));
  app.put("/scenario", async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch (error) {
      return problem(400, "Malformed JSON", (error as Error).message);
    }
    const result = parseScenario(body);
    if (!result.ok) {
      return problem(400, "Invalid scenario", "the scenario has invalid fields", result.errors);
    }
    ctx.setScenario(result.scenario);
    return c.json(result.scenario);
  });
  app.get("/ledger/summary", (c) => c.json(ctx.ledger.summary()));
  app.get("/ledger/export", () => {
    const lines = ctx.ledger.ndjson();
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = lines.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
    });
    return new Response(stream, { headers: { "content-type": "application/x-ndjson" } });
  });
  app.get("/ledger/:id", (c) => {
    const entries = ctx.ledger.get(c.req.param("id"));
    if (entries.length === 0) {
      return problem(404, "Not found", `no ledger entry for ${c.req.param("id")}`);
    }
    return c.json({ items: entries });
  });
  app.get("/ledger", (c) => {
    const since = Number(c.req.query("since") ?? 0);
    const limit = Math.min(Number(c.req.query("limit") ?? 1000), 10_000);
    if (!Number.isInteger(since) || since < 0 || !Number.isInteger(limit) || limit < 1) {
      return problem(
        400,
        "Invalid query",
        "since and limit must be whole numbers (since ≥ 0, limit ≥ 1)",
      );
    }
    const items = ctx.ledger.since(since, limit);
    return c.json({ items, next: items.length ? items.at(-1)!.seq : since });
  });
  app.delete("/ledger", (c) => {
    ctx.ledger.clear();
    return c.body(null, 204);
  });
  app.notFound((c) =>
    problem(404, "Not found", `no route ${c.req.method} ${new URL(c.req.url).pathname}`)
  );
  return app;
}
