import { z } from "@hono/zod-openapi";
import { matching } from "../fields.ts";

const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`, "u");
/** `example.com`, `*.example.com` (every sub-domain) or `*` (every domain). */
const DOMAIN = new RegExp(`^(?:\\*|(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*)$`, "u");

// Durations are stored in ms in 32-bit integer columns: at most 2^31 - 1 ms (about 24 days).
const Seconds = z.number().int().min(1).max(2_147_483);

export const Rate = z.object({
  count: z.number().int().min(1).max(1_000_000_000),
  periodSeconds: Seconds,
}).strict().openapi({ description: "At most `count` messages per `periodSeconds`" });

export const Suspension = z.object({
  minMessages: z.number().int().min(1).max(1_000_000_000),
  errorRate: z.number().gt(0).max(1),
  durationSeconds: Seconds,
  windowSeconds: Seconds,
}).strict().openapi({
  description:
    "Suspend sending for `durationSeconds` when, over at least `minMessages` results in one `windowSeconds`, the error rate reaches `errorRate`",
});

export const Dkim = z.object({
  domainName: matching(z.string().trim().toLowerCase().max(253), HOSTNAME, "not a domain name"),
  keySelector: matching(
    z.string().min(1).max(63),
    /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/u,
    "not a DKIM selector",
  ),
}).strict().openapi({
  description: "DKIM signing (d= and s=); the key comes from the gateway's configuration",
});

export const Relay = z.object({
  host: matching(
    z.string().trim().min(1).max(253),
    /^[A-Za-z0-9.:[\]-]+$/u,
    "a host name or IP address",
  ),
  port: z.number().int().min(1).max(65_535),
}).strict().openapi({ description: "Send through this SMTP relay instead of the domain's MX" });

export const DomainRuleBody = z.object({
  domain: matching(
    z.string().trim().toLowerCase().max(255),
    DOMAIN,
    "a domain (`example.com`), `*.example.com` or `*`",
  )
    .openapi({ example: "example.com" }),
  rate: Rate.nullable().optional().openapi({
    description: "Absent: the `*` rule's (default: no limit); null: no limit",
  }),
  suspension: Suspension.nullable().optional()
    .openapi({
      description:
        "Absent: the `*` rule's (default: 300 messages, 90%, 3 hours, over 1 hour); null: never suspended",
    }),
  dkim: Dkim.nullable().optional().openapi({
    description: "Absent: inherited from a wider rule; null: not signed",
  }),
  relay: Relay.nullable().optional().openapi({
    description: "Absent: inherited from a wider rule; null: straight to the MX",
  }),
}).strict().openapi("DomainRuleBody");

export const DomainRule = z.object({
  id: z.number().int(),
  domain: z.string(),
  rate: Rate.nullable().optional(),
  suspension: Suspension.nullable().optional(),
  dkim: Dkim.nullable().optional(),
  relay: Relay.nullable().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
}).openapi("DomainRule");
