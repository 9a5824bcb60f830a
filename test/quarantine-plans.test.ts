import { sql } from "drizzle-orm";
import fc from "fast-check";
import { expect, it } from "vitest";
import { type AddressState, AddressStatus, decideAddress } from "@sendgate/core";
import { execute, plans } from "@sendgate/db";
import { describeBackends } from "./support/harness.ts";

// The quarantine's bulk SQL restates two of the core's decisions (`decideAddress`'s `set` for an
// import, `release` for a requalification). Each is checked here row for row against the core: any
// prior entry, any event, the stored row equals what the core decides.

const statuses = Object.values(AddressStatus);
const T0 = Date.UTC(2026, 0, 1);

const prior = fc.option(
  fc.record({
    status: fc.constantFrom(...statuses),
    errorCount: fc.integer({ min: 0, max: 6 }),
    comment: fc.option(fc.constantFrom("old note", "kept"), { nil: null }),
    statusSince: fc.integer({ min: 0, max: 1_000 }).map((d) => T0 + d * 60_000),
    causeText: fc.option(fc.constant("550 5.1.1 <*>: user unknown"), { nil: null }),
  }),
  { nil: null },
);

type Prior = NonNullable<typeof prior extends fc.Arbitrary<infer P> ? P : never>;

const asState = (p: Prior): AddressState => ({
  status: p.status,
  errorCount: p.errorCount,
  lastType: null,
  lastReason: null,
  lastText: null,
  firstErrorAt: null,
  lastErrorAt: null,
  statusSince: p.statusSince,
  comment: p.comment,
});

describeBackends("quarantine plans against the core", (s) => {
  let n = 0;
  const seed = async (address: string, p: Prior | null) => {
    if (!p) return;
    await s().database.rows(
      sql`insert into quarantine (channel, address, scope, status, error_count, comment, status_since, cause_text, updated_at)
      values ('email', ${address}, '', ${p.status}, ${p.errorCount}, ${p.comment}, ${
        new Date(p.statusSince).toISOString()
      }::timestamptz, ${p.causeText}, now())`,
    );
  };
  const read = async (address: string) => {
    const [row] = await s().database.rows<Record<string, unknown>>(
      sql`select status, error_count, comment, status_since, cause_text from quarantine where channel = 'email' and address = ${address} and scope = ''`,
    );
    return row
      ? {
        status: row.status,
        errorCount: Number(row.error_count),
        comment: row.comment,
        statusSince: new Date(row.status_since as string).getTime(),
        causeText: row.cause_text,
      }
      : null;
  };

  it("imports as the core's `set` decides", async () => {
    await fc.assert(
      fc.asyncProperty(
        prior,
        fc.constantFrom(
          AddressStatus.denylisted,
          AddressStatus.allowlisted,
          AddressStatus.quarantined,
        ),
        fc.option(fc.constantFrom("new note", "kept"), { nil: null }),
        async (p, status, comment) => {
          const address = `import${n++}@example.com`;
          await seed(address, p);
          const at = T0 + 2_000 * 60_000;
          await execute(
            s().database,
            plans.importAddresses(
              "email",
              "",
              status,
              [{ a: address, c: comment }],
              new Date(at).toISOString(),
            ),
          );
          const core = decideAddress(p ? asState(p) : null, {
            kind: "set",
            status,
            at,
            ...(comment !== null ? { comment } : {}),
          })!;
          expect(await read(address)).toEqual({
            status: core.status,
            errorCount: p?.errorCount ?? 0,
            comment: core.comment,
            statusSince: core.statusSince,
            causeText: null,
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it("releases as the core's `release` decides, only what the text caused in the window", async () => {
    await fc.assert(
      fc.asyncProperty(
        prior.filter((p) => p !== null),
        fc.option(fc.constant("released after the outage"), { nil: null }),
        fc.boolean(),
        async (p, comment, inWindow) => {
          const address = `release${n++}@example.com`;
          await seed(address, p);
          const at = T0 + 3_000 * 60_000;
          const [from, to] = inWindow ? [T0, T0 + 1_000 * 60_000] : [T0 + 1_500 * 60_000, at];
          await execute(
            s().database,
            plans.releaseCausedBy(
              "email",
              { text: "550 5.1.1 <*>: user unknown" },
              new Date(from).toISOString(),
              new Date(to).toISOString(),
              comment,
              new Date(at).toISOString(),
            ),
          );
          const applies = p!.causeText !== null && inWindow;
          const core = applies
            ? decideAddress(asState(p!), { kind: "release", at, ...(comment ? { comment } : {}) })!
            : asState(p!);
          expect(await read(address)).toEqual({
            status: core.status,
            errorCount: core.errorCount,
            comment: core.comment,
            statusSince: core.statusSince,
            causeText: p!.causeText,
          });
        },
      ),
      { numRuns: 60 },
    );
  });
});
