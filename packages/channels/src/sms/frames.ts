import { Buffer } from "node:buffer";
import { MAX_PDU_LENGTH } from "./codec.ts";

/**
 * Cuts a TCP stream into SMPP frames by their command_length. A length under 16 (the header) or
 * over MAX_PDU_LENGTH means the framing is lost: nothing after it can be trusted, and the caller
 * answers generic_nack ESME_RINVCMDLEN and drops the link. A frame whose body does not parse is
 * the caller's business: the framing holds, so the link goes on.
 */
export class FrameReader {
  #rest: Buffer | null = null;

  /**
   * Feeds a chunk; calls `onFrame` for each whole frame in order. Returns null while the framing
   * holds, or the sequence number of the frame that broke it (0 when unreadable).
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): { sequence: number } | null {
    const buffer = this.#rest ? Buffer.concat([this.#rest, chunk]) : chunk;
    this.#rest = null;
    let offset = 0;
    while (buffer.length - offset >= 4) {
      const length = buffer.readUInt32BE(offset);
      if (length < 16 || length > MAX_PDU_LENGTH) {
        const sequence = buffer.length - offset >= 16 ? buffer.readUInt32BE(offset + 12) : 0;
        return { sequence };
      }
      if (buffer.length - offset < length) break;
      const frame = buffer.subarray(offset, offset + length);
      offset += length;
      onFrame(frame);
    }
    if (offset < buffer.length) this.#rest = buffer.subarray(offset);
    return null;
  }

  /** Octets held waiting for the rest of their frame. */
  get pending(): number {
    return this.#rest?.length ?? 0;
  }
}

/** A FIFO with cheap pushes and shifts at both ends (submits waiting for a window slot). */
export class Deque<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Puts an item back at the front (a throttled submit goes again first). */
  unshift(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
  }

  peek(): T | undefined {
    return this.length > 0 ? this.#items[this.#head] : undefined;
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Empties the queue, returning what it held in order. */
  drain(): T[] {
    const items = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return items;
  }
}
