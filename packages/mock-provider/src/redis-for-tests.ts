import { connect } from 'node:net';

/** Whether the Redis cases of a test file run, are skipped, or must fail. */
export interface RedisForTests {
  /** `REDIS_URL`, when set. */
  url: string | undefined;
  /** Why the Redis cases are skipped (Redis missing and not required); undefined when they run. */
  skip: string | undefined;
  /** Why every Redis case fails (CI requires Redis with `BALLAST_REQUIRE_REDIS=1` and it is missing). */
  failure: string | undefined;
  /** A describe-block label: `redis`, or `redis (skipped: why)`. */
  label: string;
  /**
   * Call first in each Redis case: throws when Redis is required but missing (so the case fails,
   * not skips), skips the case when Redis is merely missing.
   */
  need(context: { skip: (note?: string) => void }): void;
}

/** PINGs a Redis URL over a raw socket (no client library): undefined when it answers, else why not. */
function ping(url: string, timeoutMs: number): Promise<string | undefined> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.resolve(`REDIS_URL=${url} is not a URL`);
  }
  if (target.protocol !== 'redis:') return Promise.resolve(undefined); // rediss and others: trust the client
  return new Promise((resolve) => {
    const socket = connect({ host: target.hostname || '127.0.0.1', port: Number(target.port || 6379) });
    let answer = '';
    const done = (problem: string | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const timer = setTimeout(
      () => done(`REDIS_URL=${url} did not answer PING within ${timeoutMs} ms`),
      timeoutMs,
    );
    socket.on('error', (error) => done(`REDIS_URL=${url} did not answer PING (${error.message})`));
    socket.on('connect', () => {
      const password = decodeURIComponent(target.password);
      const user = decodeURIComponent(target.username);
      if (password) socket.write(user ? `AUTH ${user} ${password}\r\n` : `AUTH ${password}\r\n`);
      socket.write('PING\r\n');
    });
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
      if (answer.includes('+PONG')) done(undefined);
      else if (answer.includes('-'))
        done(`REDIS_URL=${url} refused PING: ${answer.trim().split('\r\n').pop()}`);
    });
  });
}

/**
 * Decides, once per test file, what its Redis cases do: with `REDIS_URL` set and answering they
 * run; without, they are skipped with a message saying how to run them, unless
 * `BALLAST_REQUIRE_REDIS=1` (set by `.ci/run`), where they fail instead.
 * @param env the environment to read @default process.env
 * @returns the decision and a per-case guard
 * @example
 * ```ts
 * const redis = await redisForTests();
 * describe(redis.label, () => { it('works', (context) => { redis.need(context); ... }); });
 * ```
 */
export async function redisForTests(env: NodeJS.ProcessEnv = process.env): Promise<RedisForTests> {
  const url = env.REDIS_URL === '' ? undefined : env.REDIS_URL;
  const required = env.BALLAST_REQUIRE_REDIS === '1';
  const problem =
    url === undefined
      ? 'REDIS_URL is not set: start Redis and set REDIS_URL=redis://127.0.0.1:6379 to run these'
      : await ping(url, 1000);
  const skip = required ? undefined : problem;
  const failure = required && problem !== undefined ? `BALLAST_REQUIRE_REDIS=1 but ${problem}` : undefined;
  return {
    url,
    skip,
    failure,
    label: skip === undefined ? 'redis' : `redis (skipped: ${skip})`,
    need(context) {
      if (failure !== undefined) throw new Error(failure);
      if (skip !== undefined) context.skip(skip);
    },
  };
}
