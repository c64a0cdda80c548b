#!/usr/bin/env node
import { Command } from 'commander';

interface Global {
  url: string;
  token?: string;
  json?: boolean;
}

async function call(global: Global, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const token = global.token ?? process.env.BALLAST_ADMIN_TOKEN;
  if (!token)
    throw new Error(
      "an admin token is needed: pass --token or set BALLAST_ADMIN_TOKEN (the proxy's server.adminToken)",
    );
  let response: Response;
  try {
    response = await fetch(new URL(path, global.url), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    throw new Error(`cannot reach the proxy at ${global.url}: ${(error as Error).message}`);
  }
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

function targetFrom(options: {
  session?: string;
  agent?: string;
  key?: string;
  all?: boolean;
}): Record<string, unknown> {
  const chosen = [
    options.session && { session: options.session },
    options.agent && { agent: options.agent },
    options.key && { key: options.key },
    options.all && { all: true },
  ].filter(Boolean);
  if (chosen.length !== 1)
    throw new UsageError('give exactly one of --session ID, --agent NAME, --key ID, --all');
  return chosen[0] as Record<string, unknown>;
}

class UsageError extends Error {}

function print(global: Global, value: unknown, table: () => void): void {
  if (global.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else table();
}

async function main(): Promise<void> {
  const program = new Command()
    .name('ballast-killswitch')
    .description('Operate the killswitch of a running ballast-proxy: kill, revive, and see spend.')
    .option('--url <url>', 'the proxy', process.env.BALLAST_PROXY_URL ?? 'http://127.0.0.1:8787')
    .option('--token <token>', 'admin token (default: $BALLAST_ADMIN_TOKEN)')
    .option('--json', 'print JSON')
    .showHelpAfterError();
  const targetOptions = (command: Command) =>
    command
      .option('--session <id>', 'a session (x-ballast-session)')
      .option('--agent <name>', 'an agent (x-ballast-agent)')
      .option('--key <id>', 'a client key name')
      .option('--all', 'everything');
  targetOptions(
    program
      .command('kill')
      .description('cut in-flight calls and deny new ones until revived')
      .option('--reason <text>', 'why'),
  ).action(async (options) => {
    const result = await call(program.opts<Global>(), 'POST', '/admin/kill', {
      ...targetFrom(options),
      ...(options.reason ? { reason: options.reason } : {}),
    });
    print(program.opts<Global>(), result, () =>
      process.stdout.write(`killed ${JSON.stringify((result as { killed: unknown }).killed)}\n`),
    );
  });
  targetOptions(program.command('revive').description('allow calls again')).action(async (options) => {
    const result = await call(program.opts<Global>(), 'POST', '/admin/revive', targetFrom(options));
    print(program.opts<Global>(), result, () =>
      process.stdout.write(`revived ${JSON.stringify((result as { revived: unknown }).revived)}\n`),
    );
  });
  program
    .command('status')
    .description('kills in force and session totals')
    .action(async () => {
      const result = (await call(program.opts<Global>(), 'GET', '/admin/sessions')) as {
        sessions: Array<{ spendUsd: number; steps: number; inFlight: number }>;
        kills: Array<{ scope: string; id: string; reason?: string }>;
      };
      print(program.opts<Global>(), result, () => {
        const spend = result.sessions.reduce((sum, session) => sum + session.spendUsd, 0);
        const inFlight = result.sessions.reduce((sum, session) => sum + session.inFlight, 0);
        process.stdout.write(
          `sessions ${result.sessions.length}, in flight ${inFlight}, spend $${spend.toFixed(6)}\n`,
        );
        process.stdout.write(
          result.kills.length === 0
            ? 'no kills in force\n'
            : `kills: ${result.kills.map((kill) => `${kill.scope}:${kill.id}${kill.reason ? ` (${kill.reason})` : ''}`).join(', ')}\n`,
        );
      });
    });
  program
    .command('sessions')
    .description('every session: spend, steps, last decision')
    .action(async () => {
      const result = (await call(program.opts<Global>(), 'GET', '/admin/sessions')) as {
        sessions: Array<Record<string, unknown>>;
      };
      print(program.opts<Global>(), result, () => console.table(result.sessions));
    });
  program
    .command('spend')
    .description('spend from the ledger')
    .option('--by <group>', 'session | agent | key | model', 'session')
    .action(async (options: { by: string }) => {
      const result = (await call(
        program.opts<Global>(),
        'GET',
        `/admin/spend?by=${encodeURIComponent(options.by)}`,
      )) as { spend: Array<Record<string, unknown>> };
      print(program.opts<Global>(), result, () => console.table(result.spend));
    });
  await program.parseAsync();
}

main().catch((error: unknown) => {
  process.stderr.write(`ballast-killswitch: ${(error as Error).message}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
