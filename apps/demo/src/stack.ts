import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPricing, type ModelPrice, type Pricing } from '@ballast/core';
import { defaultDataset, type MockHasura, startMockHasura } from '@ballast/mock-hasura';
import { createMockProvider, type MockProvider } from '@ballast/mock-provider';
import OpenAI from 'openai';
import { stringify } from 'yaml';
import { binOf, demoPackageDir } from './paths.js';
import { createToolbox, type Toolbox } from './tools.js';
import { createWorkspace, type Workspace } from './workspace.js';

/** The models the mock providers serve, by role. */
export const MODELS = {
  /** The primary provider's main model (scenarios 1, 3, 4, 5). */
  main: 'mock-gpt',
  /** The model of the quota scenario, so its quota block does not touch the others. */
  small: 'mock-gpt-mini',
  /** What the secondary (an Anthropic-dialect provider) serves when the primary cannot. */
  secondary: 'mock-claude',
  /** The burst's model: one target only, so a call's price is known before it is sent. */
  batch: 'mock-batch',
} as const;

/** USD per million tokens of the mock models, merged over core's table by the proxy. */
export const DEMO_PRICING: Record<string, Partial<ModelPrice>> = {
  [MODELS.main]: { input: 2.5, output: 10, maxOutputTokens: 4096 },
  [MODELS.small]: { input: 0.15, output: 0.6, maxOutputTokens: 4096 },
  [MODELS.secondary]: { input: 3, output: 15, maxOutputTokens: 4096 },
  [MODELS.batch]: { input: 1, output: 4, maxOutputTokens: 1024 },
};

/** The session budget every session gets from the proxy config. */
export const SESSION_BUDGET_USD = 1;

/** The real providers `--live` adds, when their keys are set. */
export interface LiveProviders {
  openai: boolean;
  anthropic: boolean;
}

/** Things to undo, last first; each runs once, and a failing one does not stop the others. */
export interface Cleanup {
  add(task: () => void | Promise<void>): void;
  run(): Promise<void>;
  /** Child processes to kill synchronously if the process exits without `run()`. */
  children: Set<ChildProcess>;
}

/**
 * Creates an empty cleanup list.
 * @returns the list
 */
export function createCleanup(): Cleanup {
  const tasks: Array<() => void | Promise<void>> = [];
  const children = new Set<ChildProcess>();
  return {
    children,
    add(task) {
      tasks.push(task);
    },
    async run() {
      while (tasks.length > 0) {
        const task = tasks.pop() as () => void | Promise<void>;
        try {
          await task();
        } catch {
          // Cleanup goes on: a resource that is already gone is not a failure.
        }
      }
    },
  };
}

/** One row of the killswitch's ledger, grouped by session. */
export interface SpendRow {
  key: string;
  usd: number;
  calls: number;
  inputTokens: number;
  outputTokens: number;
}

/** Everything the scenarios run against. */
export interface Stack {
  workspace: Workspace;
  primary: MockProvider;
  secondary: MockProvider;
  hasura: MockHasura;
  toolbox: Toolbox;
  pricing: Pricing;
  proxyUrl: string;
  adminToken: string;
  configPath: string;
  dashboardUrl: string;
  live: LiveProviders | undefined;
  /** An openai client whose calls carry this session and agent name. */
  openai(session: string, agent: string, headers?: Record<string, string>): OpenAI;
  /** The proxy's admin API, with the admin token. */
  admin(path: string, body?: unknown): Promise<Response>;
  /** The killswitch's ledger by session. */
  spend(): Promise<Map<string, SpendRow>>;
}

/** Options of {@link startStack}. */
export interface StackOptions {
  live?: LiveProviders;
  /** Progress of the start-up steps. */
  onStep?: (label: string, durationMs: number) => void;
}

const HASURA_SECRET = 'demo-hasura-secret';

/**
 * The proxy config the demo writes: the two mock providers (the secondary speaks the Anthropic
 * dialect), routes with fallback, the killswitch and memory plugins, and real providers when
 * `--live` found their keys. Secrets stay in the environment (`${VAR}`), never in the file.
 * @param options the mock providers' URLs and the live providers
 * @returns the config as an object, ready for YAML
 */
