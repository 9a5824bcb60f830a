// Moved to @sendgate/channels (packages/channels/src/sms/codec.ts): the SMSC and the gateway's
// SMPP client share one codec. Kept so that imports of this path keep working.
export {
  commandId,
  decodeSubmitSm,
  decodeText,
  type DeliverSmReceipt,
  encodeDeliverSm,
  encodeSubmitSmResp,
  MalformedPdu,
  type SubmitSm,
  tag,
} from "@sendgate/channels";
