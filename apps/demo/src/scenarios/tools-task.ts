import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultDataset } from '@ballast/mock-hasura';
import type { RecordedRequest } from '@ballast/mock-provider';
import { createReminders, openBackend } from '@ballast/rem';
import { runAgent, type ToolRun } from '../agent.js';
import type { Scenario } from '../scenario.js';
import { MODELS } from '../stack.js';

const SESSION = 'demo-1-release';
const AGENT = 'release-bot';
const COMMIT_MESSAGE = 'Round gross prices half-up (VAT fix)';
const REMINDER_TITLE = 'Email the VIP customers about the VAT rounding fix';
const REMINDER_LIST = 'Follow-ups';

const SYSTEM = 'You are release-bot, a careful release assistant. Use the tools; never guess.';

function task(repoPath: string): string {
  return [
    `In the git repository at ${repoPath}: check its status, look at the unstaged diff, then stage`,
    `src/pricing.ts and commit it with the message "${COMMIT_MESSAGE}".`,
    'Then, from the shop database: list the VIP customers (name, email, country; vip is true, by name)',
    'and give the count and the sum of total of the orders whose status is delivered.',
    `Finally add a reminder "${REMINDER_TITLE}" to the list "${REMINDER_LIST}", due tomorrow 9am, high priority.`,
    'Answer in two sentences.',
  ].join(' ');
}

/** The mock model's last answer, written from the tool results it was sent. */
function finalAnswer(request: RecordedRequest): string {
  const messages = (request.body.messages ?? []) as Array<{ role: string; content?: unknown }>;
  const toolTexts = messages
    .filter((message) => message.role === 'tool')
    .map((message) => String(message.content));
  const hash = /hash ([0-9a-f]{7})/.exec(toolTexts.join('\n'))?.[1] ?? 'unknown';
  const vips = (() => {
    const text = toolTexts.find((candidate) => candidate.startsWith('[{"name"'));
    try {
      return (JSON.parse(text ?? '[]') as Array<{ name: string }>).map((row) => row.name);
    } catch {
      return [];
    }
  })();
  return `Committed the VAT rounding fix as ${hash}. VIP customers: ${vips.join(', ')}; I added a reminder to email them tomorrow at 9am.`;
}

