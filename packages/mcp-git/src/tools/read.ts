import { z } from 'zod';
import { type GitResult, gitFailure } from '../git.js';
import { assertSafeName, invalidParameter, type Repository, resolveRevision } from '../guard.js';
import { knownCommit, remembered } from '../memo.js';
import { type AnyTool, defineTool, type ToolContext, truncationNotice } from '../tool.js';

// Read-only tools beyond the reference twelve. Each revision is resolved to a hash and each path
// checked by the guard before git sees it; nothing here writes to the repository or runs a filter,
// textconv or external diff driver the repository's config may name.

const repoPath = z.string().describe('Path of the repository (one of list_repositories)');
const FIELD = '\u001f';
/** Room for the small answers of metadata calls, whatever byte cap the server was given. */
const METADATA_BYTES = 64 * 1024;

/**
 * The complete records of an output: the part after the last separator is empty for a complete
 * output and the cut-off record of a truncated one, so it is dropped either way.
 */
function records(result: GitResult, separator: string): string[] {
  const parts = result.stdout.split(separator);
  parts.pop();
  return parts;
}

/** An object at a path of a commit (`<commit>:<path>`), or undefined when there is none. */
async function objectAt(
  context: ToolContext,
  repository: Repository,
  commit: string,
  path: string,
): Promise<{ id: string; type: string; size: number } | undefined> {
  // The name goes through stdin, built from a resolved hash and a guard-checked path.
  const name = path === '.' ? `${commit}^{tree}` : `${commit}:${path}`;
  const result = await context.git(repository, ['cat-file', '--batch-check'], {
    input: `${name}\n`,
    maxBytes: METADATA_BYTES,
  });
  const match = /^([0-9a-f]{40,64}) (\w+) (\d+)$/.exec(result.stdout.trim());
  if (!match) return undefined;
  return { id: match[1] as string, type: match[2] as string, size: Number(match[3]) };
}

/** A Unix time and a `+hhmm` zone as ISO 8601 with the offset, like git's `%aI`. */
function isoDate(seconds: number, zone: string): string {
  const match = /^([+-])(\d{2})(\d{2})$/.exec(zone);
  if (!match) return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '+00:00');
  const offset = (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) * 60;
  const local = new Date((seconds + offset) * 1000).toISOString().slice(0, 19);
  return `${local}${match[1]}${match[2]}:${match[3]}`;
}

/** A string that git reads as data (a pattern): one line, no NUL. */
function assertOneLine(parameter: string, value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw invalidParameter(parameter, 'a non-empty string', value);
  if (/[\r\n\0]/.test(value)) throw invalidParameter(parameter, 'a single line', value);
  return value;
}

/** Fails with git's own message, as `context.git` would, for an exit code the caller does not expect. */
const URL_SECRET_PARAMETER = /token|key|secret|pass|auth|sig|credential/i;

/**
 * A remote URL with its credentials replaced by `***`: the whole user part of an http(s) URL
 * (`https://TOKEN@host` carries a token as the user name), the password of any other URL, and
 * query parameters that look like tokens.
 */
function redactUrl(url: string): string {
  let redacted = url.replace(
    /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)@/i,
    (_whole, scheme: string, user: string) => {
      if (/^(https?|ftps?)$/i.test(scheme)) return `${scheme}://***@`;
      const colon = user.indexOf(':');
      return colon === -1 ? `${scheme}://${user}@` : `${scheme}://${user.slice(0, colon)}:***@`;
    },
  );
  // scp-like `user:password@host:path`
  redacted = redacted.replace(/^([^:/@]+):[^/@]+@(?=[^/]*:)/, '$1:***@');
  const query = redacted.indexOf('?');
  if (query !== -1) {
    const parameters = redacted
      .slice(query + 1)
      .split('&')
      .map((parameter) => {
        const equals = parameter.indexOf('=');
        if (equals === -1) return parameter;
        const name = parameter.slice(0, equals);
        return URL_SECRET_PARAMETER.test(decodeURIComponentSafe(name)) ? `${name}=***` : parameter;
      });
    redacted = `${redacted.slice(0, query)}?${parameters.join('&')}`;
  }
  return redacted;
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const blameLine = z.object({
  line: z.number().describe('Line number in the file at the revision'),
  hash: z.string().describe('Commit that last changed the line'),
  author: z.string(),
  email: z.string(),
  date: z.string().describe('Author date, ISO 8601'),
  summary: z.string().describe("The commit's subject"),
  content: z.string(),
});

