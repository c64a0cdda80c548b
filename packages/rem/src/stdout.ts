import { fstatSync, writeSync } from 'node:fs';

// The CLI writes its output with writeSync on fd 1 rather than process.stdout: creating that stream
// loads net and the stream modules, ~3 ms of every command when stdout is a pipe (an agent's case).

let terminal: boolean | undefined;

/**
 * Whether standard output is a terminal. Only a character device can be one, and only then is
 * process.stdout (a tty stream) made to ask.
 * @returns true for a TTY
 */
export function stdoutIsTerminal(): boolean {
  if (terminal === undefined) {
    let characterDevice = false;
    try {
      // bigint: a plain stat of a pipe leaves the FIFO mode in fs's shared stat array, and
      // realpathSync then stops resolving symlinks (nodejs/node#51142): under pnpm, `rem mcp`
      // could no longer find the MCP SDK's own dependencies. A bigint stat uses another array.
      characterDevice = fstatSync(1, { bigint: true }).isCharacterDevice();
    } catch {
      // fd 1 closed: not a terminal.
    }
    terminal = characterDevice && process.stdout.isTTY === true;
  }
  return terminal;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `text` to standard output before returning. When the reader has gone (`rem ls |
 * head`) the process ends quietly with its exit code, as a closed pipe is not an error.
 * @param text what to write
 */
export function writeStdout(text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(1, bytes, offset);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        // A non-blocking pipe that is full: wait for the reader a little and try again.
        Atomics.wait(pause, 0, 0, 1);
        continue;
      }
      if (code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    }
  }
}
