import type { Hono } from "hono";
import { z } from "zod";
import { pushBehaviours, SubscriptionStore } from "./subscriptions.ts";

const problem = (status: number, title: string, detail: string, errors?: string[]) =>
  new Response(
    JSON.stringify({ type: "about:blank", title, status, detail, ...(errors ? { errors } : {}) }),
    {
      status,
      headers: { "content-type": "application/problem+json" },
    },
  );

const MintBody = z.object({
  behaviour: z.enum(pushBehaviours).default("mix"),
  tls: z.boolean().default(false),
  /** Pin the endpoint's id, so that a rerun with the same seed reaches the same endpoints. */
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/u, "1-64 base64url characters").optional(),
  /** Restrict the subscription to one VAPID key (base64url, uncompressed P-256), as a browser does. */
  applicationServerKey: z.string().regex(
    /^[A-Za-z0-9_-]{87}$/u,
    "an uncompressed P-256 key in base64url",
  ).optional(),
}).strict();

/**
 * The push part of the control API: what a browser would do (subscribe, unsubscribe, let a
 * subscription expire) and what the simulated user agent received.
 */
export function registerPushControl(
  app: Hono,
  service: { subscriptions: SubscriptionStore; tlsPort: number | null },
): void {
  const { subscriptions } = service;
  app.post("/push/subscriptions", async (c) => {
    let body: unknown = {};
    const text = await c.req.text();
    if (text.trim()) {
      try {
        body = JSON.parse(text);
      } catch (error) {
        return problem(400, "Malformed JSON", (error as Error).message);
      }
    }
    const parsed = MintBody.safeParse(body);
    if (!parsed.success) {
      const errors = parsed.error.issues.map((i) =>
        `${i.path.join(".") || "(body)"}: ${i.message}`
      );
      return problem(400, "Invalid subscription request", "the request has invalid fields", errors);
    }
    if (parsed.data.tls && service.tlsPort === null) {
      return problem(400, "No TLS", "the push service runs without its HTTPS port");
    }
    const minted = subscriptions.mint(parsed.data);
    if (!minted) return problem(409, "Conflict", `subscription ${parsed.data.id} exists`);
    return c.json(SubscriptionStore.view(minted), 201);
  });
  app.get("/push/subscriptions/:id", (c) => {
    const s = subscriptions.get(c.req.param("id"));
    return s
      ? c.json(SubscriptionStore.view(s))
      : problem(404, "Not found", `no subscription ${c.req.param("id")}`);
  });
  app.get("/push/subscriptions/:id/messages", (c) => {
    const s = subscriptions.get(c.req.param("id"));
    return s
      ? c.json({ items: s.messages })
      : problem(404, "Not found", `no subscription ${c.req.param("id")}`);
  });
  app.delete("/push/subscriptions/:id", (c) => {
    const s = subscriptions.end(c.req.param("id"), "deleted");
    return s
      ? c.body(null, 204)
      : problem(404, "Not found", `no subscription ${c.req.param("id")}`);
  });
  app.post("/push/subscriptions/:id/expire", (c) => {
    const s = subscriptions.end(c.req.param("id"), "expired");
    return s
      ? c.json(SubscriptionStore.view(s))
      : problem(404, "Not found", `no subscription ${c.req.param("id")}`);
  });
}
