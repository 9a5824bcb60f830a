// The smpp package (0.5.1) ships no types: the part of its API the simulator, the tests of the
// direct codec (it is their independent reference) and the client bench use.
declare module "smpp" {
  import type { EventEmitter } from "node:events";
  import type { Server as NetServer, Socket } from "node:net";
  import type { Buffer } from "node:buffer";

  type Fields = Record<string, unknown>;
  type Callback = (pdu: PDU) => void;
  type Command = (
    options?: Fields | Callback,
    responseCallback?: Callback,
    sendCallback?: Callback,
  ) => boolean;

  export class PDU {
    constructor(command: string | Buffer, options?: Fields);
    command: string;
    command_id: number;
    command_length: number;
    command_status: number;
    sequence_number: number;
    [field: string]: unknown;
    isResponse(): boolean;
    response(options?: Fields): PDU;
    toBuffer(): Buffer;
    static maxLength: number;
    static fromBuffer(buffer: Buffer): PDU | false;
  }

  export class Session extends EventEmitter {
    socket: Socket;
    server?: Server;
    send(pdu: PDU, responseCallback?: Callback, sendCallback?: Callback): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
    bind_transceiver: Command;
    bind_transmitter: Command;
    bind_receiver: Command;
    submit_sm: Command;
    deliver_sm: Command;
    deliver_sm_resp: Command;
    enquire_link: Command;
    unbind: Command;
    query_sm: Command;
    data_sm: Command;
  }

  export class Server extends NetServer {
    sessions: Session[];
  }

  export function createServer(options?: Fields, listener?: (session: Session) => void): Server;
  export function connect(
    options: string | { host?: string; port?: number; url?: string },
    listener?: () => void,
  ): Session;

  export const errors: Record<string, number>;
  /** GSM 03.38 (unpacked septets); `shift` 0 is the default alphabet. */
  export const gsmCoder: {
    encode(text: string, shift: number): Buffer;
    decode(bytes: Buffer, shift: number): string;
  };
  export const consts: Record<string, Record<string, number>>;
}
