import { Buffer } from "node:buffer";
import type { Transform } from "node:stream";
import { Encoder as Base64Encoder } from "nodemailer/lib/base64";
import type MimeNode from "nodemailer/lib/mime-node";
import { Encoder as QpEncoder, type EncoderOptions } from "nodemailer/lib/qp";

/** What of a MimeNode the serializer reads besides its typed surface. */
interface Node {
  childNodes: Node[];
  multipart?: boolean | string | undefined;
  boundary?: string | false | undefined;
  contentType?: string | undefined;
  content?: unknown;
  newline?: unknown;
  _raw?: unknown;
  _transforms: unknown[];
  _processFuncs: unknown[];
  getTransferEncoding(): string | false;
  buildHeaders(): string;
}

/**
 * Runs one of nodemailer's encoders over a whole part at once, synchronously: its own
 * `_transform` and `_flush` (the code the stream would run, given the content in one chunk, as
 * nodemailer's string contents are), with what it pushes collected instead of queued.
 */
function encodeWith(encoder: Transform, input: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let failure: unknown = null;
  encoder.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (chunk !== null && chunk !== undefined) {
      out.push(typeof chunk === "string" ? Buffer.from(chunk, encoding) : chunk as Buffer);
    }
    return true;
  };
  const done = (error?: unknown) => (failure ??= error ?? null);
  // "buffer": what a Writable passes for a Buffer chunk (not a BufferEncoding in the types).
  encoder._transform(input, "buffer" as BufferEncoding, done);
  encoder._flush!(done);
  if (failure) throw failure;
  return out;
}

/** A tree the serializer can write: string or Buffer contents only, nothing raw. */
function plain(node: Node): boolean {
  if (node._raw) return false;
  // Streams, files and URLs are read as streams: not here.
  const content = node.content;
  if (content && typeof content !== "string" && !Buffer.isBuffer(content)) return false;
  return !node.multipart || node.childNodes.every(plain);
}

/** What MimeNode's `stream` writes for a node, in the same order. */
function serializeNode(node: Node, out: Buffer[]): void {
  const content = node.content as string | Buffer | undefined;
  const transferEncoding = node.getTransferEncoding();
  out.push(Buffer.from(node.buildHeaders() + "\r\n\r\n"));
  if (content) {
    const input = typeof content === "string" ? Buffer.from(content) : content;
    if (transferEncoding === "base64") {
      out.push(...encodeWith(new Base64Encoder(), input));
    } else if (transferEncoding === "quoted-printable") {
      // As nodemailer: outside of text a lone CR or LF is data.
      const binary = !/^text\//i.test(node.contentType || "");
      out.push(...encodeWith(new QpEncoder({ binary } as EncoderOptions), input));
    } else {
      out.push(input);
    }
  }
  if (node.multipart) {
    for (let i = 0; i < node.childNodes.length; i++) {
      out.push(Buffer.from((i > 0 ? "\r\n" : "") + "--" + node.boundary + "\r\n"));
      serializeNode(node.childNodes[i]!, out);
    }
    out.push(Buffer.from("\r\n--" + node.boundary + "--\r\n"));
  }
}

/**
 * The bytes `root.build()` answers, without its streams: nodemailer's MimeNode writes a message
 * through a pipeline of a dozen streams with an AbortController, timers between the parts and an
 * AbortError built at the end, which cost more CPU than composing the message itself. For a tree
 * of string and Buffer contents, with no transforms, post-processing (DKIM) or newline
 * conversion, this walks the same nodes with the same header building and the same encoders, in
 * one synchronous pass; for anything else it answers null and the caller builds as before.
 * Equivalence with `build()` is tested on generated messages (compose.test.ts).
 */
export function serializeMime(root: MimeNode): Buffer | null {
  const node = root as unknown as Node;
  if (node._transforms.length || node._processFuncs.length || node.newline) return null;
  if (!plain(node)) return null;
  const out: Buffer[] = [];
  serializeNode(node, out);
  // nodemailer's LastNewline: the message ends with a line break.
  let lastByte: number | undefined;
  for (let i = out.length - 1; i >= 0 && lastByte === undefined; i--) {
    if (out[i]!.length) lastByte = out[i]![out[i]!.length - 1];
  }
  if (lastByte === 0x0d) out.push(Buffer.from("\n"));
  else if (lastByte !== 0x0a) out.push(Buffer.from("\r\n"));
  return Buffer.concat(out);
}
