// Moved to @sendgate/channels (packages/channels/src/sms/receipt.ts): the SMSC builds receipts,
// the gateway parses them, with one module. Kept so that imports of this path keep working.
export {
  formatReceipt,
  isReceiptEsmClass,
  messageState,
  type ParsedReceipt,
  parseReceipt,
  parseReceiptDate,
  receiptDate,
  type ReceiptFields,
  type ReceiptStat,
  type ReceiptTlvs,
  sameMessageId,
} from "@sendgate/channels";
