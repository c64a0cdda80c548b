/**
 * The killswitch benchmark, in one run (`pnpm --filter @ballast/killswitch bench`):
 *   1. overshoot and admitted/affordable for 1,000 concurrent calls against one session budget, per store;
 *   2. kill-to-stream-end latency over 50 kills;
 *   3. added latency of the plugin (memory store) over the bare proxy at concurrency 1;
 *   4. throughput with the Redis store as a share of the bare proxy's, at concurrency 50.
 * Everything runs on loopback against the mock provider; Redis from REDIS_URL (skipped if unset).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createMockProvider, type MockProvider } from '@ballast/mock-provider';
import { type BallastProxy, createProxy, parseConfig } from '@ballast/proxy';
import { Agent, request } from 'undici';
import { adminToken, packageDir } from '../src/support.js';

const dispatcher = new Agent({ connections: 128, keepAliveTimeout: 30_000 });
const pricing = { 'mock-model': { input: 1, output: 2, maxOutputTokens: 1000 } };

async function proxyWith(
  provider: MockProvider,
  killswitch: Record<string, unknown> | undefined,
): Promise<{ proxy: BallastProxy; url: string }> {
  const config = parseConfig(
    {
      server: { port: 0, adminToken },
      pricing,
      providers: [{ name: 'mock', type: 'openai', baseUrl: provider.openaiBaseUrl }],
      routes: [{ match: '*', targets: [{ provider: 'mock' }] }],
      plugins: killswitch ? [{ use: '@ballast/killswitch', options: killswitch }] : [],
    },
    packageDir,
  );
  const proxy = await createProxy(config);
  return { proxy, url: await proxy.listen() };
}

let sequence = 0;

/** Eight pseudo-words spelled from the number in letters only (loop detection ignores digits). */
function question(seed: number): string {
  const words: string[] = [];
  let state = (seed * 0x9e3779b1) | 0 || 1;
  for (let index = 0; index < 8; index += 1) {
    // xorshift32: exact in 32-bit integers, so no two seeds collide by rounding.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    let word = '';
    for (let value = state >>> 0; word.length < 6; value = Math.floor(value / 26))
      word += String.fromCharCode(97 + (value % 26));
    words.push(word);
  }
  return `Please explain ${words.join(' ')}.`;
}
async function call(url: string, session: string, stream = false): Promise<number> {
  sequence += 1;
  const response = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/json', 'x-ballast-session': session },
    body: JSON.stringify({
      model: 'mock-model',
      max_tokens: 200,
      stream,
      // A different question each time, in different words: a benchmark is not a loop.
      messages: [{ role: 'user', content: question(sequence) }],
    }),
  });
  if (response.statusCode !== 200) lastError = await response.body.text();
  else await response.body.dump();
  return response.statusCode;
}
let lastError = '';

function percentile(values: number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? Number.NaN;
}

async function overshoot(
  provider: MockProvider,
  store: Record<string, unknown>,
): Promise<Record<string, string | number>> {
  const budgetUsd = 0.05;
  const { proxy, url } = await proxyWith(provider, {
    budgets: [{ scope: 'session', usd: budgetUsd }],
    loop: false,
    store,
  });
  const session = `burst-${store.type}-${Date.now()}`;
  const statuses = await Promise.all(Array.from({ length: 1000 }, () => call(url, session)));
  const spend = (await (
    await fetch(`${url}/admin/spend?by=session`, { headers: { authorization: `Bearer ${adminToken}` } })
  ).json()) as { spend: Array<{ key: string; usd: number; calls: number }> };
  const row = spend.spend.find((item) => item.key === session);
  const admitted = statuses.filter((status) => status === 200).length;
  const perCall = (row?.usd ?? 0) / Math.max(1, row?.calls ?? 1);
  const affordable = Math.floor(budgetUsd / perCall);
  await proxy.close();
  return {
    store: String(store.type),
    admitted,
    denied: statuses.filter((status) => status === 402).length,
    'spent USD': (row?.usd ?? 0).toFixed(6),
    'overshoot USD': Math.max(0, (row?.usd ?? 0) - budgetUsd).toFixed(6),
    'admitted/affordable': (admitted / affordable).toFixed(3),
  };
}

async function killLatency(provider: MockProvider): Promise<number[]> {
  const { proxy, url } = await proxyWith(provider, { loop: false });
  provider.setDefaultReply({
    kind: 'text',
    text: Array.from({ length: 2000 }, (_, index) => `w${index}`).join(' '),
    chunkCount: 2000,
    chunkDelayMs: 5,
  });
  const latencies: number[] = [];
  // 5 warm-up kills (first admin connection, first cut path), then 50 measured.
  for (let index = -5; index < 50; index += 1) {
    const session = `kill-${index}`;
    const response = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json', 'x-ballast-session': session },
      body: JSON.stringify({
        model: 'mock-model',
        stream: true,
        messages: [{ role: 'user', content: `stream ${index}` }],
      }),
    });
    const ended = (async () => {
      for await (const _chunk of response.body) {
        // drain until the proxy closes the stream
      }
      return performance.now();
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const start = performance.now();
    await fetch(`${url}/admin/kill`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ session }),
    });
    const latency = (await ended) - start;
    if (index >= 0) latencies.push(latency);
  }
  await proxy.close();
  provider.setDefaultReply({ kind: 'text', text: 'ok', usage: { outputTokens: 200 } });
  return latencies;
}

