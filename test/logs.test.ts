import { Writable } from "node:stream";
import { sql } from "drizzle-orm";
import { expect, it } from "vitest";
import { createLogger } from "../apps/gateway/src/log.ts";
import { describeBackends } from "./support/harness.ts";

/** What the gateway logged, one parsed JSON object per line. */
const lines: string[] = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    lines.push(...String(chunk).split("\n").filter(Boolean));
    done();
  },
});
const logger = createLogger({ level: "info", destination: sink });
const entries = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

describeBackends("logs: errors without data", (s) => {
  it("logs a failed 10,000-recipient part with its request id, class and SQL state, and none of its data", async () => {
    const key = await s().key("leaky");
    const id = (await (await s().call("POST", "/v1/deliveries", {
      key,
      json: { channel: "email", content: { from: "n@example.com", subject: "Hi", text: "x" } },
    })).json()).id;
    // A database fault the request cannot be blamed for: the table the part writes is gone.
    await s().database.rows(sql`alter table messages rename to messages_gone`);
    lines.length = 0;
    try {
      const recipients = Array.from({ length: 10_000 }, (_, i) => ({
        externalId: `ext-${i}`,
        address: `secret.person${i}@example.com`,
        fields: { firstName: `Secretname${i}` },
      }));
      const res = await s().call("POST", `/v1/deliveries/${id}/parts`, {
        key,
        json: { recipients },
        headers: { "x-request-id": "req-abc-123" },
      });
      expect(res.status).toBe(500);
      expect(res.headers.get("x-request-id")).toBe("req-abc-123");
      expect((await res.json()).detail).toContain("req-abc-123");
    } finally {
      await s().database.rows(sql`alter table messages_gone rename to messages`);
    }
    const text = lines.join("\n");
    for (const secret of ["secret.person", "Secretname", "ext-1", key, "insert into", "params"]) {
      expect(text, secret).not.toContain(secret);
    }
    const error = entries().find((e) => e.msg === "unhandled error")!;
    expect(error).toMatchObject({
      level: 50,
      requestId: "req-abc-123",
      route: "/v1/deliveries/:id/parts",
      sqlState: "42P01",
    });
    expect(typeof error.errorClass).toBe("string");
    for (const line of lines) expect(line.length).toBeLessThan(4_096);
    // The access line names the route pattern, never the path (it can hold an address).
    const access = entries().find((e) => e.msg === "request" && e.requestId === "req-abc-123");
    expect(access).toMatchObject({ route: "/v1/deliveries/:id/parts", status: 500 });
    expect(JSON.stringify(access)).not.toContain(id);
  });

  it("never logs a quarantined address from the path", async () => {
    lines.length = 0;
    await s().call("PUT", `/v1/quarantine/email/${encodeURIComponent("hidden.one@example.com")}`, {
      json: { status: "denylisted" },
    });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join("\n")).not.toContain("hidden.one");
  });
}, { logger });
