import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SimulatorContext } from "../../apps/simulator/src/context.ts";
import { createControlApp } from "../../apps/simulator/src/control.ts";
import { emailMagicOutcome, smsMagicOutcome } from "../../apps/simulator/src/magic.ts";
import { emailOutcomes, smsOutcomes } from "../../apps/simulator/src/outcomes.ts";
import {
  defaultScenario,
  loadScenarioFile,
  parseScenario,
} from "../../apps/simulator/src/scenario.ts";

const scenarios = new URL("../../apps/simulator/scenarios/", import.meta.url);

describe("scenarios", () => {
  it.each(readdirSync(scenarios))("ships %s as a valid scenario", (file) => {
    expect(() => loadScenarioFile(new URL(file, scenarios).pathname)).not.toThrow();
  });

  it("fills every default from an empty scenario", () => {
    const s = defaultScenario();
    expect(s).toMatchObject({
      seed: 1,
      timeScale: 1,
      email: { mix: { accept: 1 } },
      sms: { mix: { delivered: 1 }, idFormat: "hex" },
      push: { mix: { accept: 1 } },
    });
  });

  it("names every bad field", () => {
    const r = parseScenario({
      seed: 1.5,
      email: { mix: { nope: 1 }, latency: { minMs: 5, maxMs: 1 } },
      sms: { receipts: { mode: "http" } },
      extra: 1,
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      const text = r.errors.join("\n");
      for (
        const path of ["seed", "email.mix", "email.latency.maxMs", "sms.receipts", "(scenario)"]
      ) expect(text).toContain(path);
    }
  });
});

describe("decisions", () => {
  const mix = { accept: 0.5, userUnknown: 0.3, bounceLater: 0.2 };
  const run = (seed: number) => {
    const ctx = new SimulatorContext({ ...defaultScenario(), seed });
    const out = Array.from(
      { length: 300 },
      (_, i) => ctx.decide("email", `u${i % 100}@example.com`, mix, null, "accept").outcome,
    );
    ctx.close();
    return out;
  };

  it("gives the same outcomes for the same seed and recipients, others for another seed", () => {
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });

  it("follows the mix's proportions", () => {
    const counts = run(7).reduce<Record<string, number>>(
      (c, o) => ({ ...c, [o]: (c[o] ?? 0) + 1 }),
      {},
    );
    expect(counts.accept! / 300).toBeGreaterThan(0.4);
    expect(counts.accept! / 300).toBeLessThan(0.6);
    expect(counts.bounceLater! / 300).toBeGreaterThan(0.1);
  });

  it("lets magic recipients win over the mix", () => {
    const ctx = new SimulatorContext(defaultScenario());
    expect(ctx.decide("email", "x@y.z", { accept: 1 }, "userUnknown" as string, "accept"))
      .toMatchObject({ outcome: "userUnknown", decidedBy: "magic" });
    ctx.close();
  });

  it("reads magic addresses and numbers", () => {
    expect(emailMagicOutcome("Bounce+42@example.com")).toBe("bounceLater");
    expect(emailMagicOutcome("anyone@unknown-domain.example")).toBe("badDomain");
    expect(emailMagicOutcome("anyone@host.invalid")).toBe("badDomain");
    expect(emailMagicOutcome("someone@example.com")).toBeNull();
    expect(smsMagicOutcome("+15550000101")).toBe("invalidDestination");
    expect(smsMagicOutcome("+15551234500")).toBe("delivered");
    expect(smsMagicOutcome("+33612345678")).toBeNull();
    for (const o of Object.values(magicOutcomes())) {
      expect(o in emailOutcomes || o in smsOutcomes).toBe(true);
    }
  });
});

// Every magic outcome names a real outcome.
function magicOutcomes() {
  return [
    ...[
      "success",
      "unknown",
      "bounce",
      "softbounce",
      "mailboxfull",
      "full-after-data",
      "disabled",
      "spam",
      "trylater",
      "greylist",
      "drop",
      "ooto",
      "complaint",
    ]
      .map((l) => emailMagicOutcome(`${l}@example.com`)!),
    ...Array.from(
      { length: 15 },
      (_, i) => smsMagicOutcome(`+155500000${String(i).padStart(2, "0")}`)!,
    ),
  ];
}

describe("control API", () => {
  const setup = () => {
    const ctx = new SimulatorContext(defaultScenario());
    const app = createControlApp(ctx);
    for (let i = 1; i <= 3; i++) {
      ctx.ledger.add({
        id: `m${i}`,
        channel: "email",
        recipient: `u${i}@example.com`,
        occurrence: 0,
        outcome: i === 3 ? "bounceLater" : "accept",
        decidedBy: "mix",
        receivedAt: new Date(0).toISOString(),
        sync: { smtp: { code: 250, text: "OK" } },
        ...(i === 3
          ? { async: { kind: "bounce" as const, dueAt: new Date(0).toISOString(), detail: {} } }
          : {}),
        expected: i === 3 ? emailOutcomes.bounceLater.expected : emailOutcomes.accept.expected,
      });
    }
    return { ctx, app };
  };

  it("answers the ledger by id, since a sequence number, in summary and as NDJSON", async () => {
    const { ctx, app } = setup();
    expect(((await (await app.request("/ledger/m2")).json()) as { items: unknown[] }).items[0])
      .toMatchObject({
        seq: 2,
        recipient: "u2@example.com",
      });
    expect((await app.request("/ledger/nope")).status).toBe(404);
    const page = await (await app.request("/ledger?since=1&limit=1")).json();
    expect(page).toMatchObject({ items: [{ id: "m2" }], next: 2 });
    expect((await app.request("/ledger?since=-1")).status).toBe(400);
    expect(await (await app.request("/ledger/summary")).json() as unknown).toEqual({
      email: {
        total: 3,
        byOutcome: { accept: 2, bounceLater: 1 },
        byExpectedStatus: { sent: 2, failed: 1 },
        asyncPending: 1,
      },
    });
    const lines = (await (await app.request("/ledger/export")).text()).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    expect(lines.map((l) => l.id)).toEqual(["m1", "m2", "m3"]);
    expect((await app.request("/ledger", { method: "DELETE" })).status).toBe(204);
    expect(ctx.ledger.size).toBe(0);
    ctx.close();
  });

  it("changes the scenario at run time and refuses a bad one", async () => {
    const { ctx, app } = setup();
    const put = await app.request("/scenario", {
      method: "PUT",
      body: JSON.stringify({ seed: 9, email: { mix: { spam: 1 } } }),
      headers: { "content-type": "application/json" },
    });
    expect(put.status).toBe(200);
    expect(ctx.scenario.seed).toBe(9);
    expect(ctx.scenario.email.mix).toEqual({ spam: 1 });
    const bad = await app.request("/scenario", {
      method: "PUT",
      body: JSON.stringify({ timeScale: -1 }),
      headers: { "content-type": "application/json" },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toBe("application/problem+json");
    expect(((await bad.json()) as { errors: string[] }).errors[0]).toContain("timeScale");
    expect(ctx.scenario.seed).toBe(9);
    ctx.close();
  });
});
