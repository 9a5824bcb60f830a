import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { migrate, openDatabase } from "@sendgate/db";
import { createApp } from "@sendgate/gateway";

const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), "sendgate-keys-"));
const env = {
  PATH: process.env.PATH ?? "",
  HOME: process.env.HOME ?? "",
  SENDGATE_DATA_DIR: dataDir,
};
const cli = (...args: string[]) =>
  run(process.execPath, ["--import", "tsx", "apps/gateway/src/keys.ts", ...args], {
    env,
    timeout: 60_000,
  });

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

// `npm run keys -- create --instance NAME [--operator]` and `npm run db:migrate`, as a user runs them.
describe("command line", () => {
  it("applies migrations with db:migrate", async () => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "db/src/migrate.ts"], {
      env,
      timeout: 60_000,
    });
    expect(stdout).toContain("migrations applied (pglite)");
  }, 90_000);

  it("creates keys that authenticate, instance or operator, shown once", async () => {
    const instance = (await cli("create", "--instance", "shop")).stdout.trim();
    const operator = (await cli("create", "--instance", "ops", "--operator")).stdout.trim();
    expect(instance).toMatch(/^sg_[\w-]{43}$/u);
    const database = await openDatabase({ dataDir });
    await migrate(database);
    const app = createApp({ database });
    const as = (key: string, path: string) =>
      app.request(path, { headers: { authorization: `Bearer ${key}` } });
    expect((await as(instance, "/v1/deliveries")).status).toBe(200);
    expect((await as(instance, "/v1/quarantine")).status).toBe(403);
    expect((await as(operator, "/v1/quarantine")).status).toBe(200);
    const stored = await database.rows<{ key_hash: string }>(
      (await import("drizzle-orm")).sql`select key_hash from api_keys`,
    );
    expect(stored.map((r) => r.key_hash)).not.toContain(instance);
    await database.close();
  }, 120_000);

  it("explains its usage", async () => {
    await expect(cli("create")).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("usage: npm run keys"),
    });
  }, 60_000);
});
