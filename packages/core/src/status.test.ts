import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { Failure } from "./failure.ts";
import {
  apply,
  applyAll,
  excludedState,
  finalStatuses,
  initialState,
  type MessageEvent,
  type MessageState,
  MessageStatus,
} from "./status.ts";

const HOUR = 3_600_000;
const userUnknown: Failure = { type: "hard", reason: 1 };
const mailboxFull: Failure = { type: "soft", reason: 5 };
const throttled: Failure = { type: "ignored", reason: 3 };
const notConnected: Failure = { type: "ignored", reason: 6 };

const run = (events: MessageEvent[], from: MessageState = initialState()) => applyAll(from, events);

describe("status machine, ordered runs", () => {
  it("email: pending → prepared → sent", () => {
    const t = run([{ type: "queued", attempt: 1 }, { type: "claimed", attempt: 1 }]);
    expect(t.state.status).toBe("prepared");
    expect(apply(t.state, { type: "sent", attempt: 1 }).state.status).toBe("sent");
  });

  it("sms: sent to provider → taken into account → received on mobile", () => {
    const statuses = [
      { type: "claimed", attempt: 1 },
      { type: "sentToProvider", attempt: 1 },
      { type: "providerAccepted", attempt: 1 },
      { type: "receipt", attempt: 1, delivered: false, stat: "ENROUTE" },
      { type: "receipt", attempt: 1, delivered: true, stat: "DELIVRD" },
    ].reduce<{ state: MessageState; seen: string[] }>((acc, e) => {
      const state = apply(acc.state, e as MessageEvent).state;
      return { state, seen: [...acc.seen, state.status] };
    }, { state: initialState(), seen: [] }).seen;
    expect(statuses).toEqual([
      "prepared",
      "sentToProvider",
      "takenIntoAccount",
      "takenIntoAccount",
      "receivedOnMobile",
    ]);
  });

  it("a receipt before the provider's acknowledgement stays received on mobile", () => {
    const t = run([
      { type: "sentToProvider", attempt: 1 },
      { type: "receipt", attempt: 1, delivered: true },
      { type: "providerAccepted", attempt: 1 },
    ]);
    expect(t.state.status).toBe("receivedOnMobile");
  });

  it("a bounce a week after sent turns it into failed and feeds the quarantine", () => {
    const sent = run([{ type: "claimed", attempt: 1 }, { type: "sent", attempt: 1 }]).state;
    const t = apply(sent, {
      type: "failure",
      origin: "bounce",
      attempt: 1,
      failure: userUnknown,
      retryAt: null,
    });
    expect(t.state.status).toBe("failed");
    expect(t.state.failure).toMatchObject({ type: "hard", reason: 1, final: true });
    expect(t.effects).toEqual([{ kind: "addressFailure", failure: userUnknown }]);
  });

  it("a soft failure with a retry goes back to pending for the next attempt", () => {
    const t = run([
      { type: "claimed", attempt: 1 },
      { type: "failure", origin: "sync", attempt: 1, failure: mailboxFull, retryAt: 5 * HOUR },
    ]);
    expect(t.state).toMatchObject({
      status: "pending",
      attempt: 2,
      retry: { attempt: 2, at: 5 * HOUR },
    });
    expect(t.effects).toEqual([
      { kind: "addressFailure", failure: mailboxFull },
      { kind: "scheduleRetry", attempt: 2, at: 5 * HOUR },
    ]);
  });

  it("a hard failure is final even when a retry time is offered", () => {
    const t = run([{
      type: "failure",
      origin: "sync",
      attempt: 1,
      failure: userUnknown,
      retryAt: HOUR,
    }]);
    expect(t.state.status).toBe("failed");
    expect(t.effects.map((e) => e.kind)).toEqual(["addressFailure"]);
  });

  it("a failure without retry time (retries or validity exhausted) is final", () => {
    const t = run([{
      type: "failure",
      origin: "receipt",
      stat: "EXPIRED",
      attempt: 1,
      failure: notConnected,
      retryAt: null,
    }]);
    expect(t.state.status).toBe("failed");
  });

  it("a complaint denylists once and leaves the status alone", () => {
    const sent = run([{ type: "sent", attempt: 1 }]).state;
    const t = apply(sent, { type: "complaint", attempt: 1 });
    expect(t.state.status).toBe("sent");
    expect(t.effects).toEqual([{ kind: "denylist" }]);
    expect(apply(t.state, { type: "complaint", attempt: 1 }).effects).toEqual([]);
  });

  it("cancel stops what has not gone out, not what has", () => {
    expect(run([{ type: "queued", attempt: 1 }, { type: "cancel" }]).state.status).toBe(
      "cancelled",
    );
    expect(run([{ type: "sent", attempt: 1 }, { type: "cancel" }]).state.status).toBe("sent");
    const retrying = run([
      { type: "failure", origin: "sync", attempt: 1, failure: throttled, retryAt: HOUR },
      { type: "cancel" },
    ]);
    expect(retrying.state.status).toBe("cancelled");
  });

  it("cancelled messages schedule no retry", () => {
    const t = run([
      { type: "cancel" },
      { type: "failure", origin: "sync", attempt: 1, failure: throttled, retryAt: HOUR },
    ]);
    expect(t.state.status).toBe("cancelled");
    expect(t.effects.map((e) => e.kind)).toEqual(["addressFailure"]);
  });

  it("validity expiry fails what is still waiting", () => {
    expect(
      run([{ type: "queued", attempt: 1 }, { type: "validityExpired", attempt: 1 }]).state.status,
    ).toBe("failed");
    const retrying = run([
      { type: "failure", origin: "sync", attempt: 1, failure: mailboxFull, retryAt: HOUR },
      { type: "validityExpired", attempt: 2 },
    ]).state;
    expect(retrying).toMatchObject({ status: "failed", failure: { reason: 5 } });
  });

  it("reports of an earlier attempt do not move a later one", () => {
    const t = run([
      { type: "failure", origin: "sync", attempt: 1, failure: throttled, retryAt: HOUR },
      { type: "claimed", attempt: 2 },
      { type: "sent", attempt: 2 },
      { type: "claimed", attempt: 1 },
      { type: "queued", attempt: 1 },
    ]);
    expect(t.state).toMatchObject({ status: "sent", attempt: 2 });
  });

  it("keeps excluded recipients ignored", () => {
    const excluded = excludedState({ type: "ignored", reason: 10 });
    expect(excluded.status).toBe("ignored");
    expect(
      run([{ type: "claimed", attempt: 1 }, { type: "sent", attempt: 1 }], excluded).state.status,
    ).toBe("ignored");
  });

  it("records a connector's not applicable", () => {
    expect(
      run([{ type: "claimed", attempt: 1 }, { type: "notApplicable", attempt: 1 }]).state.status,
    )
      .toBe("notApplicable");
  });
});

