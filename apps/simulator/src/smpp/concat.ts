// Moved to @sendgate/channels (packages/channels/src/sms/concat.ts). Kept so that imports of this
// path keep working.
export { type PartInfo, partInfo, udhLength } from "@sendgate/channels";
