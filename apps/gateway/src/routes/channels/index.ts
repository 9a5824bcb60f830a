import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import {
  deleteChannel,
  deleteDkimKey,
  getChannel,
  listChannels,
  listDkimKeys,
  putChannel,
  putDkimKey,
} from "../../services/channel-settings.ts";
import { defineRoute, errorResponses, forbidden, notFound } from "../common.ts";
import { matching, text } from "../fields.ts";

/**
 * Operator routes: the sending channels' settings (email, push) and DKIM keys, read by running
 * dispatchers within seconds. Secrets (a relay password, the VAPID private key, DKIM keys) are
 * write-only.
 */
const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`, "u");
const Hostname = matching(z.string().max(253), HOSTNAME, "a host name");
const Host = matching(
  z.string().min(1).max(253),
  /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]+)$/u,
  "a host name or an IP address",
);
const Port = z.number().int().min(1).max(65_535);
const Workers = z.number().int().min(1).max(32).optional().openapi({
  description: "Batches in flight at once per dispatcher (default 4)",
});
const BatchSize = z.number().int().min(1).max(1_000).optional().openapi({
  description: "Messages claimed per batch (default 200)",
});

const EmailBody = z.object({
  mode: z.enum(["relay", "direct"]).openapi({
    description: "`relay`: every message to one smarthost; `direct`: to each domain's MX",
  }),
  relay: z.object({
    host: Host,
    port: Port,
    secure: z.boolean().optional().openapi({ description: "TLS from the first byte (465)" }),
    requireTLS: z.boolean().optional(),
    ignoreTLS: z.boolean().optional(),
    tlsRejectUnauthorized: z.boolean().optional().openapi({
      description: "Verify the relay's certificate (default true)",
    }),
    user: text(200, "token", 1).optional(),
    password: text(500, "line", 1).optional().openapi({
      description: "Write-only; left out, the stored one stays",
    }),
    maxConnections: z.number().int().min(1).max(100).optional(),
  }).strict().optional(),
  direct: z.object({
    mxPort: Port.optional(),
    maxConnectionsPerHost: z.number().int().min(1).max(50).optional(),
  }).strict().optional(),
  bounceDomain: Hostname.openapi({
    description: "Domain of the VERP return path (`bounces+<token>@<bounceDomain>`)",
    example: "bounces.example.com",
  }),
  bouncePrefix: matching(z.string().max(32), /^[a-z0-9][a-z0-9._-]*$/u, "a local part")
    .optional(),
  messageIdDomain: Hostname.optional(),
  unsubscribeBaseUrl: z.string().url().max(500).refine(
    (u) => /^https?:/u.test(u),
    "an http(s) URL",
  ).optional().openapi({
    description: "The gateway's public URL and `/u/`: List-Unsubscribe points there",
    example: "https://sendgate.example.com/u/",
  }),
  workers: Workers,
  batchSize: BatchSize,
}).strict().openapi("EmailChannelSettings");

const PushBody = z.object({
  subject: z.string().max(500).refine(
    (s) => /^(?:mailto:[^\s]+@[^\s]+|https:\/\/\S+)$/u.test(s),
    "a mailto: or https: URI (RFC 8292)",
  ),
  publicKey: text(200, "token", 1).optional().openapi({
    description: "VAPID public key (base64url); with privateKey, or neither: generated",
  }),
  privateKey: text(200, "token", 1).optional().openapi({ description: "Write-only" }),
  workers: Workers,
  batchSize: BatchSize,
  maxInFlight: z.number().int().min(1).max(10_000).optional(),
  timeoutMs: z.number().int().min(100).max(120_000).optional(),
  tlsRejectUnauthorized: z.boolean().optional(),
}).strict().openapi("PushChannelSettings");

const ChannelParam = z.object({ channel: z.enum(["email", "push"]) });
const Settings = z.object({ channel: z.string(), updatedAt: z.string() }).catchall(z.unknown())
  .openapi("ChannelSettings");

const list = defineRoute({
  method: "get",
  path: "/v1/channels",
  tags: ["channels"],
  summary: "The configured sending channels (secrets never shown)",
  middleware: [requireOperator],
  responses: {
    200: {
      content: { "application/json": { schema: z.object({ items: z.array(Settings) }) } },
      description: "The channels",
    },
    ...errorResponses,
    ...forbidden,
  },
});

const one = defineRoute({
  method: "get",
  path: "/v1/channels/{channel}",
  tags: ["channels"],
  summary: "One channel's settings",
  middleware: [requireOperator],
  request: { params: ChannelParam },
  responses: {
    200: { content: { "application/json": { schema: Settings } }, description: "The settings" },
    ...errorResponses,
    ...forbidden,
    ...notFound,
  },
});

const putEmail = defineRoute({
  method: "put",
  path: "/v1/channels/email",
  tags: ["channels"],
  summary: "Configure email: relay or direct MX, bounce domain, unsubscribe URL",
  middleware: [requireOperator],
  request: { body: { content: { "application/json": { schema: EmailBody } }, required: true } },
  responses: {
    200: { content: { "application/json": { schema: Settings } }, description: "Saved" },
    ...errorResponses,
    ...forbidden,
  },
});

const putPush = defineRoute({
  method: "put",
  path: "/v1/channels/push",
  tags: ["channels"],
  summary: "Configure web push: VAPID subject and keys (generated when not given)",
  middleware: [requireOperator],
  request: { body: { content: { "application/json": { schema: PushBody } }, required: true } },
  responses: {
    200: { content: { "application/json": { schema: Settings } }, description: "Saved" },
    ...errorResponses,
    ...forbidden,
  },
});

const remove = defineRoute({
  method: "delete",
  path: "/v1/channels/{channel}",
  tags: ["channels"],
  summary: "Unconfigure a channel: its deliveries wait, saying so",
  middleware: [requireOperator],
  request: { params: ChannelParam },
  responses: { 204: { description: "Removed" }, ...errorResponses, ...forbidden, ...notFound },
});

const DkimParams = z.object({
  domain: Hostname,
  selector: matching(
    z.string().min(1).max(63),
    /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/u,
    "a DKIM selector",
  ),
});
const DkimKey = z.object({
  domain: z.string(),
  selector: z.string(),
  algorithm: z.string(),
  createdAt: z.string(),
}).openapi("DkimKey");

const dkimList = defineRoute({
  method: "get",
  path: "/v1/dkim-keys",
  tags: ["channels"],
  summary: "DKIM keys by From domain and selector (the keys themselves are never shown)",
  middleware: [requireOperator],
  responses: {
    200: {
      content: { "application/json": { schema: z.object({ items: z.array(DkimKey) }) } },
      description: "The keys",
    },
    ...errorResponses,
    ...forbidden,
  },
});

const dkimPut = defineRoute({
  method: "put",
  path: "/v1/dkim-keys/{domain}/{selector}",
  tags: ["channels"],
  summary: "Store the DKIM private key that signs mail from a domain",
  description:
    "Mail whose From is at `domain` is signed with this key (d=domain, s=selector). RSA of at least " +
    "1024 bits or Ed25519, PEM; refused with a 400 naming `privateKey` otherwise.",
  middleware: [requireOperator],
  request: {
    params: DkimParams,
    body: {
      content: {
        "application/json": {
          schema: z.object({ privateKey: text(20_000, "text", 1) }).strict().openapi("DkimKeyBody"),
        },
      },
      required: true,
    },
  },
  responses: {
    200: { content: { "application/json": { schema: DkimKey } }, description: "Stored" },
    ...errorResponses,
    ...forbidden,
  },
});

const dkimDelete = defineRoute({
  method: "delete",
  path: "/v1/dkim-keys/{domain}/{selector}",
  tags: ["channels"],
  summary: "Remove a DKIM key",
  middleware: [requireOperator],
  request: { params: DkimParams },
  responses: { 204: { description: "Removed" }, ...errorResponses, ...forbidden, ...notFound },
});

export function registerChannelRoutes(app: App, deps: AppDeps): void {
  app.openapi(list, async (c) => c.json(await listChannels(deps), 200));
  app.openapi(
    putEmail,
    async (c) =>
      c.json(await putChannel(deps, { channel: "email", settings: c.req.valid("json") }), 200),
  );
  app.openapi(
    putPush,
    async (c) =>
      c.json(await putChannel(deps, { channel: "push", settings: c.req.valid("json") }), 200),
  );
  app.openapi(one, async (c) => c.json(await getChannel(deps, c.req.valid("param").channel), 200));
  app.openapi(remove, async (c) => {
    await deleteChannel(deps, c.req.valid("param").channel);
    return c.body(null, 204);
  });
  app.openapi(dkimList, async (c) => c.json(await listDkimKeys(deps), 200));
  app.openapi(dkimPut, async (c) => {
    const { domain, selector } = c.req.valid("param");
    return c.json(
      await putDkimKey(deps, domain.toLowerCase(), selector, c.req.valid("json").privateKey),
      200,
    );
  });
  app.openapi(dkimDelete, async (c) => {
    const { domain, selector } = c.req.valid("param");
    await deleteDkimKey(deps, domain.toLowerCase(), selector);
    return c.body(null, 204);
  });
}
