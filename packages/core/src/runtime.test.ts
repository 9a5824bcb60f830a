import { expect, it } from "vitest";

// `npm run test:deno` sets SENDGATE_EXPECT_DENO=1: this proves the suite really ran in Deno
// (vitest started by Deno runs its workers in Deno too) and did not fall back to Node.
it("runs in the runtime it was started for", () => {
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  const expectDeno =
    (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env
      .SENDGATE_EXPECT_DENO === "1";
  expect(deno !== undefined).toBe(expectDeno);
});
