import { describe, expect, it } from "vitest";
import { compileRules, defaultRuleSet, qualify } from "@sendgate/core";
import { createMxCache, type MxRecord, type MxResolver } from "./mx.ts";

const rules = compileRules(defaultRuleSet);

const dnsError = (code: string) => Object.assign(new Error(`query ${code}`), { code });

/** A resolver over a table: a domain's MX records or an error code, its addresses or a code. */
function stub(
  mx: Record<string, MxRecord[] | string>,
  addresses: Record<string, string[] | string> = {},
) {
  const calls: string[] = [];
  const resolver: MxResolver = {
    resolveMx(domain) {
      calls.push(`mx ${domain}`);
      const answer = mx[domain] ?? "ENOTFOUND";
      return typeof answer === "string"
        ? Promise.reject(dnsError(answer))
        : Promise.resolve(answer);
    },
    resolveAddresses(name) {
      calls.push(`a ${name}`);
      const answer = addresses[name] ?? [];
      return typeof answer === "string"
        ? Promise.reject(dnsError(answer))
        : Promise.resolve(answer);
    },
  };
  return { resolver, calls };
}

const verdict = (answer: Awaited<ReturnType<ReturnType<typeof createMxCache>["resolve"]>>) => {
  if (answer.kind === "hosts") throw new Error("hosts");
  const v = qualify(rules, answer.input).verdict;
  return v.outcome === "failure" ? [answer.kind, v.type, v.reason] : [v.outcome];
};

describe("createMxCache", () => {
  it("orders MX hosts by preference, without duplicates or the trailing dot", async () => {
    const { resolver } = stub({
      "example.com": [
        { exchange: "mx2.example.com.", priority: 20 },
        { exchange: "MX1.example.com", priority: 10 },
        { exchange: "mx1b.example.com", priority: 10 },
        { exchange: "mx2.example.com", priority: 20 },
      ],
    });
    const mx = createMxCache({ resolver, ttlMs: 60_000 });
    expect(await mx.resolve("Example.COM")).toEqual({
      kind: "hosts",
      hosts: ["mx1.example.com", "mx1b.example.com", "mx2.example.com"],
    });
  });

  it("refuses a null MX, NXDOMAIN and a domain without MX nor address as soft 2", async () => {
    const { resolver } = stub(
      {
        "null.example": [{ exchange: "", priority: 0 }],
        "nodata.example": "ENODATA",
        "both.example": [{ exchange: ".", priority: 0 }, {
          exchange: "mx.both.example",
          priority: 5,
        }],
      },
      { "nodata.example": [] },
    );
    const mx = createMxCache({ resolver, ttlMs: 60_000 });
    expect(verdict(await mx.resolve("null.example"))).toEqual(["refused", "soft", 2]);
    expect(verdict(await mx.resolve("nxdomain.example"))).toEqual(["refused", "soft", 2]);
    expect(verdict(await mx.resolve("nodata.example"))).toEqual(["refused", "soft", 2]);
    // A null MX beside real ones is a mistake; the real ones win.
    expect(await mx.resolve("both.example")).toEqual({ kind: "hosts", hosts: ["mx.both.example"] });
  });

  it("uses the domain's own addresses when it has no MX (implicit MX)", async () => {
    const { resolver } = stub({ "implicit.example": "ENODATA" }, {
      "implicit.example": ["192.0.2.7", "2001:db8::7"],
    });
    const mx = createMxCache({ resolver, ttlMs: 60_000 });
    expect(await mx.resolve("implicit.example")).toEqual({
      kind: "hosts",
      hosts: ["192.0.2.7", "2001:db8::7"],
    });
  });

  it("answers a temporary DNS failure as ignored 3 and asks again next time", async () => {
    const { resolver, calls } = stub(
      { "flaky.example": "ESERVFAIL", "slow.example": "ETIMEOUT" },
      {},
    );
    const mx = createMxCache({ resolver, ttlMs: 60_000 });
    expect(verdict(await mx.resolve("flaky.example"))).toEqual(["transport", "ignored", 3]);
    expect(verdict(await mx.resolve("slow.example"))).toEqual(["transport", "ignored", 3]);
    await mx.resolve("flaky.example");
    expect(calls.filter((c) => c === "mx flaky.example")).toHaveLength(2);
    // An address lookup failing for now is a temporary failure too.
    const a = stub({ "noa.example": "ENODATA" }, { "noa.example": "ESERVFAIL" });
    expect(verdict(await createMxCache({ resolver: a.resolver, ttlMs: 1 }).resolve("noa.example")))
      .toEqual(["transport", "ignored", 3]);
  });

  it("asks once per domain per TTL, concurrent callers included", async () => {
    const { resolver, calls } = stub({
      "example.com": [{ exchange: "mx.example.com", priority: 1 }],
    });
    let now = 1_000;
    const mx = createMxCache({ resolver, ttlMs: 300_000, now: () => now });
    await Promise.all(Array.from({ length: 50 }, () => mx.resolve("example.com")));
    await mx.resolve("nxdomain.example");
    await mx.resolve("nxdomain.example");
    expect(calls).toEqual(["mx example.com", "mx nxdomain.example"]);
    now += 299_999;
    await mx.resolve("example.com");
    expect(calls).toHaveLength(2);
    now += 2;
    await mx.resolve("example.com");
    expect(calls).toEqual(["mx example.com", "mx nxdomain.example", "mx example.com"]);
  });

  it("keeps at most maxEntries domains", async () => {
    const { resolver, calls } = stub({});
    const mx = createMxCache({ resolver, ttlMs: 60_000, maxEntries: 2 });
    for (const d of ["a.example", "b.example", "c.example", "a.example"]) await mx.resolve(d);
    expect(calls).toEqual(["mx a.example", "mx b.example", "mx c.example", "mx a.example"]);
  });
});
