import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A VCALENDAR holding one VTODO with these content lines, CRLF endings. */
export function wrapVtodo(...lines: string[]): string {
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//test//EN',
    'BEGIN:VTODO',
    ...lines,
    'END:VTODO',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}

/** Debian's todoman binary. */
export const TODOMAN = '/usr/bin/todoman';

/** Whether tests that run todoman should be skipped: it is missing and CI did not ask for it. */
export const skipWithoutTodoman = !existsSync(TODOMAN) && process.env.BALLAST_REQUIRE_TODOMAN !== '1';

/** Appended to the name of a test that runs todoman, so a skip says why. */
export const todomanSkipReason = existsSync(TODOMAN) ? '' : ' (skipped: apt-get install todoman to run it)';

/**
 * Runs `test` with a temp vdir holding one list, `work`, and a todoman configured on it; the
 * folder is removed afterwards.
 */
export function withTodoman(
  test: (vdir: { listPath: string; todo: (...args: string[]) => string }) => void,
): void {
  const root = mkdtempSync(join(tmpdir(), 'rem-todoman-'));
  try {
    const listPath = join(root, 'work');
    mkdirSync(listPath);
    const config = join(root, 'config.py');
    writeFileSync(
      config,
      `path = "${root}/*"\ndate_format = "%Y-%m-%d"\ntime_format = "%H:%M"\ndefault_list = "work"\n`,
    );
    const env = { ...process.env, HOME: root, XDG_CACHE_HOME: join(root, 'cache') };
    test({
      listPath,
      todo: (...args) => execFileSync(TODOMAN, ['--config', config, ...args], { env, encoding: 'utf8' }),
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
