const marker = Symbol.for('ballast.error');

/** Options accepted by {@link BallastError}. */
export interface BallastErrorOptions {
  /** The lower-level error that caused this one. */
  cause?: unknown;
  /** Whether the same operation may succeed if tried again (transport errors, timeouts). @default false */
  isRetryable?: boolean;
  /** HTTP status this error maps to when it crosses the wire. */
  status?: number;
  /** Structured details safe to show a user (never secrets). */
  details?: Record<string, unknown>;
}

/**
 * The base error of every Ballast package.
 *
 * `code` is stable and prefixed by package (`CORE_UNKNOWN_MODEL`, `PROXY_UPSTREAM_TIMEOUT`).
 * Use {@link BallastError.isInstance} rather than `instanceof`: two copies of core in one
 * process (a common result of nested installs) would each have their own class.
 *
 * @example
 * ```ts
 * try { costOf('no-such-model', usage) } catch (error) {
 *   if (BallastError.isInstance(error) && error.code === 'CORE_UNKNOWN_MODEL') { ... }
 * }
 * ```
 */
export class BallastError extends Error {
  /** Stable, package-prefixed error code. */
  readonly code: string;
  /** Whether retrying the same operation may succeed. */
  readonly isRetryable: boolean;
  /** HTTP status this error maps to, when it has one. */
  readonly status: number | undefined;
  /** Structured details safe to show a user. */
  readonly details: Record<string, unknown> | undefined;

  /**
   * @param code stable package-prefixed code
   * @param message a sentence that names what was wrong and what was expected
   * @param options cause, retryability, status and details
   */
  constructor(code: string, message: string, options: BallastErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BallastError';
    this.code = code;
    this.isRetryable = options.isRetryable ?? false;
    this.status = options.status;
    this.details = options.details;
    // A runtime marker only: typing it would make two copies of core's BallastError incompatible.
    Object.defineProperty(this, marker, { value: true });
  }

  /**
   * Whether `value` is a BallastError from any copy of `@ballast/core`.
   * @param value anything caught
   * @returns true when the value carries the `Symbol.for('ballast.error')` marker
   */
  static isInstance(value: unknown): value is BallastError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }

  /**
   * Normalises anything thrown into a BallastError, keeping the original as `cause`.
   * @param value the caught value
   * @param code the code to use when `value` is not already a BallastError
   * @returns `value` itself when it is a BallastError, else a wrapping one
   */
  static from(value: unknown, code = 'CORE_UNKNOWN_ERROR'): BallastError {
    if (BallastError.isInstance(value)) return value;
    const message = value instanceof Error ? value.message : String(value);
    return new BallastError(code, message, { cause: value });
  }
}