function icsFilesUnder(folder: string): string[] {
  try {
    return readdirSync(folder, { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.ics'))
      .map((name) => join(folder, name));
  } catch {
    return [];
  }
}

/** Scenario 1: one agent task that uses mcp-git, graphql-client and rem for real. */
export const toolsScenario: Scenario = {
  number: 1,
  key: 'tools',
  title: 'Tools, for real',
  why: 'mcp-git (stdio MCP server), graphql-client (Hasura helpers) and rem (vdir) do the work the model asks for.',
  async run(context) {
    const { stack } = context;
    const { workspace } = stack;
    const repo = workspace.repoDir;
    const live = stack.live;
    const model = live ? (live.openai ? 'gpt-4o-mini' : 'claude-haiku-4-5') : MODELS.main;
    const headBefore = workspace.git('rev-parse', 'HEAD');
    if (!live) {
      stack.primary.reset();
      stack.primary.script(
        {
          kind: 'tool-calls',
          text: 'Looking at the repository first.',
          calls: [{ name: 'git_status', arguments: { repo_path: repo } }],
        },
        { kind: 'tool-calls', calls: [{ name: 'git_diff_unstaged', arguments: { repo_path: repo } }] },
        {
          kind: 'tool-calls',
          text: 'The diff is the rounding fix; committing it.',
          calls: [
            { name: 'git_add', arguments: { repo_path: repo, files: [workspace.changedFile] } },
            { name: 'git_commit', arguments: { repo_path: repo, message: COMMIT_MESSAGE } },
          ],
        },
        {
          kind: 'tool-calls',
          calls: [
            {
              name: 'hasura_select',
              arguments: {
                table: 'customers',
                columns: ['name', 'email', 'country'],
                where: { vip: true },
                order_by: { name: 'asc' },
              },
            },
            {
              name: 'hasura_aggregate',
              arguments: { table: 'orders', count: true, sum: ['total'], where: { status: 'delivered' } },
            },
          ],
        },
        {
          kind: 'tool-calls',
          calls: [
            {
              name: 'add_reminder',
              arguments: {
                title: REMINDER_TITLE,
                list: REMINDER_LIST,
                due: 'tomorrow 9am',
                priority: 'high',
              },
            },
          ],
        },
        (request) => ({ kind: 'text', text: finalAnswer(request) }),
      );
    } else {
      context.reporter.note(`live: ${model} decides the tool calls; the checks adapt to what it chose`);
    }

    const progress = context.agentProgress();
    const run = await runAgent({
      client: stack.openai(SESSION, AGENT),
      model,
      system: SYSTEM,
      task: task(repo),
      toolbox: stack.toolbox,
      tools: [
        'git_status',
        'git_diff_unstaged',
        'git_add',
        'git_commit',
        'hasura_select',
        'hasura_aggregate',
        'add_reminder',
      ],
      maxSteps: live ? 12 : 8,
      ...progress,
    });
    const refused = run.steps.at(-1)?.denial;
    if (refused) {
      // Nothing after this would mean anything: say why the model could not be reached.
      context.check('the model answered', false, `${refused.status} ${refused.code}: ${refused.message}`);
      return {
        outcome: `refused: ${refused.status} ${refused.code}`,
        calls: run.steps.length,
        sessions: [SESSION],
        usdSaved: 0,
      };
    }
    const runs: ToolRun[] = run.steps.flatMap((step) => step.tools);
    const lastOk = (name: string) => runs.filter((tool) => tool.name === name && tool.ok).at(-1);

    context.check(
      'the agent finished with an answer',
      run.stoppedBy === 'answer' && (run.finalText ?? '') !== '',
      run.stoppedBy,
    );
    if (!live) {
      context.check(
        'every call was served by the primary, no fallback',
        run.steps.every((step) => step.headers.provider === 'primary' && step.headers.fallbacks === 0),
        run.steps.map((step) => step.headers.provider).join(','),
      );
      context.check(
        'all 7 tool calls ran and succeeded',
        runs.length === 7 && runs.every((tool) => tool.ok),
        runs.map((tool) => `${tool.name}:${tool.ok}`).join(' '),
      );
    }

    // git: the commit is in the repository, made by mcp-git.
    const commit = lastOk('git_commit')?.data as { hash?: string } | undefined;
    const [headHash, subject] = workspace.git('log', '-1', '--format=%H%n%s').split('\n');
    const clean = workspace.git('status', '--porcelain') === '';
    context.check(
      'the commit exists in the temporary repository, working tree clean',
      headHash !== headBefore &&
        headHash === commit?.hash &&
        clean &&
        (live ? true : subject === COMMIT_MESSAGE),
      `HEAD ${headHash?.slice(0, 7)} "${subject}", clean=${clean}`,
    );

    // graphql-client: the results are the dataset's.
    const dataset = defaultDataset();
    const customers = dataset.rows.customers ?? [];
    const orders = dataset.rows.orders ?? [];
    const vipRows = lastOk('hasura_select')?.data as Array<Record<string, unknown>> | undefined;
    const aggregate = lastOk('hasura_aggregate')?.data as
      | { count?: number; sum?: { total?: number } }
      | undefined;
    const expectedVips = customers
      .filter((row) => row.vip === true)
      .map((row) => String(row.name))
      .sort();
    const delivered = orders.filter((row) => row.status === 'delivered');
    const deliveredSum = Math.round(delivered.reduce((sum, row) => sum + Number(row.total), 0) * 100) / 100;
    if (live) {
      context.check(
        'a filtered select and an aggregate answered',
        vipRows !== undefined && aggregate !== undefined,
      );
    } else {
      context.check(
        'the filtered select returned the dataset’s VIP customers',
        JSON.stringify(vipRows?.map((row) => row.name)) === JSON.stringify(expectedVips),
        JSON.stringify(vipRows?.map((row) => row.name)),
      );
      context.check(
        'the aggregate matches the dataset (count and sum of delivered orders)',
        aggregate?.count === delivered.length &&
          Math.abs(Number(aggregate?.sum?.total) - deliveredSum) < 0.005,
        JSON.stringify(aggregate),
      );
    }

    // rem: the reminder is a file in the vdir, and a fresh reader finds it.
    const files = icsFilesUnder(join(workspace.vdir, REMINDER_LIST)).filter((file) =>
      readFileSync(file, 'utf8').includes('SUMMARY:Email the VIP customers'),
    );
    const reader = createReminders({ backend: await openBackend({ kind: 'vdir', vdir: workspace.vdir }) });
    const found = await reader.search('VIP customers');
    await reader.close();
    context.check(
      'the reminder file exists in the vdir, and rem reads it back',
      (live || files.length === 1) && found.length >= 1,
      `${files.length} file(s), ${found.length} found`,
    );

    // The proxy's price of each call adds up to what the killswitch recorded.
    const headerUsd = run.steps.reduce((sum, step) => sum + (step.headers.costUsd ?? 0), 0);
    const ledger = (await stack.spend()).get(SESSION);
    context.check(
      'x-ballast-cost-usd of each call adds up to the killswitch’s ledger',
      ledger !== undefined && headerUsd > 0 && Math.abs(ledger.usd - headerUsd) < 1e-6,
      `headers $${headerUsd.toFixed(6)}, ledger $${ledger?.usd.toFixed(6)}`,
    );

    const hash = (headHash ?? '').slice(0, 7);
    return {
      outcome: `commit ${hash}; ${vipRows?.length ?? 0} VIPs; ${aggregate?.count ?? '?'} delivered; ${files.length} reminder`,
      calls: run.steps.length,
      sessions: [SESSION],
      usdSaved: 0,
    };
  },
};
