/** The levels a {@link Logger} writes at. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A structured logger; pino's and most others' shape. Library code logs only through this. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /**
   * Whether a level would be written. Optional: hosts call it to skip building the fields of a
   * line nobody reads (a request log on every call, for instance); absent means yes.
   */
  isLevelEnabled?(level: LogLevel): boolean;
  /** A logger that adds `fields` to every line. */
  child?(fields: Record<string, unknown>): Logger;
}

const noop = (): void => {};

/** The default logger of every package: it says nothing. */
export const silentLogger: Logger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  isLevelEnabled: () => false,
  child: () => silentLogger,
});

/**
 * Adapts a pino-style logger (`logger.info(fields, message)`) to {@link Logger}.
 * @param target an object with pino's `(fields, message)` methods
 * @returns a Logger that forwards to it
 */
export function fromPinoLogger(target: {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  isLevelEnabled?(level: string): boolean;
}): Logger {
  const levelEnabled = target.isLevelEnabled?.bind(target);
  return {
    ...(levelEnabled ? { isLevelEnabled: (level: LogLevel) => levelEnabled(level) } : {}),
    debug: (message, fields = {}) => target.debug(fields, message),
    info: (message, fields = {}) => target.info(fields, message),
    warn: (message, fields = {}) => target.warn(fields, message),
    error: (message, fields = {}) => target.error(fields, message),
  };
}