async function expectOk(url: string, session: string): Promise<void> {
  const status = await call(url, session);
  if (status !== 200)
    throw new Error(
      `expected 200 from ${url}, got ${status} (${lastError}): the measurement would not be of admitted calls`,
    );
}

async function latencyAtOne(url: string, count: number): Promise<number[]> {
  for (let index = 0; index < 200; index += 1) await expectOk(url, 'warm');
  const samples: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const start = performance.now();
    await expectOk(url, 'steady');
    samples.push(performance.now() - start);
  }
  return samples;
}

async function throughput(url: string, concurrency: number, seconds: number): Promise<number> {
  let done = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline) {
        await expectOk(url, `tp-${worker}`);
        done += 1;
      }
    }),
  );
  return done / seconds;
}

async function main(): Promise<void> {
  const provider = await createMockProvider({
    logRequests: false,
    defaultReply: { kind: 'text', text: 'ok', usage: { outputTokens: 200 } },
  });
  const redisUrl = process.env.REDIS_URL;
  const folder = await mkdtemp(join(tmpdir(), 'ballast-ks-bench-'));

  console.log(`killswitch bench ${new Date().toISOString()} node ${process.version}`);
  const stores: Array<Record<string, unknown>> = [
    { type: 'memory' },
    { type: 'sqlite', path: join(folder, 'ks.db') },
  ];
  if (redisUrl) stores.push({ type: 'redis', url: redisUrl, keyPrefix: `ballast:bench:${Date.now()}:` });
  else console.log('REDIS_URL is not set: the Redis rows are skipped');
  const overshootRows = [];
  for (const store of stores) overshootRows.push(await overshoot(provider, store));
  console.log('\n1,000 concurrent calls against a $0.05 session budget');
  console.table(overshootRows);

  const kills = await killLatency(provider);
  console.log(
    `\nkill to stream end over ${kills.length} kills (after 5 warm-up kills): p50 ${percentile(kills, 0.5).toFixed(2)} ms, p99 ${percentile(kills, 0.99).toFixed(2)} ms, max ${Math.max(...kills).toFixed(2)} ms (goal p99 < 50 ms)`,
  );

  const bare = await proxyWith(provider, undefined);
  // Loop detection stays on, with a velocity limit a benchmark's thousands of calls per session do not trip.
  const benchLoop = { maxRequestsPerMinute: 1_000_000 };
  const guarded = await proxyWith(provider, { budgets: [{ scope: 'session', usd: 1e6 }], loop: benchLoop });
  // Interleave rounds so both see the same machine load.
  const bareSamples: number[] = [];
  const guardedSamples: number[] = [];
  for (let round = 0; round < 8; round += 1) {
    bareSamples.push(...(await latencyAtOne(bare.url, 500)));
    guardedSamples.push(...(await latencyAtOne(guarded.url, 500)));
  }
  const added = percentile(guardedSamples, 0.5) - percentile(bareSamples, 0.5);
  console.log(
    `\nc=1 latency p50: bare proxy ${percentile(bareSamples, 0.5).toFixed(3)} ms, with killswitch (memory) ${percentile(guardedSamples, 0.5).toFixed(3)} ms; added ${added.toFixed(3)} ms (goal < 0.2 ms)`,
  );
  await guarded.proxy.close();

  if (redisUrl) {
    const redisGuarded = await proxyWith(provider, {
      budgets: [
        { scope: 'session', usd: 1e6 },
        { scope: 'global', usd: 1e6 },
      ],
      loop: benchLoop,
      store: { type: 'redis', url: redisUrl, keyPrefix: `ballast:bench-tp:${Date.now()}:` },
    });
    await throughput(bare.url, 50, 1);
    await throughput(redisGuarded.url, 50, 1);
    // Interleaved rounds, so both see the same machine load.
    let bareTotal = 0;
    let redisTotal = 0;
    for (let round = 0; round < 4; round += 1) {
      bareTotal += await throughput(bare.url, 50, 2);
      redisTotal += await throughput(redisGuarded.url, 50, 2);
    }
    const bareRps = bareTotal / 4;
    const redisRps = redisTotal / 4;
    console.log(
      `\nc=50 throughput: bare proxy ${bareRps.toFixed(0)} req/s, with killswitch (Redis) ${redisRps.toFixed(0)} req/s: ${((redisRps / bareRps) * 100).toFixed(1)}% (goal >= 60%)`,
    );
    await redisGuarded.proxy.close();
  }
  await bare.proxy.close();
  await provider.close();
  await dispatcher.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
