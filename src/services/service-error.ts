/**
 * The one error type of the local servers: its message is written for a person and printed as is,
 * without a stack trace.
 */
export class ServiceError extends Error {
  override name = 'ServiceError';
}
