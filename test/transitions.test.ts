import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { apply, initialState, type MessageEvent } from "@sendgate/core";
import { sameValue } from "../apps/gateway/src/services/transitions.ts";

// `decide` stores a decision only when the core's state changed by value: `sameValue` must say
// equal exactly when the two states' JSON (keys sorted, undefined members dropped) is the same,
// whatever order jsonb gave the keys back in.

/** JSON with keys sorted, undefined members left out: the reference `sameValue` must agree with. */
const canonical = (value: unknown): string =>
  JSON.stringify(
    value,
    (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]))
        : v,
  );

/** The same value with every object's keys in reverse order (as a jsonb round trip may do). */
const reordered = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(reordered);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value).reverse().map((k) => [
        k,
        reordered((value as Record<string, unknown>)[k]),
      ]),
    );
  }
  return value;
};

const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -3, max: 3 }),
    fc.constantFrom("a", "b", ""),
    fc.constant(undefined),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom("a", "b", "c", "status"), tie("value"), { maxKeys: 3 }),
  ),
})).value;

describe("sameValue", () => {
  it("agrees with comparing canonical JSON, for any two values", () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        expect(sameValue(a, b)).toBe(canonical(a) === canonical(b));
        expect(sameValue(a, reordered(a))).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it("tells a changed state from a duplicate report's, on the core's real states", () => {
    const events: MessageEvent[] = [
      { type: "claimed", attempt: 1 },
      { type: "providerAccepted", attempt: 1 },
      { type: "receipt", attempt: 1, delivered: true, stat: "DELIVRD" },
    ];
    let state = initialState();
    for (const event of events) {
      const next = apply(state, event).state;
      const stored = JSON.parse(JSON.stringify(reordered(next)));
      expect(sameValue(next, state)).toBe(false);
      expect(sameValue(apply(stored, event).state, stored)).toBe(true);
      state = next;
    }
  });
});
