import { describe, expect, it } from "vitest";
import { backoffDelay, Pacer } from "./pacing.ts";

/** A pacer on a clock the test moves. */
function paced(rate?: number) {
  let t = 1_000_000;
  const pacer = new Pacer({ rate, now: () => t });
  return {
    pacer,
    advance: (ms: number) => (t += ms),
    /** Submits it lets through over `ms`, taking whenever allowed, 1 ms steps. */
    run(ms: number, onEach: () => void = () => {}) {
      let n = 0;
      for (const end = t + ms; t < end;) {
        const wait = pacer.take();
        if (wait === 0) {
          n++;
          onEach();
          // Running free: nothing more to measure (and time would not move).
          if (pacer.rate === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
        } else t += Math.min(wait, end - t);
      }
      return n;
    },
  };
}

describe("backoffDelay", () => {
  it("is full jitter under a doubling ceiling, capped", () => {
    expect(backoffDelay(0, 500, 30_000, () => 0.999)).toBe(499);
    expect(backoffDelay(3, 500, 30_000, () => 0.5)).toBe(2_000);
    expect(backoffDelay(20, 500, 30_000, () => 0.999)).toBe(29_970);
    expect(backoffDelay(5, 500, 30_000, () => 0)).toBe(0);
  });
});

describe("Pacer", () => {
  it("lets everything through without a cap", () => {
    const { pacer } = paced();
    for (let i = 0; i < 10_000; i++) expect(pacer.take()).toBe(0);
    expect(pacer.rate).toBe(Number.POSITIVE_INFINITY);
  });

  it("holds the contracted rate, with a small burst", () => {
    const p = paced(100);
    const sent = p.run(10_000);
    expect(sent).toBeGreaterThanOrEqual(995);
    expect(sent).toBeLessThanOrEqual(1_006);
  });

  it("halves on a throttle, pauses, then climbs back to the cap", () => {
    const p = paced(200);
    p.run(1_000, () => p.pacer.accepted());
    p.pacer.throttled();
    // Half of what went through in the last second (counted in 100 ms slots: about 200).
    const halved = p.pacer.rate;
    expect(halved).toBeGreaterThanOrEqual(85);
    expect(halved).toBeLessThanOrEqual(100);
    expect(p.pacer.pausedFor).toBe(100);
    // Answers to submits in flight during the pause are the same episode.
    p.pacer.throttled();
    expect(p.pacer.rate).toBe(halved);
    expect(p.pacer.take()).toBeGreaterThan(0);
    const slowSecond = p.run(1_100);
    expect(slowSecond).toBeLessThanOrEqual(125);
    p.run(10_000);
    expect(p.pacer.rate).toBe(200);
  });

  it("without a cap, finds the SMSC's rate from what it accepted, then runs free again", () => {
    const p = paced();
    // The SMSC takes 50 in the second before it throttles.
    for (let i = 0; i < 50; i++) {
      p.advance(20);
      p.pacer.accepted();
    }
    p.pacer.throttled();
    expect(p.pacer.rate).toBeGreaterThanOrEqual(20);
    expect(p.pacer.rate).toBeLessThanOrEqual(25);
    const sent = p.run(2_000);
    expect(sent).toBeLessThanOrEqual(70);
    p.run(20_000);
    expect(p.pacer.rate).toBe(Number.POSITIVE_INFINITY);
  });

  it("pauses longer on each episode that follows closely, up to the cap", () => {
    const p = paced(1_000);
    const pauses: number[] = [];
    for (let i = 0; i < 8; i++) {
      p.pacer.throttled();
      pauses.push(p.pacer.pausedFor);
      p.advance(p.pacer.pausedFor + 10);
    }
    expect(pauses).toEqual([100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000]);
    p.advance(60_000);
    p.pacer.throttled();
    expect(p.pacer.pausedFor).toBe(100);
  });
});
