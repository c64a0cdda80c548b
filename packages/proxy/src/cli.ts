#!/usr/bin/env node
import { BallastError, fromPinoLogger } from '@ballast/core';
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { loadConfig } from './config.js';
import { createProxy } from './proxy.js';

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535)
    throw new InvalidArgumentError('expected a port number 0-65535');
  return parsed;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('ballast-proxy')
    .description('An OpenAI- and Anthropic-compatible LLM gateway with quota fallback and plugins.')
    .requiredOption('-c, --config <file>', 'YAML config file (${VAR} is read from the environment)')
    .option('--port <port>', 'override server.port (0 picks a free port)', port)
    .option('--host <host>', 'override server.host')
    .option('--log-level <level>', 'pino log level: fatal, error, warn, info, debug, silent', 'info')
    .showHelpAfterError()
    .parse();
  const options = program.opts<{ config: string; port?: number; host?: string; logLevel: string }>();
  const config = await loadConfig(options.config);
  if (options.port !== undefined) config.server.port = options.port;
  if (options.host !== undefined) config.server.host = options.host;

  // Logs go to stderr as JSON lines; stdout carries only the listening line.
  // Asynchronous writes keep logging off the request path; flushed before exit.
  const log = pino(
    { level: options.logLevel, base: { service: 'ballast-proxy' } },
    pino.destination({ dest: 2, sync: false }),
  );
  const proxy = await createProxy(config, { logger: fromPinoLogger(log) });
  const url = await proxy.listen();
  process.stdout.write(`ballast-proxy listening on ${url}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    proxy.close().then(
      () => {
        log.flush();
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ error: String(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  const message = BallastError.isInstance(error) ? `${error.message} [${error.code}]` : String(error);
  process.stderr.write(`ballast-proxy: ${message}\n`);
  process.exit(1);
});