// A realistic life of one message, driven by a list of choices.
function lifeOf(channel: "email" | "sms" | "push", choices: number[]): MessageEvent[] {
  let i = 0;
  const pick = (n: number) => (choices[i++] ?? 0) % n;
  const failures = [
    userUnknown,
    mailboxFull,
    throttled,
    notConnected,
    { type: "undefined", reason: 0 } as Failure,
  ];
  const events: MessageEvent[] = [];
  const maxAttempts = 4;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const retryAt = (f: Failure) =>
      f.type !== "hard" && attempt < maxAttempts && pick(2) === 0 ? attempt * HOUR : null;
    events.push({ type: "queued", attempt });
    if (pick(8) === 0) {
      events.push({ type: "cancel" });
      break;
    }
    events.push({ type: "claimed", attempt });
    if (pick(10) === 0) events.push({ type: "cancel" }); // too late: the sender goes on
    let failure: MessageEvent | null = null;
    if (channel === "sms") {
      events.push({ type: "sentToProvider", attempt });
      const outcome = pick(3);
      if (outcome === 0) {
        events.push({ type: "providerAccepted", attempt });
        if (pick(2) === 0) {
          events.push({ type: "receipt", attempt, delivered: false, stat: "ENROUTE" });
        }
        const receipt = pick(3);
        if (receipt === 0) {
          events.push({ type: "receipt", attempt, delivered: true, stat: "DELIVRD" });
        }
        if (receipt === 1) {
          const f = failures[pick(failures.length)]!;
          failure = {
            type: "failure",
            origin: "receipt",
            stat: "UNDELIV",
            attempt,
            failure: f,
            retryAt: retryAt(f),
          };
        }
      } else {
        const f = outcome === 1 ? failures[pick(failures.length)]! : throttled;
        failure = { type: "failure", origin: "sync", attempt, failure: f, retryAt: retryAt(f) };
      }
    } else if (pick(2) === 0) {
      events.push({ type: "sent", attempt });
      if (channel === "email" && pick(3) === 0) events.push({ type: "complaint", attempt });
      if (channel === "email" && pick(2) === 0) {
        const f = failures[pick(failures.length)]!;
        failure = { type: "failure", origin: "bounce", attempt, failure: f, retryAt: retryAt(f) };
      }
    } else {
      const f = failures[pick(failures.length)]!;
      failure = { type: "failure", origin: "sync", attempt, failure: f, retryAt: retryAt(f) };
    }
    if (!failure) return events;
    events.push(failure);
    if (failure.type === "failure" && failure.retryAt === null) return events;
    // A retry is scheduled: validity may end before it comes due.
    if (pick(4) === 0) {
      events.push({ type: "validityExpired", attempt: attempt + 1 });
      return events;
    }
  }
  return events;
}

