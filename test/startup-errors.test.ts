import { createServer } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "@sendgate/gateway";
import { baseEnv, run } from "./support/process.ts";

const dataDir = mkdtempSync(join(tmpdir(), "sendgate-start-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const gateway = (env: Record<string, string>) =>
  run("apps/gateway/src/main.ts", { ...baseEnv(), SENDGATE_DATA_DIR: dataDir, ...env });
const noStack = (output: string) => expect(output).not.toMatch(/^\s+at /mu);

describe("configuration errors name the variable", () => {
  it.each([
    [{ HOST: "not a host!" }, "HOST"],
    [{ DATABASE_URL: "mysql://root@127.0.0.1:3306/test" }, "DATABASE_URL"],
    [{ DATABASE_URL: "not a url" }, "DATABASE_URL"],
    [{ PORT: "99999" }, "PORT"],
    [{ SENDGATE_LOG_LEVEL: "loud" }, "SENDGATE_LOG_LEVEL"],
    [{ SENDGATE_PUSH_ALLOW: "10.0.0.0/99" }, "SENDGATE_PUSH_ALLOW"],
  ])("%j", (env, variable) => {
    const parsed = parseConfig(env);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors.join("\n")).toMatch(new RegExp(`^${variable}: `, "mu"));
  });

  it(
    "exits with the variable's name and no stack trace when the process cannot start",
    async () => {
      const bad = await gateway({ HOST: "not a host!" });
      expect(bad.code).toBe(2);
      expect(bad.output).toContain("HOST: ");
      noStack(bad.output);

      const unreachable = await gateway({
        DATABASE_URL: "postgres://postgres:pw@127.0.0.1:1/nothing",
      });
      expect(unreachable.code).toBe(1);
      expect(unreachable.output).toMatch(/DATABASE_URL: cannot (open|reach)/u);
      expect(unreachable.output).not.toContain(":pw@");
      noStack(unreachable.output);

      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
      try {
        const port = (taken.address() as { port: number }).port;
        const busy = await gateway({ PORT: String(port) });
        expect(busy.code).toBe(1);
        expect(busy.output).toContain(`PORT: 127.0.0.1:${port} is already in use`);
        noStack(busy.output);
      } finally {
        taken.close();
      }
    },
    120_000,
  );
});
