import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InFlight } from "./in-flight.ts";

describe("in-flight limit", () => {
  it("never runs more than the limit at once, runs everything, in arrival order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 40 }),
        async (limit, delays) => {
          const slots = new InFlight(limit);
          let running = 0;
          let peak = 0;
          const started: number[] = [];
          const results = await Promise.all(delays.map((delay, i) =>
            slots.run(async () => {
              started.push(i);
              running++;
              peak = Math.max(peak, running);
              await new Promise((resolve) => setTimeout(resolve, delay));
              running--;
              if (delay === 3) throw new Error(`task ${i}`);
              return i;
            }).catch((error: Error) => error.message)
          ));
          expect(peak).toBeLessThanOrEqual(limit);
          expect(peak).toBe(Math.min(limit, delays.length));
          expect(started).toEqual(delays.map((_, i) => i));
          expect(results).toEqual(delays.map((d, i) => d === 3 ? `task ${i}` : i));
          expect(slots.active).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("refuses a limit below 1", () => {
    expect(() => new InFlight(0)).toThrow();
    expect(() => new InFlight(1.5)).toThrow();
  });
});
