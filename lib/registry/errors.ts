/**
 * Why a registry request failed, as the update check reports it. Messages name the registry
 * and what failed, never a credential or token.
 */
export type RegistryErrorKind =
  | "unreachable"
  | "unauthorised"
  | "not_found"
  | "rate_limited"
  | "refused"
  | "bad_response";

export class RegistryError extends Error {
  override name = "RegistryError";
  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
    /** For rate_limited: when the registry said to come back (ms since the epoch). */
    readonly retryAt?: number,
  ) {
    super(message);
  }
}
