import { BallastError, type BallastErrorOptions } from '@ballast/core/errors';

/** Every code a {@link RemError} can carry. */
export type RemErrorCode =
  /** No reminder matches the id or prefix given. */
  | 'REM_NOT_FOUND'
  /** A prefix matches more than one reminder. */
  | 'REM_AMBIGUOUS_ID'
  /** A date or time could not be understood. */
  | 'REM_BAD_DATE'
  /** A list name that does not exist. */
  | 'REM_UNKNOWN_LIST'
  /** A list that already exists. */
  | 'REM_LIST_EXISTS'
  /** Any other invalid input: a field, a flag, a file. */
  | 'REM_INVALID_INPUT'
  /** The item changed underneath since it was read (ETag or file hash mismatch). */
  | 'REM_CONFLICT'
  /** The backend does not store this field or operation. */
  | 'REM_UNSUPPORTED'
  /** The backend cannot run here (EventKit off macOS, iCloud over CalDAV). */
  | 'REM_BACKEND_UNAVAILABLE'
  /** The backend failed (I/O, HTTP, helper process). */
  | 'REM_BACKEND_FAILED';

/**
 * The error every part of `@ballast/rem` throws. Its message names what was given and what
 * would work; `details` holds the same as data (`given`, `candidates`, `known`).
 */
export class RemError extends BallastError {
  declare readonly code: RemErrorCode;

  /**
   * @param code one of {@link RemErrorCode}
   * @param message what was wrong and what would work
   * @param options cause, retryability and details
   */
  constructor(code: RemErrorCode, message: string, options: BallastErrorOptions = {}) {
    super(code, message, options);
    this.name = 'RemError';
  }
}

/** Whether the error is a usage mistake (exit code 2) rather than a failure (exit code 1). */
export function isUsageError(error: unknown): boolean {
  if (!BallastError.isInstance(error)) return false;
  return (
    error.code === 'REM_BAD_DATE' || error.code === 'REM_INVALID_INPUT' || error.code === 'REM_UNSUPPORTED'
  );
}
