/**
 * @sendgate/channels — the adapters that deliver messages (SMTP, SMPP, Web Push) and the network
 * policy they share. Unlike @sendgate/core, this package does I/O.
 */
export * from "./push/endpoint-policy.ts";
export * from "./email/headers.ts";
export * from "./channel.ts";
export * from "./token.ts";
