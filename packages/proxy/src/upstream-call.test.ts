import { EventEmitter } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUpstream } from './upstream-call.js';

class Gone extends EventEmitter {
  aborted = false;
  abort(): void {
    this.aborted = true;
    this.emit('abort');
  }
}

let server: Server;
let origin: string;
const agent = new Agent();
const hanging: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      if (request.url === '/echo') {
        response.writeHead(200, { 'content-type': 'application/json', 'x-seen': String(body.length) });
        response.end(JSON.stringify({ got: body }));
      } else if (request.url === '/chunks') {
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.write('a'.repeat(1000));
        setTimeout(() => response.end('b'.repeat(1000)), 5);
      } else if (request.url === '/head-then-hang') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"partial":');
        hanging.push(response);
      } else hanging.push(response);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const response of hanging) response.destroy();
  await agent.close();
  await new Promise<void>((done) => server.close(() => done()));
});

const call = (path: string, signal?: Gone | AbortSignal, headersTimeout = 5000) =>
  callUpstream(
    agent,
    {
      origin,
      path,
      headers: { 'content-type': 'application/json' },
      body: '{"x":1}',
      headersTimeout,
      bodyTimeout: 5000,
    },
    signal,
  );

describe('callUpstream', () => {
  it('sends the body and reads the whole answer with its status and headers', async () => {
    const answer = await call('/echo');
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['x-seen']).toBe('7');
    expect(JSON.parse((await answer.body()).toString('utf8'))).toEqual({ got: '{"x":1}' });
  });

  it('keeps at most the limit of an answer it only needs to classify', async () => {
    const answer = await call('/chunks');
    expect(answer.statusCode).toBe(500);
    const body = await answer.body(1500);
    expect(body.length).toBeLessThanOrEqual(1500);
    expect(body.subarray(0, 1000).toString('utf8')).toBe('a'.repeat(1000));
  });

  it('rejects with undici headers-timeout code when no answer comes', async () => {
    await expect(call('/hang', undefined, 100)).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
  });

  it('aborts before the headers when an EventEmitter signal fires', async () => {
    const gone = new Gone();
    const pending = call('/hang', gone);
    setTimeout(() => gone.abort(), 20);
    await expect(pending).rejects.toMatchObject({ code: 'UND_ERR_ABORTED' });
    expect(gone.listenerCount('abort')).toBe(0);
  });

  it('fails the body, not the headers, when an AbortSignal fires mid-answer', async () => {
    const controller = new AbortController();
    const answer = await call('/head-then-hang', controller.signal);
    expect(answer.statusCode).toBe(200);
    const body = answer.body();
    controller.abort();
    await expect(body).rejects.toMatchObject({ code: 'UND_ERR_ABORTED' });
  });

  it('does not start a call whose signal already fired', async () => {
    const gone = new Gone();
    gone.abort();
    await expect(call('/echo', gone)).rejects.toMatchObject({ code: 'UND_ERR_ABORTED' });
  });
});
