import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { baseEnv, start } from "./support/process.ts";

// `npm start` as a new user runs it, on ports of its own (any free one), twice.
const dataDir = mkdtempSync(join(tmpdir(), "sendgate-demo-"));
const env = {
  ...baseEnv(),
  SENDGATE_DATA_DIR: dataDir,
  PORT: "0",
  SIMULATOR_CONTROL_PORT: "0",
  SIMULATOR_SMTP_PORT: "0",
  SIMULATOR_SMPP_PORT: "0",
  SIMULATOR_PUSH_PORT: "0",
  SIMULATOR_PUSH_TLS_PORT: "0",
};
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function startDemo() {
  const demo = start("scripts/start.ts", env);
  await demo.waitFor(/Ctrl-C stops/u, 90_000);
  const out = demo.output();
  const url = /gateway on (http:\/\/\S+)/u.exec(out)![1]!;
  const key = /operator key\s+(sg_\S+)/u.exec(out)![1]!;
  const api = async (path: string) =>
    // deno-lint-ignore no-explicit-any
    (await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } })).json() as any;
  return { demo, out, api };
}

describe("npm start", () => {
  it("starts a demo delivery per channel, and finds them again on the next start", async () => {
    const first = await startDemo();
    let ids: string[];
    try {
      expect(first.out.match(/demo (email|sms|push) .*\(running, started\)/gu)).toHaveLength(3);
      const list = await first.api("/v1/deliveries");
      ids = list.items.map((d: { id: string }) => d.id).sort();
      // Every demo goes out through the simulator, and says so as it happens: the SMS one until
      // its delivery receipt says received on mobile.
      await first.demo.waitFor(/demo email .*finished; ignored 1, sent 1; reason 7: 1/u, 60_000);
      await first.demo.waitFor(/demo push .*finished; sent 1/u, 60_000);
      await first.demo.waitFor(/demo sms .*finished; receivedOnMobile 1/u, 60_000);
      for (const d of list.items) {
        const got = await first.api(`/v1/deliveries/${d.id}`);
        // Every demo recipient went in: the push one too (the simulator's host is allowed).
        expect(got.counts.total, d.channel).toBe(d.channel === "email" ? 2 : 1);
      }
    } finally {
      await first.demo.stop();
    }
    const second = await startDemo();
    try {
      expect(second.out.match(/demo (email|sms|push) .*from an earlier start/gu)).toHaveLength(3);
      const list = await second.api("/v1/deliveries");
      expect(list.items.map((d: { id: string }) => d.id).sort()).toEqual(ids);
    } finally {
      await second.demo.stop();
    }
  }, 240_000);
});
