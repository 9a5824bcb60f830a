import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// End to end over a real socket: `npm run gateway`'s entry point with only SENDGATE_ADMIN_KEY set
// (so on PGlite), as a new user would start it.
const adminKey = "e2e-admin-key-0123456789abcdef";
let base = "";
let stop: () => Promise<void> = async () => {};

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "sendgate-e2e-"));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    SENDGATE_ADMIN_KEY: adminKey,
    SENDGATE_DATA_DIR: dataDir,
    PORT: "0",
  };
  const child = spawn(process.execPath, ["--import", "tsx", "apps/gateway/src/main.ts"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Set before anything can fail, so that a failed start still stops the process.
  stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  let output = "";
  base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /gateway on (http:\/\/\S+)[^]*API reference/u.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`gateway exited (${code}):\n${output}`)));
  });
  expect(output).toContain(`${base}/docs`);
}, 90_000);

afterAll(async () => {
  await stop();
}, 30_000);

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // deno-lint-ignore no-explicit-any
  return { status: res.status, body: (await res.json()) as any };
};

describe("gateway process on PGlite", () => {
  it("reports 9,825 pending and 175 ignored for the issue's 10,000-recipient part", async () => {
    for (let i = 0; i < 25; i++) {
      const put = await api(
        "PUT",
        `/v1/quarantine/email/${encodeURIComponent(`blocked${i}@example.org`)}`,
        { status: "denylisted" },
      );
      expect(put.status).toBeLessThan(300);
    }
    const delivery = await api("POST", "/v1/deliveries", {
      channel: "email",
      content: { from: "news@example.com", subject: "Hi", text: "Hello" },
    });
    expect(delivery.status).toBe(201);
    const recipients = [
      ...Array.from(
        { length: 9_825 },
        (_, i) => ({ externalId: `ok${i}`, address: `person${i}@example.org` }),
      ),
      ...Array.from(
        { length: 100 },
        (_, i) => ({
          externalId: `dup${i}`,
          address: `Person${i}@EXAMPLE.org`.replace("Person", "person"),
        }),
      ),
      ...Array.from(
        { length: 50 },
        (_, i) => ({
          externalId: `empty${i}`,
          address: i % 3 === 0 ? null : i % 3 === 1 ? "" : "  ",
        }),
      ),
      ...Array.from(
        { length: 25 },
        (_, i) => ({ externalId: `deny${i}`, address: `blocked${i}@example.org` }),
      ),
    ];
    const part = await api("POST", `/v1/deliveries/${delivery.body.id}/parts`, { recipients });
    expect(part.status).toBe(201);
    expect(part.body).toMatchObject({ accepted: 9_825, ignored: 175, rejected: [] });
    const got = await api("GET", `/v1/deliveries/${delivery.body.id}`);
    expect(got.body.counts).toEqual({
      total: 10_000,
      byStatus: { pending: 9_825, ignored: 175 },
      byReason: { 10: 100, 7: 50, 8: 25 },
    });
  });

  it("describes every route in /openapi.json", async () => {
    const doc = await (await fetch(`${base}/openapi.json`)).json() as {
      paths: Record<string, object>;
    };
    expect(Object.keys(doc.paths).length).toBeGreaterThanOrEqual(17);
  });
});
