import { BallastError } from '@ballast/core';
import type { z } from 'zod';
import { type GitResult, type GitRunOptions, git, runGit } from './git.js';
import type { Repository, RepositoryGuard } from './guard.js';
import type { Memo } from './memo.js';

/** Permission tiers, from least to most dangerous. */
export type Tier = 'read' | 'write' | 'destructive' | 'network';

/** What the server allows (from the CLI flags). */
export interface Permissions {
  /** `--read-only`: no local writes either. */
  readOnly: boolean;
  /** `--allow-destructive`: reset --hard, branch -D, clean, force operations. */
  destructive: boolean;
  /** `--allow-network`: fetch, pull, push, clone. */
  network: boolean;
  /** `--allow-hooks`: run the repository's hooks on commit, merge and the like. */
  hooks: boolean;
}

/** What a tool's run function gets. */
export interface ToolContext {
  guard: RepositoryGuard;
  permissions: Permissions;
  signal: AbortSignal;
  /** Reports progress to the client when it asked for it (a no-op otherwise). */
  progress(message: string, progress: number, total?: number): Promise<void>;
  /** Byte cap of one git call's output. */
  maxBytes: number;
  /** Timeout of one git call. */
  timeoutMs: number;
  /** Answers kept between calls (answers about commits, status while nothing changed); undefined with `--no-cache`. */
  memo: Memo | undefined;
  /** Runs git in a repository with the server's limits, cancellation and hook setting; fails on non-zero exit. */
  git(repository: Repository, args: readonly string[], options?: Partial<GitRunOptions>): Promise<GitResult>;
  /** The same, returning non-zero exits instead of failing. */
  gitRaw(
    repository: Repository,
    args: readonly string[],
    options?: Partial<GitRunOptions>,
  ): Promise<GitResult>;
}

/** A tool's answer: the structured result and its text rendering for older clients. */
export interface ToolAnswer<Output> {
  structured: Output;
  text: string;
}

/** One tool: schemas, honest annotations, its tier, and what it does. */
export interface ToolDefinition<Input extends z.ZodRawShape, Output extends z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  tier: Tier;
  input: Input;
  output: Output;
  /** Whether calling it again with the same input changes nothing more. */
  idempotent: boolean;
  /** Whether it may destroy work (uncommitted changes, branches, untracked files). */
  destructive?: boolean;
  run(
    context: ToolContext,
    args: z.infer<z.ZodObject<Input>>,
  ): Promise<ToolAnswer<z.infer<z.ZodObject<Output>>>>;
}

/** Declares a tool with its types checked. */
export function defineTool<Input extends z.ZodRawShape, Output extends z.ZodRawShape>(
  definition: ToolDefinition<Input, Output>,
): ToolDefinition<Input, Output> {
  return definition;
}

// biome-ignore lint/suspicious/noExplicitAny: a list of tools of different shapes
export type AnyTool = ToolDefinition<any, any>;

/** The flag that unlocks a tier, for error messages. */
export function flagFor(tier: Tier): string {
  switch (tier) {
    case 'write':
      return 'drop --read-only';
    case 'destructive':
      return '--allow-destructive';
    case 'network':
      return '--allow-network (without --read-only)';
    default:
      return '';
  }
}

/**
 * Whether the permissions admit a tier.
 * @throws {BallastError} `MCP_GIT_NOT_PERMITTED` naming the flag that would allow it
 */
export function assertTier(name: string, tier: Tier, permissions: Permissions): void {
  const allowed =
    tier === 'read' ||
    (tier === 'write' && !permissions.readOnly) ||
    (tier === 'destructive' && permissions.destructive && !permissions.readOnly) ||
    // Network operations write local refs (fetch) or files (pull, clone): never on a read-only server.
    (tier === 'network' && permissions.network && !permissions.readOnly);
  if (!allowed) {
    throw new BallastError(
      'MCP_GIT_NOT_PERMITTED',
      `${name} is a ${tier === 'write' ? 'local write' : tier} operation, which this server does not allow: start it with ${flagFor(tier)}`,
    );
  }
}

/** Makes the context's git runners. */
export function gitRunners(
  options: Pick<ToolContext, 'maxBytes' | 'timeoutMs' | 'signal'> & { hooks: boolean },
): Pick<ToolContext, 'git' | 'gitRaw'> {
  const build = (
    repository: Repository,
    args: readonly string[],
    extra: Partial<GitRunOptions> = {},
  ): GitRunOptions => ({
    cwd: repository.root,
    args,
    maxBytes: options.maxBytes,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    allowHooks: options.hooks,
    config: repository.neutralised,
    ...extra,
  });
  return {
    git: (repository, args, extra) => git(build(repository, args, extra)),
    gitRaw: (repository, args, extra) => runGit(build(repository, args, extra)),
  };
}

/** The notice appended to text cut at the byte cap. */
export function truncationNotice(result: GitResult): string {
  return result.truncated
    ? `\n[output truncated: ${result.totalBytes} bytes, the first ${Buffer.byteLength(result.stdout)} shown; narrow the request]`
    : '';
}

/**
 * Looks a local branch up: exit code 0 and its commit on stdout when it exists.
 * @param context the tool context
 * @param repository the repository
 * @param name a branch name already checked with `checkBranchName`
 * @returns git's answer
 */
export function localBranch(context: ToolContext, repository: Repository, name: string): Promise<GitResult> {
  return context.gitRaw(repository, ['rev-parse', '--verify', '--quiet', `refs/heads/${name}`]);
}