export function proxyConfig(options: {
  primaryUrl: string;
  secondaryUrl: string;
  live: LiveProviders | undefined;
}): Record<string, unknown> {
  const live = options.live;
  const providers: Array<Record<string, unknown>> = [
    { name: 'primary', type: 'openai', baseUrl: options.primaryUrl, apiKey: 'mock-primary-key' },
    { name: 'secondary', type: 'anthropic', baseUrl: options.secondaryUrl, apiKey: 'mock-secondary-key' },
  ];
  const routes: Array<Record<string, unknown>> = [];
  if (live?.openai) {
    providers.push({
      name: 'openai',
      type: 'openai',
      baseUrl: 'https://api.openai.com/v1',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the proxy reads ${VAR} from its environment
      apiKey: '${OPENAI_API_KEY}',
    });
  }
  if (live?.anthropic) {
    providers.push({
      name: 'anthropic',
      type: 'anthropic',
      baseUrl: 'https://api.anthropic.com',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the proxy reads ${VAR} from its environment
      apiKey: '${ANTHROPIC_API_KEY}',
    });
  }
  if (live?.openai) {
    routes.push({
      match: 'gpt-*',
      targets: [
        { provider: 'openai' },
        ...(live.anthropic ? [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] : []),
      ],
    });
  }
  if (live?.anthropic) {
    routes.push({
      match: 'claude-*',
      targets: [
        { provider: 'anthropic' },
        ...(live.openai ? [{ provider: 'openai', model: 'gpt-4o-mini' }] : []),
      ],
    });
  }
  routes.push(
    { match: MODELS.batch, targets: [{ provider: 'primary' }] },
    {
      match: 'mock-gpt*',
      targets: [{ provider: 'primary' }, { provider: 'secondary', model: MODELS.secondary }],
    },
  );
  return {
    server: {
      host: '127.0.0.1',
      port: 0,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the proxy reads ${VAR} from its environment
      adminToken: '${BALLAST_DEMO_ADMIN_TOKEN}',
      shutdownGraceMs: 1000,
    },
    pricing: DEMO_PRICING,
    providers,
    routes,
    plugins: [
      {
        use: '@ballast/killswitch',
        options: {
          budgets: [
            { scope: 'session', usd: SESSION_BUDGET_USD },
            { scope: 'global', usd: 25, window: 'day' },
          ],
          // The third identical failing step trips; the burst of 200 must not look like velocity.
          loop: { repeats: 3, windowSeconds: 60, maxRequestsPerMinute: 1000 },
        },
      },
      // Off by default; sessions turn it on with `x-ballast-memory: on`.
      { use: '@ballast/memory', options: { budgetTokens: 2000 } },
    ],
  };
}

/** Starts the proxy bin and resolves with its URL once it prints its `listening on` line. */
async function startProxy(
  configPath: string,
  adminToken: string,
  cleanup: Cleanup,
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [binOf('@ballast/proxy', 'ballast-proxy'), '--config', configPath, '--log-level', 'warn'],
    {
      // Plugins named by package resolve from the config's folder, then the working directory.
      cwd: demoPackageDir,
      env: { ...process.env, BALLAST_DEMO_ADMIN_TOKEN: adminToken },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  cleanup.children.add(child);
  cleanup.add(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    cleanup.children.delete(child);
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(
      () => reject(new Error(`ballast-proxy did not start within 20 s:\n${stderr}`)),
      20_000,
    );
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      stdout += chunk;
      const match = /ballast-proxy listening on (http:\/\/\S+)/.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`ballast-proxy exited (${signal ?? code}) before listening:\n${stderr.trim()}`));
    });
  });
  return { url, child };
}

/**
 * Like `Promise.all`, but waits for every part before rejecting, so that a part still starting
 * when another fails has registered its cleanup by the time the caller cleans up.
 */
