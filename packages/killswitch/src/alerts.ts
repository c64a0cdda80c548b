import type { Logger } from '@ballast/core';
import type { AlertConfig } from './options.js';

/** Sends an alert; never throws and never waits: alerts are off the request path. */
export type Alerter = (event: Record<string, unknown>) => void;

/**
 * Creates the alert sender: a POST of `{ ...event, at }` as JSON to the webhook, retried with
 * backoff (250 ms, 500 ms, ...) up to `attempts` times, in the background.
 * @param config the webhook, or undefined for no alerts
 * @param logger where failures are logged
 * @param send the fetch to use @default globalThis.fetch
 * @returns the sender
 */
export function createAlerter(
  config: AlertConfig | undefined,
  logger: Logger,
  send: typeof fetch = fetch,
): Alerter {
  if (!config) return () => {};
  const deliver = async (body: string): Promise<void> => {
    for (let attempt = 1; attempt <= config.attempts; attempt += 1) {
      try {
        const response = await send(config.webhook, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(config.timeoutMs),
        });
        if (response.ok) return;
        logger.warn('alert webhook answered an error', { status: response.status, attempt });
      } catch (error) {
        logger.warn('alert webhook failed', { error: String(error), attempt });
      }
      if (attempt < config.attempts)
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** (attempt - 1)).unref?.());
    }
    logger.error('alert dropped after retries', { attempts: config.attempts });
  };
  return (event) => {
    void deliver(JSON.stringify({ ...event, at: new Date().toISOString() }));
  };
}
