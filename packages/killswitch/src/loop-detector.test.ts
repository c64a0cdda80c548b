import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChatMessage, ChatRequest, ContentPart } from '@ballast/core';
import { BallastError } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { canonicalForm, createLoopDetector, type LoopDetector, type LoopVerdict } from './loop-detector.js';

const start = Date.UTC(2025, 0, 1);
const system = [
  {
    type: 'text' as const,
    text: 'You are a helpful coding agent. Use the tools to inspect and fix the repository.',
  },
];

function user(text: string): ChatMessage {
  return { role: 'user', content: [{ type: 'text', text }] };
}

function assistant(text: string): ChatMessage {
  return { role: 'assistant', content: [{ type: 'text', text }] };
}

function chat(messages: ChatMessage[], extra: Partial<ChatRequest> = {}): ChatRequest {
  return { model: 'gpt-4o', system, messages: [...messages], ...extra };
}

let idCounter = 0;
/** A fresh id per call, as providers generate them. */
function freshId(): string {
  idCounter += 1;
  return `call_${idCounter.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** One assistant tool-call step and its results, appended to `messages`. */
function toolStep(
  messages: ChatMessage[],
  calls: Array<[name: string, argumentsJson: string, result: string]>,
): void {
  const ids = calls.map(() => freshId());
  messages.push({
    role: 'assistant',
    content: calls.map(
      ([name, argumentsJson], index): ContentPart => ({
        type: 'tool-call',
        id: ids[index] ?? '',
        name,
        arguments: argumentsJson,
      }),
    ),
  });
  messages.push({
    role: 'tool',
    content: calls.map(
      ([, , result], index): ContentPart => ({
        type: 'tool-result',
        toolCallId: ids[index] ?? '',
        content: [{ type: 'text', text: result }],
      }),
    ),
  });
}

function kindsOf(verdicts: LoopVerdict[]): string[] {
  return verdicts.map((verdict) => (verdict.loop ? verdict.kind : 'none'));
}

const buildError =
  "Error: src/index.ts:12:5 - error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'.";

// ---------------------------------------------------------------------------------------------
// LoCoMo replay (the trust test): real conversations must never trip the detector.

interface LocomoTurn {
  speaker: string;
  text: string;
  blip_caption?: string;
}

interface LocomoSample {
  sample_id: string;
  conversation: Record<string, unknown> & { speaker_a: string; speaker_b: string };
}

const locomoFolder =
  process.env.BALLAST_LOCOMO_DIR ??
  fileURLToPath(new URL('../../../../shared/data/locomo/', import.meta.url));
const locomoFile = ['locomo10.json', 'locomo-dev.json']
  .map((name) => join(locomoFolder, name))
  .find((path) => existsSync(path));
const locomoSkipNote = locomoFile
  ? ''
  : ` (skipped: LoCoMo data expected at ${join(locomoFolder, 'locomo-dev.json')} or locomo10.json beside it; set BALLAST_LOCOMO_DIR to another folder to run it)`;

function sessionsOf(sample: LocomoSample): LocomoTurn[][] {
  return Object.keys(sample.conversation)
    .filter((key) => /^session_\d+$/.test(key))
    .sort((first, second) => Number(first.slice(8)) - Number(second.slice(8)))
    .map((key) => sample.conversation[key] as LocomoTurn[])
    .filter((turns) => Array.isArray(turns) && turns.length > 0);
}

interface ReplayTally {
  chats: number;
  checks: number;
  flags: string[];
}

/**
 * Replays turns as a chat agent sends them: one check per user turn, with the growing history
 * (or only its last `historyLimit` messages, as agents with a sliding context window do).
 */
function replay(
  detector: LoopDetector,
  chatName: string,
  turns: LocomoTurn[],
  userSpeaker: string,
  tally: ReplayTally,
  clock: { now: number },
  historyLimit = Number.POSITIVE_INFINITY,
): void {
  const messages: ChatMessage[] = [];
  tally.chats += 1;
  for (const turn of turns) {
    const text = turn.blip_caption ? `${turn.text} [shares a photo: ${turn.blip_caption}]` : turn.text;
    if (turn.speaker !== userSpeaker) {
      messages.push(assistant(text));
      continue;
    }
    messages.push(user(text));
    clock.now += 1000;
    const sent = messages.length > historyLimit ? messages.slice(-historyLimit) : messages;
    const verdict = detector.check(chatName, chat(sent, { model: 'claude-sonnet-4' }), clock.now);
    tally.checks += 1;
    if (verdict.loop)
      tally.flags.push(`${chatName} turn ${messages.length}: ${verdict.kind}: ${verdict.message}`);
  }
}

function replayLocomo(detector: LoopDetector): ReplayTally {
  const samples = JSON.parse(readFileSync(locomoFile ?? '', 'utf8')) as LocomoSample[];
  const tally: ReplayTally = { chats: 0, checks: 0, flags: [] };
  // One request a second: far denser than people type, so the whole window is always full.
  const clock = { now: start };
  for (const sample of samples) {
    const sessions = sessionsOf(sample);
    const { speaker_a: speakerA, speaker_b: speakerB } = sample.conversation;
    // The whole conversation as one ever-growing chat, each speaker in turn playing the user.
    replay(detector, `${sample.sample_id}/whole/${speakerA}`, sessions.flat(), speakerA, tally, clock);
    replay(detector, `${sample.sample_id}/whole/${speakerB}`, sessions.flat(), speakerB, tally, clock);
    // The same with a sliding window of the last 40 messages: no prefix is shared between calls.
    replay(detector, `${sample.sample_id}/window/${speakerA}`, sessions.flat(), speakerA, tally, clock, 40);
    // Each session as a chat of its own.
    for (const [index, turns] of sessions.entries())
      replay(detector, `${sample.sample_id}/session-${index + 1}`, turns, speakerA, tally, clock);
  }
  return tally;
}

describe('canonicalForm', () => {
  const base = chat([user('Read a.txt please')]);
  const withCall = (id: string, argumentsJson: string): ChatRequest =>
    chat([
      user('Read a.txt please'),
      {
        role: 'assistant',
        content: [{ type: 'tool-call', id, name: 'read_file', arguments: argumentsJson }],
      },
      {
        role: 'tool',
        content: [{ type: 'tool-result', toolCallId: id, content: [{ type: 'text', text: 'hello' }] }],
      },
    ]);

  describe('when only volatile fields differ', () => {
    it('gives the same text', () => {
      const noisy: ChatRequest = {
        ...base,
        temperature: 0.7,
        topP: 0.9,
        stream: true,
        user: 'end-user-42',
        maxOutputTokens: 512,
        providerOptions: { openai: { seed: 7 } },
      };
      expect(canonicalForm(noisy)).toBe(canonicalForm(base));
    });

    it('replaces tool call ids by positional placeholders', () => {
      const first = canonicalForm(withCall('call_abc', '{"path":"a.txt"}'));
      expect(canonicalForm(withCall('toolu_01XYZ', '{"path":"a.txt"}'))).toBe(first);
      expect(first).not.toContain('call_abc');
      expect(first).toContain('#1');
    });

    it('ignores key order and whitespace in tool arguments', () => {
      expect(canonicalForm(withCall('x', '{ "path": "a.txt", "encoding": "utf8" }'))).toBe(
        canonicalForm(withCall('y', '{"encoding":"utf8","path":"a.txt"}')),
      );
    });
  });

  describe('when what is asked differs', () => {
    it('gives a different text for another model, message, argument or system prompt', () => {
      const reference = canonicalForm(withCall('x', '{"path":"a.txt"}'));
      expect(canonicalForm(withCall('x', '{"path":"b.txt"}'))).not.toBe(reference);
      expect(canonicalForm({ ...base, model: 'gpt-4o-mini' })).not.toBe(canonicalForm(base));
      expect(canonicalForm(chat([user('Read b.txt please')]))).not.toBe(canonicalForm(base));
      expect(canonicalForm({ ...base, system: [{ type: 'text', text: 'Other rules.' }] })).not.toBe(
        canonicalForm(base),
      );
    });
  });
});

describe('createLoopDetector', () => {
  describe('when the same request is sent again and again', () => {
    it('lets the first two through and flags the third as an exact repeat', () => {
      const detector = createLoopDetector();
      const request = chat([user('Summarise the open issues.')]);
      const verdicts = [0, 1, 2].map((second) => detector.check('session', request, start + second * 1000));
      expect(kindsOf(verdicts)).toEqual(['none', 'none', 'exact-repeat']);
      const third = verdicts[2];
      expect(third?.loop && third.count).toBe(3);
      expect(third?.loop && third.message).toMatch(/sent 3 times within 60 s/);
    });

    it('still flags it when temperature, stream and tool call ids change on every attempt', () => {
      const detector = createLoopDetector();
      const verdicts = [0, 1, 2].map((attempt) => {
        const messages = [user('Read a.txt')];
        toolStep(messages, [['read_file', '{"path":"a.txt"}', 'contents of a']]);
        return detector.check(
          'session',
          chat(messages, { temperature: attempt / 10, stream: attempt % 2 === 0 }),
          start + attempt,
        );
      });
      expect(kindsOf(verdicts)).toEqual(['none', 'none', 'exact-repeat']);
    });

    it('forgets occurrences older than the window', () => {
      const detector = createLoopDetector({ windowSeconds: 60 });
      const request = chat([user('Summarise the open issues.')]);
      detector.check('session', request, start);
      detector.check('session', request, start + 30_000);
      expect(detector.check('session', request, start + 60_000).loop).toBe(false);
      expect(detector.check('session', request, start + 61_000)).toMatchObject({
        loop: true,
        kind: 'exact-repeat',
      });
    });

    it('keeps sessions apart', () => {
      const detector = createLoopDetector();
      const request = chat([user('Summarise the open issues.')]);
      const verdicts = ['a', 'b', 'c', 'a', 'b', 'c'].map((session) =>
        detector.check(session, request, start),
      );
      expect(kindsOf(verdicts)).toEqual(['none', 'none', 'none', 'none', 'none', 'none']);
    });
  });

  describe('when a request is retried after an upstream error', () => {
    it('does not count the retries as repeats', () => {
      const detector = createLoopDetector();
      const request = chat([user('Summarise the open issues.')]);
      expect(detector.check('session', request, start).loop).toBe(false);
      detector.recordError('session', start + 100);
      expect(detector.check('session', request, start + 1000).loop).toBe(false);
      detector.recordError('session', start + 1100);
      expect(detector.check('session', request, start + 3000).loop).toBe(false);
      expect(detector.check('session', request, start + 4000).loop).toBe(false);
      expect(detector.check('session', request, start + 5000)).toMatchObject({
        loop: true,
        kind: 'exact-repeat',
      });
    });
  });

  describe('when the agent re-sends the same turn with a changing counter', () => {
    it('flags the third attempt as a near-duplicate', () => {
      const detector = createLoopDetector();
      const history = [user('Fix the build.'), assistant('I changed the parameter type in src/index.ts.')];
      const verdicts = [1, 2, 3].map((attempt) =>
        detector.check(
          'session',
          chat([...history, user(`Attempt ${attempt}: fix the build, it still fails. ${buildError}`)]),
          start + attempt * 2000,
        ),
      );
      expect(kindsOf(verdicts)).toEqual(['none', 'none', 'near-duplicate']);
      expect(verdicts[2]?.loop && verdicts[2].message).toMatch(/^3 consecutive requests within 60 s/);
    });

    it('flags it when the history grows by the same reply each round, once three rounds are seen', () => {
      const detector = createLoopDetector();
      const messages = [user('Fix the build.')];
      const verdicts: LoopVerdict[] = [];
      for (let attempt = 1; attempt <= 4; attempt++) {
        if (attempt > 1) messages.push(assistant('I will try a different fix for the type error.'));
        messages.push(user(`Attempt ${attempt}: the build still fails. ${buildError}`));
        verdicts.push(detector.check('session', chat(messages), start + attempt * 2000));
      }
      // The first request has no reply before its new turn; rounds 2, 3 and 4 share their shape.
      expect(kindsOf(verdicts)).toEqual(['none', 'none', 'none', 'near-duplicate']);
    });

    it('stops counting once the attempts are further apart than the window', () => {
      const detector = createLoopDetector({ windowSeconds: 60 });
      const history = [user('Fix the build.'), assistant('Done.')];
      const verdicts = [1, 2, 3].map((attempt) =>
        detector.check(
          'session',
          chat([...history, user(`Attempt ${attempt}: ${buildError}`)]),
          start + attempt * 61_000,
        ),
      );
      expect(kindsOf(verdicts)).toEqual(['none', 'none', 'none']);
    });
  });

  describe('when consecutive requests ask different questions', () => {
    it('flags nothing, even with a shared long history', () => {
      const detector = createLoopDetector({ similarity: 0.8 });
      const messages = [
        user('I am planning a trip to Japan in April.'),
        assistant('Great, cherry blossom season!'),
      ];
      const questions = [
        'What should I pack for the weather in Kyoto?',
        'What should I pack for the weather in Sapporo?',
        'How do I get from Tokyo to Osaka by train?',
        'How do I get from Osaka to Hiroshima by train?',
        'Which temples in Kyoto open early in the morning?',
      ];
      const verdicts = questions.map((question, index) => {
        messages.push(user(question));
        const verdict = detector.check('session', chat(messages), start + index * 1000);
        messages.push(assistant(`Here is what I suggest about: ${question}`));
        return verdict;
      });
      expect(kindsOf(verdicts)).toEqual(['none', 'none', 'none', 'none', 'none']);
    });

    it('flags nothing when identical tool outputs are separated by different edits', () => {
      const detector = createLoopDetector();
      const messages = [user('Make the tests pass.')];
      const verdicts: LoopVerdict[] = [];
      for (let round = 1; round <= 4; round++) {
        toolStep(messages, [
          ['edit_file', JSON.stringify({ path: 'src/sum.ts', patch: `variant ${'abcd'[round - 1]}` }), 'ok'],
        ]);
        verdicts.push(detector.check('session', chat(messages), start + round * 4000));
        toolStep(messages, [
          ['run_command', '{"command":"pnpm test"}', 'FAIL src/sum.test.ts > adds: expected 3, got 4'],
        ]);
        verdicts.push(detector.check('session', chat(messages), start + round * 4000 + 2000));
      }
      expect(verdicts.filter((verdict) => verdict.loop)).toEqual([]);
    });
  });

  describe('when the model repeats a tool call', () => {
    it('flags the third identical call with the same result, not the second', () => {
      const detector = createLoopDetector();
      const messages = [user('What does a.txt say?')];
      const verdicts: LoopVerdict[] = [];
      for (let call = 1; call <= 3; call++) {
        toolStep(messages, [['read_file', '{"path":"a.txt"}', 'The quick brown fox.']]);
        // A distinct session per request: only the content of this one request is judged.
        verdicts.push(detector.check(`session-${call}`, chat(messages), start));
      }
      expect(kindsOf(verdicts)).toEqual(['none', 'none', 'tool-call-loop']);
      expect(verdicts[2]).toMatchObject({ count: 3 });
      expect(verdicts[2]?.loop && verdicts[2].message).toBe(
        'The model called read_file {"path":"a.txt"} 3 times in a row and got the same result each time.',
      );
    });

    it('flags nothing when the same tool is called with different arguments', () => {
      const detector = createLoopDetector();
      const messages = [user('Which packages of the monorepo lack a changelog?')];
      // Every package folder lists the same long set of files: the results alone look alike.
      const listing = [
        'package.json',
        'README.md',
        'tsconfig.json',
        'tsup.config.ts',
        'vitest.config.ts',
        'src/',
        'bench/',
      ]
        .concat(Array.from({ length: 80 }, (_, file) => `src/module-${file.toString(36)}.ts`))
        .join('\n');
      const verdicts: LoopVerdict[] = [];
      for (const [index, folder] of ['core', 'proxy', 'killswitch', 'memory', 'mcp-git', 'rem'].entries()) {
        toolStep(messages, [['list_dir', JSON.stringify({ path: `packages/${folder}` }), listing]]);
        verdicts.push(detector.check('session', chat(messages), start + index * 1000));
      }
      expect(verdicts.filter((verdict) => verdict.loop)).toEqual([]);
    });

    it('flags nothing when the same call gets a different answer each time (progress)', () => {
      const detector = createLoopDetector();
      const messages = [user('Wait for the deployment.')];
      const verdicts: LoopVerdict[] = [];
      for (const [index, status] of ['queued', 'building', 'testing', 'deploying', 'done'].entries()) {
        toolStep(messages, [['job_status', '{"job":"deploy-7"}', `status: ${status}`]]);
        verdicts.push(detector.check('session', chat(messages), start + index * 5000));
      }
      expect(verdicts.filter((verdict) => verdict.loop)).toEqual([]);
    });

    it('flags a two-step cycle repeated three times', () => {
      const detector = createLoopDetector();
      const messages = [user('Fix the lint error.')];
      const verdicts: LoopVerdict[] = [];
      for (let round = 0; round < 3; round++) {
        toolStep(messages, [['edit_file', '{"path":"a.ts","patch":"let -> const"}', 'ok']]);
        verdicts.push(detector.check(`session-${round}-edit`, chat(messages), start));
        toolStep(messages, [['run_command', '{"command":"pnpm lint"}', 'a.ts:3 prefer-const']]);
        verdicts.push(detector.check(`session-${round}-lint`, chat(messages), start));
      }
      expect(kindsOf(verdicts)).toEqual(['none', 'none', 'none', 'none', 'none', 'tool-call-loop']);
      expect(verdicts[5]?.loop && verdicts[5].message).toMatch(
        /edit_file .* -> run_command .* 3 times in a row/,
      );
    });

    it('flags nothing once a person has written after the repeated calls', () => {
      const detector = createLoopDetector();
      const messages = [user('What does a.txt say?')];
      for (let call = 0; call < 3; call++) toolStep(messages, [['read_file', '{"path":"a.txt"}', 'fox']]);
      messages.push(assistant('It says fox.'), user('Thanks. Now read b.txt.'));
      expect(detector.check('session', chat(messages), start).loop).toBe(false);
    });
  });

  describe('when upstream errors pile up', () => {
    it('flags the request after the fifth error in the window as a retry storm', () => {
      const detector = createLoopDetector();
      for (let error = 0; error < 4; error++) detector.recordError('session', start + error * 1000);
      expect(detector.check('session', chat([user('first')]), start + 4500).loop).toBe(false);
      detector.recordError('session', start + 5000);
      const verdict = detector.check('session', chat([user('second')]), start + 6000);
      expect(verdict).toMatchObject({ loop: true, kind: 'retry-storm', count: 5 });
    });

    it('forgets errors older than the window', () => {
      const detector = createLoopDetector({ windowSeconds: 10 });
      for (let error = 0; error < 5; error++) detector.recordError('session', start + error * 1000);
      expect(detector.check('session', chat([user('again')]), start + 10_500).loop).toBe(false);
    });
  });

  describe('when a session sends too many requests', () => {
    const question = (index: number): string =>
      `Tell me about the ${index.toString(26).replace(/\d/g, (digit) => 'qrstuvwxyz'[Number(digit)] ?? '')} topic`;

    it('lets 120 through within a minute and flags the 121st', () => {
      const detector = createLoopDetector();
      const verdicts = Array.from({ length: 121 }, (_, index) =>
        detector.check('session', chat([user(question(index))]), start + index * 400),
      );
      expect(verdicts.slice(0, 120).filter((verdict) => verdict.loop)).toEqual([]);
      expect(verdicts[120]).toMatchObject({ loop: true, kind: 'velocity', count: 121 });
    });

    it('flags nothing at the same count spread over more than a minute', () => {
      const detector = createLoopDetector();
      const verdicts = Array.from({ length: 200 }, (_, index) =>
        detector.check('session', chat([user(question(index))]), start + index * 501),
      );
      expect(verdicts.filter((verdict) => verdict.loop)).toEqual([]);
    });
  });

  describe('when a session is reset', () => {
    const request = chat([user('Summarise the open issues.')]);
    const twice = (detector: LoopDetector, session: string): void => {
      detector.check(session, request, start);
      detector.check(session, request, start + 1);
    };

    it('forgets one session and keeps the others', () => {
      const detector = createLoopDetector();
      twice(detector, 'a');
      twice(detector, 'b');
      detector.reset('a');
      expect(detector.check('a', request, start + 2).loop).toBe(false);
      expect(detector.check('b', request, start + 2)).toMatchObject({ loop: true, kind: 'exact-repeat' });
    });

    it('forgets every session when called without a key', () => {
      const detector = createLoopDetector();
      twice(detector, 'a');
      twice(detector, 'b');
      detector.reset();
      expect(detector.check('a', request, start + 2).loop).toBe(false);
      expect(detector.check('b', request, start + 2).loop).toBe(false);
    });
  });

  describe('when more than 10,000 sessions are active', () => {
    it('forgets the least recently used one', () => {
      const detector = createLoopDetector();
      const request = chat([user('Summarise the open issues.')]);
      twice(detector, 'kept');
      twice(detector, 'evicted');
      detector.check('kept', chat([user('something else')]), start + 2);
      for (let session = 0; session < 9_999; session++)
        detector.check(`other-${session}`, request, start + 3);
      expect(detector.check('kept', request, start + 4)).toMatchObject({ loop: true, kind: 'exact-repeat' });
      expect(detector.check('evicted', request, start + 4).loop).toBe(false);

      function twice(target: LoopDetector, session: string): void {
        target.check(session, request, start);
        target.check(session, request, start + 1);
      }
    });
  });

  describe('when options are out of range', () => {
    it('throws KILLSWITCH_INVALID_OPTIONS naming the field', () => {
      for (const options of [
        { repeats: 1 },
        { similarity: 1.5 },
        { windowSeconds: 0 },
        { retryStormErrors: 0 },
      ]) {
        let caught: unknown;
        try {
          createLoopDetector(options);
        } catch (error) {
          caught = error;
        }
        expect(BallastError.isInstance(caught) && caught.code).toBe('KILLSWITCH_INVALID_OPTIONS');
        expect((caught as Error).message).toContain(Object.keys(options)[0]);
      }
    });
  });

  describe('when a tool-using agent works normally', () => {
    it('flags nothing over a realistic session, SDK retries included', () => {
      const detector = createLoopDetector();
      const messages = [user('The CI is red on main. Find out why and fix it.')];
      const verdicts: LoopVerdict[] = [];
      let now = start;
      const send = (): void => {
        now += 1500;
        verdicts.push(detector.check('agent-run-1', chat(messages, { temperature: 0, stream: true }), now));
      };
      const steps: Array<Array<[string, string, string]>> = [
        [['list_dir', '{"path":"."}', 'package.json\nsrc\ntest\ntsconfig.json\nREADME.md']],
        [
          [
            'read_file',
            '{"path":"package.json"}',
            '{"name":"calc","scripts":{"test":"vitest run","build":"tsc"}}',
          ],
        ],
        [
          [
            'run_command',
            '{"command":"pnpm build"}',
            'src/sum.ts(4,3): error TS2322: Type string is not assignable to type number.',
          ],
        ],
        [
          [
            'read_file',
            '{"path":"src/sum.ts"}',
            'export function sum(a: number, b: number): number {\n  return String(a) + String(b);\n}',
          ],
        ],
        [
          ['read_file', '{"path":"test/sum.test.ts"}', "it('adds', () => expect(sum(1, 2)).toBe(3));"],
          ['grep', '{"pattern":"sum(","path":"src"}', 'src/index.ts:3 export { sum }'],
        ],
        [
          [
            'edit_file',
            '{"path":"src/sum.ts","old":"String(a) + String(b)","new":"a + b"}',
            'ok: 1 replacement',
          ],
        ],
        [['run_command', '{"command":"pnpm build"}', 'done in 1.2s']],
        [['run_command', '{"command":"pnpm test"}', 'FAIL test/mul.test.ts > multiplies: expected 6, got 5']],
        [['read_file', '{"path":"src/mul.ts"}', 'export const mul = (a: number, b: number) => a + b + 1;']],
        [['edit_file', '{"path":"src/mul.ts","old":"a + b + 1","new":"a * b"}', 'ok: 1 replacement']],
        [['run_command', '{"command":"pnpm test"}', 'Tests 12 passed (12)']],
        [
          [
            'read_file',
            '{"path":"src/sum.ts"}',
            'export function sum(a: number, b: number): number {\n  return a + b;\n}',
          ],
        ],
        [['run_command', '{"command":"git diff --stat"}', ' src/mul.ts | 2 +-\n src/sum.ts | 2 +-']],
      ];
      for (const [index, step] of steps.entries()) {
        toolStep(messages, step);
        send();
        if (index === 7) {
          // The upstream failed twice; the SDK re-sent the identical request each time.
          detector.recordError('agent-run-1', now + 200);
          send();
          detector.recordError('agent-run-1', now + 200);
          send();
        }
      }
      messages.push(assistant('Fixed: sum concatenated strings and mul added instead of multiplying.'));
      messages.push(user('Thanks. Please also add a changelog entry.'));
      send();
      toolStep(messages, [
        ['read_file', '{"path":"CHANGELOG.md"}', '# Changelog\n\n## 1.0.0\n- first release'],
      ]);
      send();
      toolStep(messages, [
        [
          'edit_file',
          '{"path":"CHANGELOG.md","old":"# Changelog\\n","new":"# Changelog\\n\\n## 1.0.1\\n- fix sum and mul\\n"}',
          'ok',
        ],
      ]);
      send();
      expect(verdicts).toHaveLength(18);
      expect(verdicts.filter((verdict) => verdict.loop)).toEqual([]);
    });
  });

  describe('when replaying real conversations (LoCoMo)', () => {
    it.skipIf(!locomoFile)(`raises no verdict with the default options${locomoSkipNote}`, () => {
      const tally = replayLocomo(createLoopDetector());
      expect(tally.flags).toEqual([]);
      expect(tally.chats).toBeGreaterThanOrEqual(20);
      expect(tally.checks).toBeGreaterThan(2000);
    });

    it.skipIf(!locomoFile)(`raises no verdict with a stricter similarity of 0.9${locomoSkipNote}`, () => {
      const tally = replayLocomo(createLoopDetector({ similarity: 0.9 }));
      expect(tally.flags).toEqual([]);
      expect(tally.chats).toBeGreaterThanOrEqual(20);
      expect(tally.checks).toBeGreaterThan(2000);
    });
  });
});
