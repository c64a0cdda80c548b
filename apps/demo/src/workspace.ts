import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The demo's scratch space: a git repository and a reminders folder, deleted on exit. */
export interface Workspace {
  root: string;
  /** A small project with one unstaged fix and ten modules to read. */
  repoDir: string;
  /** rem's vdir (one folder per list of `.ics` files). */
  vdir: string;
  /** The file whose fix the agent commits. */
  changedFile: string;
  /** The modules the memory scenario reads, relative to the repository. */
  modules: string[];
  /** Runs git in the repository and returns its stdout, trimmed. */
  git(...args: string[]): string;
  remove(): void;
}

const MODULES = [
  'billing',
  'invoices',
  'ledger',
  'payments',
  'refunds',
  'shipping',
  'tax',
  'inventory',
  'catalog',
  'reports',
];

const PRICING_BEFORE = `// VAT and rounding for the shop.
export const VAT_RATE = 0.2;

/** The gross price of a net amount, in cents. */
export function gross(netCents: number): number {
  return Math.floor(netCents * (1 + VAT_RATE));
}
`;

const PRICING_AFTER = `// VAT and rounding for the shop.
export const VAT_RATE = 0.2;

/** The gross price of a net amount, in cents (half-up, as the tax office rounds). */
export function gross(netCents: number): number {
  return Math.round(netCents * (1 + VAT_RATE));
}
`;

/** A module of plausible code with distinct names, about 1,500 tokens, for the memory scenario. */
function moduleSource(name: string, index: number): string {
  const type = name.charAt(0).toUpperCase() + name.slice(1);
  const lines = [
    `// ${type}: the ${name} records of the shop's back office, their approval rules and the helpers nightly jobs call.`,
    name === 'refunds'
      ? '// RISK (REFUNDS-999): refunds go out before the chargeback is confirmed.'
      : `// Owner: team-${name}@example.com.`,
    `import { gross } from '../pricing.js';`,
    '',
    `export interface ${type}Record {`,
    '  id: number;',
    '  customerId: number;',
    '  amountCents: number;',
    `  status: '${name}-open' | '${name}-closed' | '${name}-disputed';`,
    '  createdAt: string;',
    '}',
    '',
  ];
  for (let step = 0; step < 12; step += 1) {
    const threshold = (index + 1) * 1000 + step * 37;
    lines.push(
      `/** ${type} rule ${step}: records above ${threshold} cents need a second approval (ticket ${name.toUpperCase()}-${100 + step}). */`,
      `export function ${name}Rule${step}(record: ${type}Record): boolean {`,
      `  if (record.status === '${name}-disputed') return false;`,
      `  const total = gross(record.amountCents) + ${step * 5};`,
      `  // TODO(${name}): check the currency before comparing; see ${name.toUpperCase()}-${200 + step}.`,
      `  return total > ${threshold} && record.customerId % ${step + 2} !== 0;`,
      '}',
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Creates the scratch space: a git repository (main, two commits' worth of history, an unstaged
 * fix in src/pricing.ts) and an empty vdir.
 * @returns the workspace; call remove() to delete it
 * @throws Error when git is not installed
 */
export function createWorkspace(): Workspace {
  const root = mkdtempSync(join(tmpdir(), 'ballast-demo-'));
  const repoDir = join(root, 'shop');
  const vdir = join(root, 'reminders');
  mkdirSync(repoDir);
  mkdirSync(vdir);
  const git = (...args: string[]): string =>
    execFileSync('git', args, {
      cwd: repoDir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' },
    }).trim();
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(repoDir, path)), { recursive: true });
    writeFileSync(join(repoDir, path), text);
  };
  try {
    git('init', '--quiet', '--initial-branch=main');
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`the demo needs git on PATH: ${String(error)}`, { cause: error });
  }
  git('config', 'user.name', 'Ballast Demo');
  git('config', 'user.email', 'demo@ballast.invalid');
  git('config', 'commit.gpgsign', 'false');
  write('README.md', '# shop\n\nThe back office of a small shop.\n');
  write('src/pricing.ts', PRICING_BEFORE);
  git('add', '.');
  git('commit', '--quiet', '-m', 'Start the shop');
  const modules = MODULES.map((name) => `src/${name}.ts`);
  for (const [index, name] of MODULES.entries()) write(`src/${name}.ts`, moduleSource(name, index));
  git('add', '.');
  git('commit', '--quiet', '-m', 'Add the back-office modules');
  write('src/pricing.ts', PRICING_AFTER);
  return {
    root,
    repoDir,
    vdir,
    changedFile: 'src/pricing.ts',
    modules,
    git,
    remove() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
