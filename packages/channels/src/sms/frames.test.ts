import { Buffer } from "node:buffer";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeEnquireLink, encodeSubmitSm } from "./codec.ts";
import { Deque, FrameReader } from "./frames.ts";

describe("FrameReader", () => {
  it("yields the same frames however the stream is cut (property)", () => {
    const frames = fc.array(
      fc.oneof(
        fc.integer({ min: 1, max: 1000 }).map(encodeEnquireLink),
        fc.uint8Array({ maxLength: 200 }).map((a) =>
          encodeSubmitSm({ sequence: 7, destination: "1", shortMessage: Buffer.from(a) })
        ),
      ),
      { maxLength: 20 },
    );
    fc.assert(fc.property(frames, fc.array(fc.integer({ min: 1, max: 50 })), (list, cuts) => {
      const stream = Buffer.concat(list);
      const reader = new FrameReader();
      const out: Buffer[] = [];
      let at = 0;
      for (const size of [...cuts, stream.length]) {
        const chunk = stream.subarray(at, Math.min(stream.length, at + size));
        at += chunk.length;
        expect(reader.push(chunk, (f) => out.push(Buffer.from(f)))).toBeNull();
        if (at >= stream.length) break;
      }
      expect(out).toEqual(list);
      expect(reader.pending).toBe(0);
    }));
  });

  it("says the framing is lost on a length under 16 or too large", () => {
    const reader = new FrameReader();
    const bad = Buffer.alloc(16);
    bad.writeUInt32BE(8, 0);
    bad.writeUInt32BE(42, 12);
    expect(reader.push(bad, () => {})).toEqual({ sequence: 42 });
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(0xffffffff, 0);
    expect(new FrameReader().push(huge, () => {})).toEqual({ sequence: 0 });
  });
});

describe("Deque", () => {
  it("is a FIFO that takes items back at the front", () => {
    const d = new Deque<number>();
    for (let i = 0; i < 3000; i++) d.push(i);
    for (let i = 0; i < 2000; i++) expect(d.shift()).toBe(i);
    d.unshift(-1);
    expect(d.peek()).toBe(-1);
    expect(d.length).toBe(1001);
    expect(d.shift()).toBe(-1);
    expect(d.drain()).toHaveLength(1000);
    expect(d.shift()).toBeUndefined();
  });
});
