import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interpolateEnv, loadConfig, parseConfig } from './config.js';

const minimal = {
  providers: [{ name: 'openai', type: 'openai', baseUrl: 'https://api.openai.com/v1/' }],
  routes: [{ match: 'gpt-*', targets: [{ provider: 'openai' }] }],
};

describe('parseConfig', () => {
  describe('when only providers and routes are given', () => {
    it('fills in every default', () => {
      const config = parseConfig(minimal, '/etc/ballast');
      expect(config.server).toEqual({
        host: '127.0.0.1',
        port: 8787,
        bodyLimitBytes: 10 * 1024 * 1024,
        shutdownGraceMs: 10_000,
      });
      expect(config.providers[0]).toMatchObject({
        baseUrl: 'https://api.openai.com/v1',
        firstByteTimeoutMs: 60_000,
        retryAfterMaxMs: 0,
      });
      expect(config.breaker).toEqual({ failureThreshold: 5, windowMs: 30_000, cooldownMs: 30_000 });
      expect(config.baseDir).toBe('/etc/ballast');
    });
  });

  describe('when a value is wrong', () => {
    it.each([
      [
        { ...minimal, providers: [{ name: 'x', type: 'gemini', baseUrl: 'https://x' }] },
        /config providers\[0\]\.type: expected "openai" or "anthropic", got "gemini"/,
      ],
      [
        { ...minimal, routes: [{ match: '*', targets: [{ provider: 'nope' }] }] },
        /routes\[0\]\.targets\[0\]\.provider: expected the name of a configured provider \(openai\)/,
      ],
      [{ ...minimal, server: { port: 'eighty' } }, /server\.port: expected a number >= 0, got "eighty"/],
      [{ ...minimal, server: { prot: 80 } }, /config server\.prot: expected one of the known keys/],
      [
        { ...minimal, providers: [{ name: 'x', type: 'openai', baseUrl: 'ftp://x' }] },
        /providers\[0\]\.baseUrl: expected an http\(s\) URL/,
      ],
      [
        { ...minimal, routes: [{ match: '*', targets: [] }] },
        /routes\[0\]\.targets: expected at least one target/,
      ],
      [{ providers: [] }, /config routes: expected a list, got nothing/],
    ])('names the key and what was expected (%#)', (input, message) => {
      expect(() => parseConfig(input)).toThrow(message);
    });
  });
});

describe('interpolateEnv', () => {
  it('replaces ${VAR} anywhere in the tree', () => {
    expect(interpolateEnv({ a: ['x-${KEY}-y'], b: 3 }, { KEY: 'secret' })).toEqual({
      a: ['x-secret-y'],
      b: 3,
    });
  });

  describe('when a variable is not set', () => {
    it('fails naming the variable and where it is used', () => {
      expect(() => interpolateEnv({ providers: [{ apiKey: '${OPENAI_API_KEY}' }] }, {})).toThrow(
        'config config.providers[0].apiKey uses ${OPENAI_API_KEY}, but the environment variable OPENAI_API_KEY is not set',
      );
    });
  });
});

describe('loadConfig', () => {
  it('reads YAML with env interpolation and resolves from the file folder', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'ballast-config-'));
    const file = join(folder, 'ballast.yaml');
    await writeFile(
      file,
      [
        'server: { port: ${PORT}, adminToken: ${ADMIN} }',
        'providers:',
        '  - { name: openai, type: openai, baseUrl: "https://api.openai.com/v1", apiKey: ${OPENAI_API_KEY_} }',
        'routes:',
        '  - match: "gpt-*"',
        '    targets: [ { provider: openai } ]',
      ].join('\n'),
    );
    const config = await loadConfig(file, { ADMIN: 'admin-token', OPENAI_API_KEY_: 'sk-test', PORT: '0' });
    expect(config.server.port).toBe(0);
    expect(config.server.adminToken).toBe('admin-token');
    expect(config.providers[0]?.apiKey).toBe('sk-test');
    expect(config.baseDir).toBe(folder);
  });

  it('reports invalid YAML with the file name', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'ballast-config-'));
    const file = join(folder, 'bad.yaml');
    await writeFile(file, 'routes: [ { match: ');
    await expect(loadConfig(file)).rejects.toThrow(/bad\.yaml is not valid YAML/);
  });
});
