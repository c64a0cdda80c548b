import diagnosticsChannel from 'node:diagnostics_channel';

/** Publishes `ballast:<package>:<event>` diagnostics_channel events. */
export interface Diagnostics {
  /** The channel for one event name (`request-start`, `stream-delta`, `request-end`). */
  channel(event: string): diagnosticsChannel.Channel;
  /**
   * Publishes a message when someone listens. `message` may be a function so that building
   * the payload costs nothing when nobody does.
   */
  publish(event: string, message: object | (() => object)): void;
}

/**
 * Creates the diagnostics publisher of one package.
 * @param packageName short package name, e.g. `proxy`
 * @returns a {@link Diagnostics} whose channels are named `ballast:<packageName>:<event>`
 * @example
 * ```ts
 * const diagnostics = createDiagnostics('proxy');
 * diagnostics.publish('request-start', () => ({ requestId, model }));
 * // elsewhere: diagnosticsChannel.subscribe('ballast:proxy:request-start', console.log)
 * ```
 */
export function createDiagnostics(packageName: string): Diagnostics {
  const channels = new Map<string, diagnosticsChannel.Channel>();
  const channel = (event: string): diagnosticsChannel.Channel => {
    let found = channels.get(event);
    if (!found) {
      found = diagnosticsChannel.channel(`ballast:${packageName}:${event}`);
      channels.set(event, found);
    }
    return found;
  };
  return {
    channel,
    publish(event, message) {
      const target = channel(event);
      if (!target.hasSubscribers) return;
      target.publish(typeof message === 'function' ? message() : message);
    },
  };
}