const life = fc.record({
  channel: fc.constantFrom("email" as const, "sms" as const, "push" as const),
  choices: fc.array(fc.nat(1000), { minLength: 40, maxLength: 40 }),
}).map(({ channel, choices }) => lifeOf(channel, choices));

// The same events shuffled, some of them more than once.
const reordered = (events: MessageEvent[]) =>
  fc.tuple(
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), {
      minLength: events.length,
      maxLength: events.length,
    }),
    fc.array(fc.nat(Math.max(0, events.length - 1)), { maxLength: 6 }),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 6, maxLength: 6 }),
  ).map(([keys, dupes, dupeKeys]) => {
    const keyed = events.map((event, i) => ({ event, key: keys[i]! }));
    dupes.forEach((index, j) => keyed.push({ event: events[index]!, key: dupeKeys[j]! }));
    return keyed.sort((a, b) => a.key - b.key).map((k) => k.event);
  });

const essence = (s: MessageState) => ({
  status: s.status,
  attempt: s.attempt,
  failure: s.failure,
  retry: s.retry,
  complained: s.complained,
  seen: [...s.seen].sort(),
});

describe("status machine, properties", () => {
  it("any permutation or duplication of a run's events ends where the ordered run ends", () => {
    fc.assert(
      fc.property(
        life.chain((events) => fc.tuple(fc.constant(events), reordered(events))),
        ([events, shuffled]) => {
          expect(essence(run(shuffled).state)).toEqual(essence(run(events).state));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("a duplicate event changes nothing and has no effect", () => {
    fc.assert(
      fc.property(life, fc.nat(), (events, n) => {
        if (events.length === 0) return;
        const prefix = run(events.slice(0, (n % events.length) + 1));
        const again = apply(prefix.state, events[n % events.length]!);
        expect(again.effects).toEqual([]);
        expect(again.state).toEqual(prefix.state);
      }),
      { numRuns: 2000 },
    );
  });

  const anyEvent: fc.Arbitrary<MessageEvent> = fc.oneof(
    fc.record({
      type: fc.constantFrom(
        "queued" as const,
        "claimed" as const,
        "sentToProvider" as const,
        "providerAccepted" as const,
        "sent" as const,
        "complaint" as const,
        "notApplicable" as const,
      ),
      attempt: fc.integer({ min: 1, max: 4 }),
    }),
    fc.record({
      type: fc.constant("receipt" as const),
      attempt: fc.integer({ min: 1, max: 4 }),
      delivered: fc.boolean(),
    }),
    fc.record({
      type: fc.constant("failure" as const),
      origin: fc.constantFrom("sync" as const, "bounce" as const, "receipt" as const),
      attempt: fc.integer({ min: 1, max: 4 }),
      failure: fc.constantFrom(userUnknown, mailboxFull, throttled, notConnected),
      retryAt: fc.option(fc.integer({ min: 0, max: 100 * HOUR })),
    }),
    fc.constant<MessageEvent>({ type: "cancel" }),
    fc.record({
      type: fc.constant("validityExpired" as const),
      attempt: fc.integer({ min: 1, max: 4 }),
    }),
  );
  const finalRank: Partial<Record<MessageStatus, number>> = {
    notApplicable: 1,
    failed: 2,
    receivedOnMobile: 3,
    ignored: 4,
  };

  it("final states never regress, and received on mobile is final", () => {
    fc.assert(
      fc.property(fc.array(anyEvent, { maxLength: 30 }), fc.boolean(), (events, excluded) => {
        let state = excluded ? excludedState({ type: "hard", reason: 8 }) : initialState();
        for (const event of events) {
          const next = apply(state, event).state;
          if (finalStatuses.has(state.status)) {
            expect(finalStatuses.has(next.status)).toBe(true);
            expect(finalRank[next.status]!).toBeGreaterThanOrEqual(finalRank[state.status]!);
          }
          if (state.status === MessageStatus.receivedOnMobile) {
            expect(next.status).toBe("receivedOnMobile");
          }
          state = next;
        }
      }),
      { numRuns: 3000 },
    );
  });
});