const treeEntry = z.object({
  mode: z.string(),
  type: z.string().describe('blob, tree or commit (a submodule)'),
  hash: z.string(),
  path: z.string().describe('Path relative to the repository root'),
  size: z.number().nullable().describe('Size in bytes of a blob, null for trees and submodules'),
});

const reflogEntry = z.object({
  selector: z.string().describe('e.g. HEAD@{0}'),
  hash: z.string(),
  action: z.string().describe('What moved the ref, e.g. "commit", "checkout", "reset"'),
  message: z.string(),
  date: z.string().describe('When the ref moved, ISO 8601'),
});

const tagShape = z.object({
  name: z.string(),
  hash: z.string().describe('The object the tag points to (the tag object for an annotated tag)'),
  target: z.string().describe('The commit (or other object) the tag finally names'),
  annotated: z.boolean(),
  subject: z.string().describe("The tag message's subject, or the commit's subject for a lightweight tag"),
  date: z.string().nullable().describe('Tagger date of an annotated tag, commit date of a lightweight one'),
});

const stashShape = z.object({
  index: z.number(),
  selector: z.string().describe('e.g. stash@{0}'),
  hash: z.string(),
  branch: z.string().nullable().describe('The branch the stash was made on'),
  message: z.string(),
  date: z.string(),
});

const remoteShape = z.object({
  name: z.string(),
  fetch_url: z.string().nullable().describe('Credentials replaced by ***'),
  push_urls: z.array(z.string()).describe('Credentials replaced by ***'),
});

const worktreeShape = z.object({
  path: z.string(),
  head: z.string().nullable(),
  branch: z.string().nullable().describe('Checked-out branch, null when detached or bare'),
  bare: z.boolean(),
  detached: z.boolean(),
  locked: z.boolean(),
  locked_reason: z.string().nullable(),
  prunable: z.boolean(),
  prunable_reason: z.string().nullable(),
});

const OBJECT_TYPES = ['commit', 'tree', 'blob', 'tag'] as const;