async function settleAll<T extends readonly unknown[]>(
  parts: readonly [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<T> {
  const settled = await Promise.allSettled(parts);
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

async function timed<T>(
  label: string,
  work: () => Promise<T>,
  onStep: StackOptions['onStep'],
  describe?: (value: T) => string,
): Promise<T> {
  const started = performance.now();
  const value = await work();
  onStep?.(describe ? `${label}: ${describe(value)}` : label, performance.now() - started);
  return value;
}

/**
 * Starts everything the scenarios need, registering each part with `cleanup` as soon as it
 * exists: the scratch workspace, two mock providers, a Hasura-shaped GraphQL server, the
 * ballast-proxy bin with the killswitch and memory plugins, and the tools (mcp-git on stdio).
 * @param cleanup where each part's shutdown goes
 * @param options live providers, progress
 * @returns the running stack
 * @throws Error when a part cannot start (the parts already started are in `cleanup`)
 */
export async function startStack(cleanup: Cleanup, options: StackOptions = {}): Promise<Stack> {
  const { onStep } = options;
  const workspace = await timed(
    'scratch space (git repository, reminders vdir)',
    async () => createWorkspace(),
    onStep,
    (created) => created.root,
  );
  cleanup.add(() => workspace.remove());
  const [primary, secondary, hasura] = await timed(
    'mock providers (primary: OpenAI, secondary: Anthropic dialect), mock Hasura',
    () =>
      settleAll([
        createMockProvider({ name: 'primary' }).then((provider) => {
          cleanup.add(() => provider.close());
          return provider;
        }),
        createMockProvider({ name: 'secondary' }).then((provider) => {
          cleanup.add(() => provider.close());
          return provider;
        }),
        startMockHasura({ ...defaultDataset(), adminSecret: HASURA_SECRET }).then((server) => {
          cleanup.add(() => server.close());
          return server;
        }),
      ]),
    onStep,
  );
  const adminToken = randomBytes(16).toString('hex');
  const configPath = join(workspace.root, 'ballast.yaml');
  writeFileSync(
    configPath,
    `# Written by the Ballast demo.\n${stringify(
      proxyConfig({
        primaryUrl: primary.openaiBaseUrl,
        secondaryUrl: secondary.anthropicBaseUrl,
        live: options.live,
      }),
    )}`,
  );
  const [proxy, toolbox] = await settleAll([
    timed(
      'ballast-proxy (plugins: killswitch, memory)',
      () => startProxy(configPath, adminToken, cleanup),
      onStep,
      (started) => started.url,
    ),
    timed(
      'tools: mcp-git on stdio, graphql-client (introspected), rem (vdir)',
      () =>
        createToolbox({
          repoDir: workspace.repoDir,
          graphqlUrl: hasura.url,
          graphqlHeaders: { 'x-hasura-admin-secret': HASURA_SECRET, 'x-hasura-role': 'analyst' },
          vdir: workspace.vdir,
        }).then((created) => {
          cleanup.add(() => created.close());
          return created;
        }),
      onStep,
    ),
  ]);
  const proxyUrl = proxy.url;
  const admin = (path: string, body?: unknown): Promise<Response> =>
    fetch(`${proxyUrl}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  return {
    workspace,
    primary,
    secondary,
    hasura,
    toolbox,
    pricing: createPricing(DEMO_PRICING),
    proxyUrl,
    adminToken,
    configPath,
    dashboardUrl: `${proxyUrl}/dashboard?token=${adminToken}`,
    live: options.live,
    openai(session, agent, headers = {}) {
      return new OpenAI({
        apiKey: 'ballast-demo-local',
        baseURL: `${proxyUrl}/v1`,
        maxRetries: 0,
        timeout: 30_000,
        defaultHeaders: { 'x-ballast-session': session, 'x-ballast-agent': agent, ...headers },
      });
    },
    admin,
    async spend() {
      const response = await admin('/admin/spend?by=session');
      if (!response.ok) throw new Error(`GET /admin/spend answered ${response.status}`);
      const body = (await response.json()) as { spend: SpendRow[] };
      return new Map(body.spend.map((row) => [row.key, row]));
    },
  };
}
