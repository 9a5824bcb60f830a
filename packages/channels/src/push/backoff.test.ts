import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OriginBackoff, parseRetryAfter } from "./backoff.ts";

describe("Retry-After", () => {
  const now = Date.UTC(2026, 10, 2, 10, 0, 0);

  it("reads delay-seconds and HTTP-dates (RFC 9110 §10.2.3)", () => {
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("Mon, 02 Nov 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Mon, 02 Nov 2026 10:01:00 GMT", now)).toBe(60_000);
    expect(parseRetryAfter("Mon, 02 Nov 2026 09:00:00 GMT", now)).toBe(0);
  });

  it("ignores what it cannot read", () => {
    for (
      const bad of [
        undefined,
        "",
        "soon",
        "-5",
        "1.5",
        "5 minutes",
        "2026-11-02T10:00:30Z",
        // RFC 850 and asctime dates, obsolete since 1999.
        "Monday, 02-Nov-26 10:01:00 GMT",
        "Mon Nov  2 10:01:00 2026",
      ]
    ) {
      expect(parseRetryAfter(bad, now), String(bad)).toBeUndefined();
    }
    fc.assert(fc.property(fc.string(), (text) => {
      const ms = parseRetryAfter(text, now);
      expect(ms === undefined || (Number.isFinite(ms) && ms >= 0)).toBe(true);
    }));
  });
});

describe("origin back-off", () => {
  it("holds an origin for the time asked, then lets it go; other origins are not held", () => {
    let now = 1_000;
    const backoff = new OriginBackoff(() => now);
    backoff.hold("https://a.example", 30_000);
    expect(backoff.remaining("https://a.example")).toBe(30_000);
    expect(backoff.remaining("https://b.example")).toBe(0);
    now += 29_999;
    expect(backoff.remaining("https://a.example")).toBe(1);
    now += 1;
    expect(backoff.remaining("https://a.example")).toBe(0);
  });

  it("keeps the longer of two waits, and ignores a zero one", () => {
    let now = 0;
    const backoff = new OriginBackoff(() => now);
    backoff.hold("o", 60_000);
    backoff.hold("o", 5_000);
    expect(backoff.remaining("o")).toBe(60_000);
    now = 10_000;
    backoff.hold("o", 70_000);
    expect(backoff.remaining("o")).toBe(70_000);
    backoff.hold("p", 0);
    expect(backoff.remaining("p")).toBe(0);
  });
});
