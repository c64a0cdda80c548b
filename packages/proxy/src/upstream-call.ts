import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';

/** What an abort listener can be attached to: an AbortSignal or an EventEmitter with `aborted`. */
export type AbortSource =
  | AbortSignal
  | {
      readonly aborted: boolean;
      once(event: 'abort', listener: () => void): unknown;
      off(event: 'abort', listener: () => void): unknown;
    };

/** An upstream answer whose headers have arrived; its body is still being read. */
export interface UpstreamAnswer {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /**
   * The body, whole, once it has all arrived; rejects if it breaks off or is aborted.
   * Bytes past `limit` are read and dropped (for error answers, which are only classified).
   */
  body(limit?: number): Promise<Buffer>;
}

/** The request: undici's dispatch options for one POST. */
export interface UpstreamCallOptions {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer;
  headersTimeout: number;
  bodyTimeout: number;
}

function aborted(): Error {
  return Object.assign(new Error('the request was aborted'), { name: 'AbortError', code: 'UND_ERR_ABORTED' });
}

/**
 * One buffered upstream call on undici's dispatcher, without the Readable stream and the consume
 * machinery `request()` builds per call: the non-streaming hot path reads small JSON answers, and
 * those objects were a fifth of its cost. Streams still go through `request()`, which gives them
 * backpressure. Errors keep undici's codes (`UND_ERR_HEADERS_TIMEOUT`, `UND_ERR_SOCKET`, ...).
 * @param dispatcher the provider's agent
 * @param options where and what to send
 * @param signal aborts the call (the client left, or a plugin cut it)
 * @returns the answer once its headers have arrived
 */
export function callUpstream(
  dispatcher: Dispatcher,
  options: UpstreamCallOptions,
  signal: AbortSource | undefined,
): Promise<UpstreamAnswer> {
  return new Promise<UpstreamAnswer>((resolveHeaders, rejectHeaders) => {
    let controller: Dispatcher.DispatchController | undefined;
    let started = false;
    let settled = false;
    let failure: Error | undefined;
    let limit = Number.POSITIVE_INFINITY;
    let size = 0;
    const chunks: Buffer[] = [];
    let waiter: { resolve(body: Buffer): void; reject(error: Error): void } | undefined;
    let whole: Buffer | undefined;

    const onAbort = (): void => {
      const error = aborted();
      if (controller) controller.abort(error);
      else fail(error);
    };
    const detach = (): void => {
      if (!signal) return;
      if ('removeEventListener' in signal) signal.removeEventListener('abort', onAbort);
      else signal.off('abort', onAbort);
    };
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      failure = error;
      detach();
      if (!started) rejectHeaders(error);
      else waiter?.reject(error);
    };

    if (signal) {
      if (signal.aborted) {
        rejectHeaders(aborted());
        return;
      }
      if ('addEventListener' in signal) signal.addEventListener('abort', onAbort, { once: true });
      else signal.once('abort', onAbort);
    }

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(control) {
        controller = control;
        if (settled) control.abort(failure ?? aborted());
      },
      onResponseStart(_control, statusCode, headers) {
        started = true;
        resolveHeaders({
          statusCode,
          headers,
          body(max = Number.POSITIVE_INFINITY) {
            limit = max;
            if (whole) return Promise.resolve(whole.length > max ? whole.subarray(0, max) : whole);
            if (failure) return Promise.reject(failure);
            return new Promise<Buffer>((resolve, reject) => {
              waiter = { resolve, reject };
            });
          },
        });
      },
      onResponseData(_control, chunk) {
        size += chunk.length;
        if (size <= limit) chunks.push(chunk);
      },
      onResponseEnd() {
        if (settled) return;
        settled = true;
        detach();
        whole = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        waiter?.resolve(whole);
      },
      onResponseError(_control, error) {
        fail(error);
      },
    };
    dispatcher.dispatch(
      {
        origin: options.origin,
        path: options.path,
        method: 'POST',
        headers: options.headers,
        body: options.body,
        headersTimeout: options.headersTimeout,
        bodyTimeout: options.bodyTimeout,
      },
      handler,
    );
  });
}
