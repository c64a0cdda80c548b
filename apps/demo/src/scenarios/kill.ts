import { countTextTokens } from '@ballast/core';
import OpenAI from 'openai';
import { denialOf, gatewayHeaders } from '../agent.js';
import type { Scenario } from '../scenario.js';
import { MODELS } from '../stack.js';

const SESSION = 'demo-5-essay';
const AGENT = 'writer-bot';
const CHUNKS = 80;
const CHUNK_DELAY_MS = 30;
const KILL_AFTER_CHUNKS = 10;

const ESSAY = Array.from(
  { length: 16 },
  (_, index) =>
    `Paragraph ${index + 1}: the shop's back office grew one module at a time, and each module kept its own rules for approvals, currencies and refunds.`,
).join(' ');

/** Scenario 5: an operator kills a session while its answer is streaming. */
export const killScenario: Scenario = {
  number: 5,
  key: 'kill',
  title: 'Operator kill',
  why: '@ballast/killswitch: POST /admin/kill ends the session’s stream mid-flight, in the client’s SSE dialect.',
  async run(context) {
    const { stack } = context;
    if (stack.live) context.reporter.note('runs on the mock providers: it needs a slow stream on cue');
    stack.primary.reset();
    stack.primary.script({ kind: 'text', text: ESSAY, chunkCount: CHUNKS, chunkDelayMs: CHUNK_DELAY_MS });
    const client = stack.openai(SESSION, AGENT);
    const started = performance.now();
    const { data: stream, response } = await client.chat.completions
      .create({
        model: MODELS.main,
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'Write a long history of the shop’s back office.' }],
      })
      .withResponse();
    const provider = gatewayHeaders(response.headers).provider;
    context.step(
      provider === 'primary',
      `stream opened via ${provider}; ${CHUNKS} chunks due, one every ${CHUNK_DELAY_MS} ms`,
      performance.now() - started,
    );
    let chunks = 0;
    let killedAt: number | undefined;
    let killStatus = 0;
    let streamError: unknown;
    try {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta?.content) chunks += 1;
        if (chunks === KILL_AFTER_CHUNKS && killedAt === undefined) {
          killedAt = performance.now();
          const answer = await stack.admin('/admin/kill', {
            session: SESSION,
            reason: 'demo: operator stop',
          });
          killStatus = answer.status;
          context.step(
            answer.ok,
            `operator: POST /admin/kill {"session":"${SESSION}"} → ${answer.status}`,
            performance.now() - killedAt,
          );
        }
      }
    } catch (error) {
      streamError = error;
    }
    const endedAt = performance.now();
    const killToEnd = killedAt === undefined ? Number.NaN : endedAt - killedAt;
    const code =
      streamError instanceof OpenAI.APIError
        ? String(streamError.code ?? (streamError.error as { code?: string } | undefined)?.code)
        : String(streamError);
    context.step(
      streamError !== undefined,
      `stream ended after ${chunks} of ${CHUNKS} chunks with an error event: ${code}`,
      endedAt - started,
    );

    context.check('the kill was accepted', killStatus === 200, String(killStatus));
    context.check(
      'the client saw the stream end with an error event (code killed)',
      streamError instanceof OpenAI.APIError && code === 'killed',
      code,
    );
    context.check(
      `the stream was cut early: ${chunks} of ${CHUNKS} chunks, ${Math.round(killToEnd)} ms after the kill`,
      chunks >= KILL_AFTER_CHUNKS && chunks < CHUNKS / 2 && killToEnd < 1000,
      `${chunks} chunks, ${Math.round(killToEnd)} ms`,
    );
    let aborted = false;
    try {
      await stack.primary.waitForAborts(1, 2000);
      aborted = true;
    } catch {
      aborted = false;
    }
    context.check('the upstream call was aborted too (the provider stopped generating)', aborted);

    let followUp: ReturnType<typeof denialOf>;
    try {
      await client.chat.completions.create({
        model: MODELS.main,
        messages: [{ role: 'user', content: 'Continue.' }],
      });
    } catch (error) {
      followUp = denialOf(error);
    }
    context.check(
      'the next call of the session is refused: 403 killed',
      followUp?.status === 403 && followUp.code === 'killed',
      `${followUp?.status} ${followUp?.code}`,
    );

    const ledger = (await stack.spend()).get(SESSION);
    const fullUsd = stack.pricing.costOf(MODELS.main, {
      inputTokens: ledger?.inputTokens ?? 0,
      outputTokens: countTextTokens(ESSAY, 'gpt-4o'),
    });
    context.check(
      'only the streamed part was billed',
      ledger !== undefined && ledger.usd > 0 && ledger.usd < fullUsd / 2,
      `$${ledger?.usd.toFixed(6)} of $${fullUsd.toFixed(6)}`,
    );
    return {
      outcome: `stream cut at chunk ${chunks}/${CHUNKS}, ${Math.round(killToEnd)} ms after kill`,
      calls: 2,
      sessions: [SESSION],
      usdSaved: fullUsd - (ledger?.usd ?? 0),
    };
  },
};
