/**
 * @sendgate/channels — the adapters that deliver messages (SMTP, SMPP, Web Push) and the network
 * policy they share. Unlike @sendgate/core, this package does I/O.
 */
export * from "./push/endpoint-policy.ts";
export * from "./email/headers.ts";
export * from "./channel.ts";
export * from "./token.ts";
export {
  createPushChannel,
  type PushChannel,
  type PushChannelConfig,
} from "./push/push-channel.ts";
export type { PushTlsOptions } from "./push/transport.ts";
export { MAX_PLAINTEXT_BYTES } from "./push/payload.ts";
export {
  type VapidKeys,
  vapidKeysError,
  type VapidSigner,
  webPushSigner,
} from "./push/vapid-tokens.ts";
// The push service's side of the wire format, for the simulator (and tests).
export { type VapidVerdict, VapidVerifier } from "./push/vapid.ts";
export { type Aes128gcmDecryption, decryptAes128gcm, type PushRecipient } from "./push/ece.ts";
export * from "./email/email-channel.ts";
export * from "./email/bounce/parse.ts";
export { generateVapidKeys } from "./push/keys.ts";
// SMPP wire format, shared by the SMS channel and the simulator's SMSC.
export * from "./sms/codec.ts";
export * from "./sms/concat.ts";
export * from "./sms/receipt.ts";
export { encodeGsm7, encodeUcs2 } from "./sms/text.ts";
export {
  type LongMessageMode,
  MAX_PARTS,
  type Segmentation,
  type SegmentOptions,
  segmentText,
  type SubmitPart,
} from "./sms/segments.ts";
export * from "./sms/callback-signature.ts";
export {
  createSmsChannel,
  type SmsChannel,
  type SmsChannelConfig,
  type SmsDeliverEvent,
  type SmsProviderConfig,
  type SmsProviderStatus,
} from "./sms/sms-channel.ts";
export {
  type BindCounters,
  type BindError,
  type BindLog,
  type BindState,
  SmppBind,
  type SmppBindOptions,
  type SubmitRequest,
  type SubmitResult,
} from "./sms/smpp-client.ts";
export * from "./email/bounce/qualify.ts";
