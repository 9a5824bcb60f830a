import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { baseEnv, run, start } from "./support/process.ts";

// One writer per embedded database (issue 7): with a gateway running on PGlite, `npm run keys`
// goes through its API, and a second gateway on the same directory refuses to start.
const dataDir = mkdtempSync(join(tmpdir(), "sendgate-lock-"));
const env = { ...baseEnv(), SENDGATE_DATA_DIR: dataDir, PORT: "0", SENDGATE_LOG_LEVEL: "warn" };
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const gatewayUrl = /gateway on (http:\/\/\S+)/u;
const keys = (...args: string[]) => run("apps/gateway/src/keys.ts", env, args);
const get = (url: string, key: string) =>
  fetch(`${url}/v1/deliveries`, { headers: { authorization: `Bearer ${key}` } }).then((r) =>
    r.status
  );

describe("embedded database, one process", () => {
  it(
    "creates a key through the running gateway that works at once and after a restart",
    async () => {
      const first = start("apps/gateway/src/main.ts", env);
      try {
        const url = (await first.waitFor(gatewayUrl))[1]!;
        const created = await keys("create", "--instance", "x");
        expect(created.code, created.output).toBe(0);
        expect(created.output).toContain("through the running gateway");
        const key = created.stdout.trim();
        expect(key).toMatch(/^sg_[\w-]{43}$/u);
        expect(await get(url, key)).toBe(200);

        // A second gateway on the same directory refuses at once, naming the holder.
        const second = await run("apps/gateway/src/main.ts", env);
        expect(second.code).toBe(1);
        expect(second.output).toContain("SENDGATE_DATA_DIR");
        expect(second.output).toContain(String(first.child.pid));
        expect(second.output).not.toMatch(/^\s+at /mu);

        // Listing and revoking go through it too; a revoked key stops at once.
        const other = (await keys("create", "--instance", "y")).stdout.trim();
        const listed = await keys("list");
        expect(listed.stdout.split("\n").filter(Boolean)).toHaveLength(2);
        const otherId = listed.stdout.split("\n").find((l) => l.includes("\ty\t"))!.split("\t")[0]!;
        expect((await keys("revoke", otherId)).code).toBe(0);
        expect(await get(url, other)).toBe(401);
        await first.stop();

        const again = start("apps/gateway/src/main.ts", env);
        try {
          const url2 = (await again.waitFor(gatewayUrl))[1]!;
          expect(await get(url2, key)).toBe(200);
          expect(await get(url2, other)).toBe(401);
        } finally {
          await again.stop();
        }
        // With no gateway running, the command opens the directory itself.
        const offline = await keys("create", "--instance", "z");
        expect(offline.code, offline.output).toBe(0);
        expect(offline.output).toContain(dataDir);
      } finally {
        await first.stop();
      }
    },
    180_000,
  );
});
