import { execFile } from 'node:child_process';
import { delimiter, join } from 'node:path';

/**
 * Runs `node --import tsx -e <code>` (an ES module) in a package's folder, with that package's
 * `node_modules/.bin` on PATH: how tests start several processes that share a file or a server.
 * @param packageDirectory where to run (the package whose dependencies the code imports)
 * @param code the module's source
 * @param environment variables added to the current environment
 * @returns what the process printed on stdout
 * @throws when it exits non-zero or runs past 30 s, with its stderr
 */
export function runNodeScript(
  packageDirectory: string,
  code: string,
  environment: Record<string, string>,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', code],
      {
        cwd: packageDirectory,
        env: {
          ...process.env,
          ...environment,
          PATH: `${join(packageDirectory, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`,
        },
        timeout: 30_000,
      },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}