/** Read-only tools beyond the reference twelve. */
export const readTools: AnyTool[] = [
  defineTool({
    name: 'git_blame',
    title: 'Blame a file',
    description:
      'Shows, for each line of a file as committed at a revision (HEAD by default; uncommitted changes are not blamed), the commit that last changed it, its author and date. Limit the lines with start_line and end_line.',
    tier: 'read',
    input: {
      repo_path: repoPath,
      path: z.string().describe('File path relative to the repository root'),
      revision: z.string().optional().describe('Blame the file as of this revision @default HEAD'),
      start_line: z.number().int().min(1).optional().describe('First line (1-based) @default 1'),
      end_line: z.number().int().min(1).optional().describe('Last line (inclusive) @default the last line'),
    },
    output: {
      path: z.string(),
      revision: z.string().describe('The revision blamed, as given'),
      lines: z.array(blameLine),
      truncated: z.boolean(),
    },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const path = await context.guard.path(repository, 'path', args.path);
      // One git process: the name is checked (it cannot be read as an option) and blame resolves
      // it; its errors say which parameter was wrong.
      const revisionName = assertSafeName('revision', args.revision ?? 'HEAD');
      if (args.start_line !== undefined && args.end_line !== undefined && args.end_line < args.start_line) {
        throw invalidParameter(
          'end_line',
          `a line at or after start_line (${args.start_line})`,
          args.end_line,
        );
      }
      const range = `${args.start_line ?? 1},${args.end_line ?? ''}`;
      // Blame of a known commit never changes: the answer is kept.
      const commitId = knownCommit(repository, revisionName);
      const parts = commitId === undefined ? undefined : ['git_blame', commitId, revisionName, path, range];
      return remembered(context, repository, parts, async () => {
        const result = await context.gitRaw(repository, [
          'blame',
          '--porcelain',
          '--no-textconv',
          '-L',
          range,
          commitId ?? revisionName,
          '--',
          path,
        ]);
        if (result.exitCode !== 0) {
          const length = /has only (\d+) lines?/.exec(result.stderr)?.[1];
          if (length !== undefined)
            throw invalidParameter('start_line', `a line of the file (it has ${length})`, args.start_line);
          if (/no such path|no such file/i.test(result.stderr))
            throw invalidParameter('path', `a file that exists at ${revisionName}`, args.path);
          if (/bad revision|unknown revision|ambiguous argument|not a valid object/i.test(result.stderr))
            throw invalidParameter(
              'revision',
              `a revision of this repository (${revisionName} names none)`,
              args.revision,
            );
          throw gitFailure('blame', result);
        }
        const commits = new Map<
          string,
          { author: string; email: string; time: number; zone: string; summary: string }
        >();
        const lines: Array<z.infer<typeof blameLine>> = [];
        let current: { hash: string; line: number } | undefined;
        for (const text of records(result, '\n')) {
          if (current === undefined) {
            const header = /^([0-9a-f]{40,64}) \d+ (\d+)(?: \d+)?$/.exec(text);
            if (!header) continue;
            current = { hash: header[1] as string, line: Number(header[2]) };
            if (!commits.has(current.hash))
              commits.set(current.hash, { author: '', email: '', time: 0, zone: '+0000', summary: '' });
            continue;
          }
          const commit = commits.get(current.hash);
          if (!commit) continue;
          if (text.startsWith('\t')) {
            lines.push({
              line: current.line,
              hash: current.hash,
              author: commit.author,
              email: commit.email,
              date: isoDate(commit.time, commit.zone),
              summary: commit.summary,
              content: text.slice(1),
            });
            current = undefined;
          } else if (text.startsWith('author ')) commit.author = text.slice(7);
          else if (text.startsWith('author-mail ')) commit.email = text.slice(12).replace(/^<(.*)>$/, '$1');
          else if (text.startsWith('author-time ')) commit.time = Number(text.slice(12));
          else if (text.startsWith('author-tz ')) commit.zone = text.slice(10);
          else if (text.startsWith('summary ')) commit.summary = text.slice(8);
        }
        const rendered = lines.map(
          (entry) =>
            `${entry.hash.slice(0, 8)} (${entry.author} ${entry.date} ${entry.line}) ${entry.content}`,
        );
        return {
          structured: { path, revision: revisionName, lines, truncated: result.truncated },
          text: (rendered.join('\n') || 'No lines.') + truncationNotice(result),
        };
      });
    },
  }),
  defineTool({
    name: 'git_grep',
    title: 'Search file contents',
    description:
      'Searches the tracked files of the working tree, or of a revision, for a pattern (a fixed string unless fixed_strings is false, then an extended regular expression). Binary files are skipped. Returns at most max_results matches.',
    tier: 'read',
    input: {
      repo_path: repoPath,
      pattern: z.string().min(1).describe('Text to search for (may start with "-")'),
      revision: z.string().optional().describe('Search this revision instead of the working tree'),
      path: z
        .string()
        .optional()
        .describe('Only search this file or folder (relative to the repository root)'),
      ignore_case: z.boolean().default(false),
      fixed_strings: z
        .boolean()
        .default(true)
        .describe('Match the pattern literally; false for an extended regular expression'),
      max_results: z.number().int().min(1).max(10_000).default(200),
    },
    output: {
      matches: z.array(z.object({ path: z.string(), line: z.number(), text: z.string() })),
      truncated: z.boolean().describe('Whether there were more matches than returned'),
    },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const pattern = assertOneLine('pattern', args.pattern);
      const revision =
        args.revision === undefined
          ? undefined
          : await resolveRevision(repository, 'revision', args.revision);
      const path =
        args.path === undefined ? undefined : await context.guard.path(repository, 'path', args.path);
      const options = [
        'grep',
        '-n',
        '-z',
        '--no-color',
        '-I',
        '--no-textconv',
        args.fixed_strings ? '-F' : '-E',
      ];
      if (args.ignore_case) options.push('-i');
      // The pattern follows -e, so one that starts with "-" is still a pattern.
      options.push('-e', pattern);
      if (revision !== undefined) options.push(revision);
      options.push('--');
      if (path !== undefined) options.push(`:(literal)${path}`);
      await context.progress('searching', 0);
      const result = await context.gitRaw(repository, options);
      // Exit code 1 is "no match".
      if (result.exitCode !== 0 && result.exitCode !== 1) throw gitFailure('grep', result);
      const prefix = revision === undefined ? '' : `${revision}:`;
      const matches: Array<{ path: string; line: number; text: string }> = [];
      let more = false;
      const output = result.stdout;
      let position = 0;
      while (position < output.length) {
        const pathEnd = output.indexOf('\0', position);
        const lineEnd = pathEnd === -1 ? -1 : output.indexOf('\0', pathEnd + 1);
        const textEnd = lineEnd === -1 ? -1 : output.indexOf('\n', lineEnd + 1);
        if (textEnd === -1) break; // the record cut at the byte cap
        if (matches.length === args.max_results) {
          more = true;
          break;
        }
        const name = output.slice(position, pathEnd);
        matches.push({
          path: name.startsWith(prefix) ? name.slice(prefix.length) : name,
          line: Number(output.slice(pathEnd + 1, lineEnd)),
          text: output.slice(lineEnd + 1, textEnd),
        });
        position = textEnd + 1;
      }
      await context.progress(`${matches.length} matches`, 1, 1);
      const truncated = more || result.truncated;
      const rendered = matches.map((match) => `${match.path}:${match.line}:${match.text}`).join('\n');
      return {
        structured: { matches, truncated },
        text:
          (rendered || 'No matches.') +
          (more ? `\n[more than ${args.max_results} matches; narrow the search or raise max_results]` : '') +
          truncationNotice(result),
      };
    },
  }),
  defineTool({
    name: 'git_show_file',
    title: 'File content at a revision',
    description:
      'Shows the content of a file as committed at a revision (HEAD by default), with its size. The content of a binary file is not returned; content beyond the byte cap is cut.',
    tier: 'read',
    input: {
      repo_path: repoPath,
      path: z.string().describe('File path relative to the repository root'),
      revision: z.string().default('HEAD'),
    },
    output: {
      path: z.string(),
      revision: z.string().describe('The commit the file was read from'),
      hash: z.string().describe("The file's blob hash"),
      size: z.number().describe('Size in bytes'),
      binary: z.boolean(),
      content: z.string().nullable().describe('The text, null for a binary file'),
      truncated: z.boolean(),
    },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const path = await context.guard.path(repository, 'path', args.path);
      const revision = await resolveRevision(repository, 'revision', args.revision);
      const object = await objectAt(context, repository, revision, path);
      if (object === undefined)
        throw invalidParameter('path', `a file that exists at ${args.revision}`, args.path);
      if (object.type !== 'blob')
        throw invalidParameter(
          'path',
          `a file, not a ${object.type} (list folders with git_tree)`,
          args.path,
        );
      // cat-file prints the blob as stored: no textconv or filter can run.
      const result = await context.git(repository, ['cat-file', 'blob', object.id]);
      // git's own test: a NUL in the first 8000 bytes makes a file binary.
      const binary = result.stdout.slice(0, 8000).includes('\0');
      // A cut in the middle of a multi-byte character decodes to U+FFFD; drop it.
      const content = binary ? null : result.truncated ? result.stdout.replace(/\uFFFD$/, '') : result.stdout;
      return {
        structured: {
          path,
          revision,
          hash: object.id,
          size: object.size,
          binary,
          content,
          truncated: !binary && result.truncated,
        },
        text: binary
          ? `${path} is a binary file (${object.size} bytes)`
          : `${content}${truncationNotice(result)}`,
      };
    },
  }),
  defineTool({
    name: 'git_tree',
    title: 'List files at a revision',
    description:
      'Lists the files and folders of a revision (HEAD by default), at the root or in a folder, optionally recursively, with mode, type, hash and size.',
    tier: 'read',
    input: {
      repo_path: repoPath,
      revision: z.string().default('HEAD'),
      path: z
        .string()
        .optional()
        .describe('Folder to list, relative to the repository root @default the root'),
      recursive: z.boolean().default(false).describe('List every file below, not just the folder itself'),
    },
    output: { revision: z.string(), entries: z.array(treeEntry), truncated: z.boolean() },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const path = args.path === undefined ? '.' : await context.guard.path(repository, 'path', args.path);
      const revision = await resolveRevision(repository, 'revision', args.revision);
      const tree = await objectAt(context, repository, revision, path);
      if (tree?.type !== 'tree') {
        throw invalidParameter('path', `a folder that exists at ${args.revision}`, args.path);
      }
      const options = ['ls-tree', '-l', '-z'];
      if (args.recursive) options.push('-r');
      const result = await context.git(repository, [...options, tree.id]);
      const prefix = path === '.' ? '' : `${path}/`;
      const entries = records(result, '\0').flatMap((record) => {
        const match = /^(\d+) (\w+) ([0-9a-f]{40,64}) +(-|\d+)\t(.*)$/s.exec(record);
        if (!match) return [];
        return [
          {
            mode: match[1] as string,
            type: match[2] as string,
            hash: match[3] as string,
            path: `${prefix}${match[5] as string}`,
            size: match[4] === '-' ? null : Number(match[4]),
          },
        ];
      });
      const rendered = entries.map(
        (entry) =>
          `${entry.mode} ${entry.type} ${entry.hash} ${String(entry.size ?? '-').padStart(8)}\t${entry.path}`,
      );
      return {
        structured: { revision, entries, truncated: result.truncated },
        text: (rendered.join('\n') || 'Empty folder.') + truncationNotice(result),
      };
    },
  }),
  defineTool({
    name: 'git_reflog',
    title: 'Reflog',
    description:
      'Shows where a ref (HEAD by default, or a branch) pointed before, newest first: commits, checkouts, resets, rebases.',
    tier: 'read',
    input: {
      repo_path: repoPath,
      ref: z.string().default('HEAD').describe('HEAD, a branch or another ref name'),
      max_count: z.number().int().min(1).max(1000).default(20),
    },
    output: {
      ref: z.string().describe('The full ref name'),
      entries: z.array(reflogEntry),
      truncated: z.boolean().describe('Whether there are older entries'),
    },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const name = assertSafeName('ref', args.ref);
      // --symbolic-full-name follows HEAD to the branch it points to; HEAD has a reflog of its own.
      const full =
        name === 'HEAD' || name === '@'
          ? 'HEAD'
          : (
              await context.gitRaw(
                repository,
                ['rev-parse', '--verify', '--quiet', '--symbolic-full-name', '--end-of-options', name],
                { maxBytes: METADATA_BYTES },
              )
            ).stdout.trim();
      if (full !== 'HEAD' && !full.startsWith('refs/')) {
        throw invalidParameter(
          'ref',
          `HEAD or the name of a branch or other ref (${name} names none)`,
          args.ref,
        );
      }
      // With a date format, the selector carries the time the ref moved: HEAD@{2024-01-31T12:00:00+00:00}.
      const result = await context.git(repository, [
        'log',
        '--walk-reflogs',
        '--date=iso-strict',
        `--max-count=${args.max_count + 1}`,
        `--format=%H${FIELD}%gd${FIELD}%gs`,
        '--end-of-options',
        full,
        '--',
      ]);
      const entries = records(result, '\n').flatMap((record, index) => {
        const [hash = '', selector = '', subject = ''] = record.split(FIELD);
        const at = /^(.*)@\{(.*)\}$/.exec(selector);
        if (!at || !/^[0-9a-f]{40,64}$/.test(hash)) return [];
        const colon = subject.indexOf(': ');
        return [
          {
            selector: `${at[1]}@{${index}}`,
            hash,
            action: colon === -1 ? subject : subject.slice(0, colon),
            message: colon === -1 ? '' : subject.slice(colon + 2),
            date: at[2] as string,
          },
        ];
      });
      const more = entries.length > args.max_count;
      const page = entries.slice(0, args.max_count);
      return {
        structured: { ref: full, entries: page, truncated: more || result.truncated },
        text:
          (page
            .map((entry) => `${entry.hash.slice(0, 8)} ${entry.selector}: ${entry.action}: ${entry.message}`)
            .join('\n') || `No reflog for ${full}.`) +
          (more ? `\n[older entries: raise max_count]` : truncationNotice(result)),
      };
    },
  }),
  defineTool({
    name: 'git_merge_base',
    title: 'Merge base',
    description: 'Finds the best common ancestor of two or more revisions (null when they share no history).',
    tier: 'read',
    input: {
      repo_path: repoPath,
      revisions: z.array(z.string()).min(2).max(32).describe('Two or more branches, tags or commits'),
    },
    output: {
      merge_base: z.string().nullable(),
      revisions: z.array(z.string()).describe('The revisions, resolved'),
    },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const revisions: string[] = [];
      for (const [index, revision] of args.revisions.entries()) {
        revisions.push(await resolveRevision(repository, `revisions[${index}]`, revision));
      }
      // --octopus: the common ancestor of all of them, not of the first and a merge of the rest.
      const result = await context.gitRaw(repository, ['merge-base', '--octopus', ...revisions], {
        maxBytes: METADATA_BYTES,
      });
      if (result.exitCode !== 0 && result.exitCode !== 1) throw gitFailure('merge-base', result);
      const mergeBase = result.stdout.trim().split('\n')[0] || null;
      return {
        structured: { merge_base: mergeBase, revisions },
        text: mergeBase ?? `${args.revisions.join(', ')} have no common ancestor.`,
      };
    },
  }),
  defineTool({
    name: 'git_rev_parse',
    title: 'Resolve a revision',
    description: 'Resolves a revision (branch, tag, HEAD~2, <rev>:<path>…) to its full hash and object type.',
    tier: 'read',
    input: { repo_path: repoPath, revision: z.string() },
    output: { hash: z.string(), type: z.enum(OBJECT_TYPES) },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const hash = await resolveRevision(repository, 'revision', args.revision, 'object');
      const result = await context.git(repository, ['cat-file', '-t', hash], { maxBytes: METADATA_BYTES });
      const type = OBJECT_TYPES.find((known) => known === result.stdout.trim());
      if (type === undefined) throw gitFailure('cat-file', result);
      return { structured: { hash, type }, text: `${hash} ${type}` };
    },
  }),
  defineTool({
    name: 'git_tags',
    title: 'List tags',
    description:
      'Lists the tags in version order, with the commit each names, whether it is annotated, its subject and date.',
    tier: 'read',
    input: { repo_path: repoPath },
    output: { tags: z.array(tagShape), truncated: z.boolean() },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const result = await context.git(repository, [
        'for-each-ref',
        '--sort=version:refname',
        `--format=%(refname:strip=2)${FIELD}%(objecttype)${FIELD}%(objectname)${FIELD}%(*objectname)${FIELD}%(subject)${FIELD}%(creatordate:iso-strict)`,
        'refs/tags',
      ]);
      const tags = records(result, '\n').map((record) => {
        const [name = '', type = '', hash = '', peeled = '', subject = '', date = ''] = record.split(FIELD);
        return { name, hash, target: peeled || hash, annotated: type === 'tag', subject, date: date || null };
      });
      return {
        structured: { tags, truncated: result.truncated },
        text:
          (tags
            .map(
              (tag) =>
                `${tag.name} ${tag.target.slice(0, 8)}${tag.annotated ? ' (annotated)' : ''} ${tag.subject}`,
            )
            .join('\n') || 'No tags.') + truncationNotice(result),
      };
    },
  }),
  defineTool({
    name: 'git_stash_list',
    title: 'List stashes',
    description: 'Lists the stashed changes, newest first, with the branch each was made on.',
    tier: 'read',
    input: { repo_path: repoPath },
    output: { stashes: z.array(stashShape), truncated: z.boolean() },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const result = await context.git(repository, [
        'stash',
        'list',
        `--format=%H${FIELD}%gd${FIELD}%gs${FIELD}%aI`,
      ]);
      const stashes = records(result, '\n').map((record, index) => {
        const [hash = '', selector = '', message = '', date = ''] = record.split(FIELD);
        const branch = /^(?:WIP on|On) (.+?):/.exec(message)?.[1] ?? null;
        return { index, selector, hash, branch, message, date };
      });
      return {
        structured: { stashes, truncated: result.truncated },
        text:
          (stashes.map((stash) => `${stash.selector}: ${stash.message}`).join('\n') || 'No stashes.') +
          truncationNotice(result),
      };
    },
  }),
  defineTool({
    name: 'git_remotes',
    title: 'List remotes',
    description:
      'Lists the remotes with their fetch and push URLs; credentials in URLs (user:password@, tokens) are replaced by ***.',
    tier: 'read',
    input: { repo_path: repoPath },
    output: { remotes: z.array(remoteShape), truncated: z.boolean() },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const result = await context.git(repository, ['remote', '--verbose']);
      const remotes = new Map<string, z.infer<typeof remoteShape>>();
      for (const record of records(result, '\n')) {
        const match = /^([^\t]+)\t(.*) \((fetch|push)\)$/.exec(record);
        if (!match) continue;
        const name = match[1] as string;
        const url = redactUrl(match[2] as string);
        const remote = remotes.get(name) ?? { name, fetch_url: null, push_urls: [] };
        if (match[3] === 'fetch') remote.fetch_url = url;
        else remote.push_urls.push(url);
        remotes.set(name, remote);
      }
      const list = [...remotes.values()];
      return {
        structured: { remotes: list, truncated: result.truncated },
        text:
          (list
            .map((remote) =>
              [
                `${remote.name}\t${remote.fetch_url ?? ''} (fetch)`,
                ...remote.push_urls.map((url) => `${remote.name}\t${url} (push)`),
              ].join('\n'),
            )
            .join('\n') || 'No remotes.') + truncationNotice(result),
      };
    },
  }),
  defineTool({
    name: 'git_worktrees',
    title: 'List worktrees',
    description:
      'Lists the worktrees of the repository with the commit and branch each has checked out, and whether it is locked or prunable.',
    tier: 'read',
    input: { repo_path: repoPath },
    output: { worktrees: z.array(worktreeShape), truncated: z.boolean() },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const result = await context.git(repository, ['worktree', 'list', '--porcelain', '-z']);
      // Records are NUL-separated attribute lines, each record ended by an empty one.
      const worktrees = records(result, '\0\0').flatMap((record) => {
        const worktree: z.infer<typeof worktreeShape> = {
          path: '',
          head: null,
          branch: null,
          bare: false,
          detached: false,
          locked: false,
          locked_reason: null,
          prunable: false,
          prunable_reason: null,
        };
        for (const attribute of record.split('\0')) {
          const space = attribute.indexOf(' ');
          const key = space === -1 ? attribute : attribute.slice(0, space);
          const value = space === -1 ? null : attribute.slice(space + 1);
          if (key === 'worktree') worktree.path = value ?? '';
          else if (key === 'HEAD') worktree.head = value;
          else if (key === 'branch') worktree.branch = value?.replace(/^refs\/heads\//, '') ?? null;
          else if (key === 'bare') worktree.bare = true;
          else if (key === 'detached') worktree.detached = true;
          else if (key === 'locked') {
            worktree.locked = true;
            worktree.locked_reason = value;
          } else if (key === 'prunable') {
            worktree.prunable = true;
            worktree.prunable_reason = value;
          }
        }
        return worktree.path === '' ? [] : [worktree];
      });
      return {
        structured: { worktrees, truncated: result.truncated },
        text:
          worktrees
            .map(
              (worktree) =>
                `${worktree.path} ${worktree.head?.slice(0, 8) ?? ''} ${worktree.bare ? '(bare)' : worktree.branch ? `[${worktree.branch}]` : '(detached HEAD)'}${worktree.locked ? ' locked' : ''}${worktree.prunable ? ' prunable' : ''}`,
            )
            .join('\n') + truncationNotice(result),
      };
    },
  }),
];
