import { z } from "@hono/zod-openapi";
import { text } from "../fields.ts";

export const InstanceName = text(100, "token", 1).openapi({
  description: "The instance (tenant) the key belongs to; created with its first key",
  example: "shop",
});

export const ApiKey = z.object({
  id: z.string().uuid(),
  instance: z.string(),
  prefix: z.string().openapi({ description: "The key's first characters, to tell keys apart" }),
  operator: z.boolean(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
}).openapi("ApiKey");

export const CreateKey = z.object({
  instance: InstanceName,
  operator: z.boolean().default(false).openapi({
    description: "Operator keys also reach quarantine, qualification, rules and keys",
  }),
}).strict().openapi("CreateKey");

export const NewKey = ApiKey.extend({
  key: z.string().optional().openapi({
    description:
      "The key, shown in this answer only (only its hash is stored); absent from an Idempotency-Key replay",
  }),
}).openapi("NewApiKey");
