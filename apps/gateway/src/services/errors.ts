/**
 * What a service refuses, in the domain's words: a closed set of codes that each transport maps
 * at its edge (the HTTP app to problem+json, a command-line tool to a message). Services never
 * speak HTTP.
 */
export const ServiceErrorCode = {
  /** No such resource, or another instance's. */
  notFound: "notFound",
  /** Not allowed in the resource's current state (a finished delivery, a shipped rule). */
  conflict: "conflict",
  /** The input breaks a rule of the domain; `fields` names what. */
  invalid: "invalid",
  /** An Idempotency-Key already used for another request. */
  idempotencyMismatch: "idempotencyMismatch",
} as const;
export type ServiceErrorCode = typeof ServiceErrorCode[keyof typeof ServiceErrorCode];

export interface FieldProblem {
  /** The input's field, e.g. `recipients.3.address`, `scheduledAt`. */
  path: string;
  message: string;
}

export class ServiceError extends Error {
  constructor(
    readonly code: ServiceErrorCode,
    message: string,
    readonly fields: readonly FieldProblem[] = [],
  ) {
    super(message);
  }
}
