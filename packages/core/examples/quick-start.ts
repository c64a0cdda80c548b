import { convertRequest, costOf, countRequestTokens, parseRequest, worstCaseCost } from '@ballast/core';

// An Anthropic request, as an agent would send it...
const anthropicBody = {
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  system: 'You are terse.',
  messages: [{ role: 'user', content: 'Name three prime numbers.' }],
};

// ...served by an OpenAI-compatible provider instead.
const openaiBody = convertRequest('anthropic', 'openai', anthropicBody);
console.log(openaiBody.messages[0]); // { role: 'system', content: 'You are terse.' }

// What it may cost at most, before it is sent, and what a finished call cost.
const request = parseRequest('anthropic', anthropicBody);
console.log(countRequestTokens(request)); // { tokens: ..., exact: false, encoding: 'o200k_base', factor: 1.35 }
console.log(worstCaseCost(request).usd); // input at the uncached price + 1024 output tokens
console.log(costOf('gpt-4o', { inputTokens: 1200, cachedInputTokens: 1024, outputTokens: 300 }));
