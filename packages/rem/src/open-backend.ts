import { homedir } from 'node:os';
import { join } from 'node:path';
import { RemError } from './errors.js';
import type { ReminderBackend } from './types.js';

/** The backends `rem` knows. */
export type BackendKind = 'vdir' | 'caldav' | 'eventkit' | 'memory';

const KINDS: readonly BackendKind[] = ['vdir', 'caldav', 'eventkit', 'memory'];

/** Options of {@link openBackend}; unset fields fall back to the environment. */
export interface OpenBackendOptions {
  /** @default REM_BACKEND, else eventkit on macOS and vdir elsewhere */
  kind?: string;
  /** vdir folder. @default REM_VDIR, else $XDG_DATA_HOME/rem (~/.local/share/rem) */
  vdir?: string;
  /** CalDAV URL. @default REM_CALDAV_URL */
  caldavUrl?: string;
  /** @default REM_CALDAV_USER */
  caldavUser?: string;
  /** @default REM_CALDAV_PASSWORD */
  caldavPassword?: string;
  /** Where discovery and compiled helpers are cached. @default $XDG_CACHE_HOME/rem */
  cacheDir?: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}

/**
 * The vdir folder `rem` uses when none is given.
 * @param env the environment
 * @returns REM_VDIR, else $XDG_DATA_HOME/rem, else ~/.local/share/rem
 */
export function defaultVdirPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REM_VDIR) return env.REM_VDIR;
  const dataHome = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(dataHome, 'rem');
}

function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'rem');
}

/**
 * Opens the backend named by options or the environment, loading only its code.
 * @param options kind, paths and credentials; the environment fills the rest
 * @returns the opened backend
 * @throws RemError REM_INVALID_INPUT for an unknown kind or a missing CalDAV URL;
 *   REM_BACKEND_UNAVAILABLE when the backend cannot run here
 */
export async function openBackend(options: OpenBackendOptions = {}): Promise<ReminderBackend> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const kind = options.kind ?? env.REM_BACKEND ?? (platform === 'darwin' ? 'eventkit' : 'vdir');
  if (!KINDS.includes(kind as BackendKind)) {
    throw new RemError('REM_INVALID_INPUT', `backend "${kind}" is not one of ${KINDS.join(', ')}`, {
      details: { field: 'backend', given: kind, known: KINDS },
    });
  }
  const cacheDir = options.cacheDir ?? defaultCacheDir(env);
  switch (kind as BackendKind) {
    case 'vdir': {
      const { createVdirBackend } = await import('./backends/vdir.js');
      return createVdirBackend({ root: options.vdir ?? defaultVdirPath(env) });
    }
    case 'caldav': {
      const url = options.caldavUrl ?? env.REM_CALDAV_URL;
      if (!url) {
        throw new RemError(
          'REM_INVALID_INPUT',
          'the caldav backend needs a server URL: set REM_CALDAV_URL (and REM_CALDAV_USER, REM_CALDAV_PASSWORD) or pass --caldav-url',
          { details: { field: 'caldavUrl' } },
        );
      }
      const { createCaldavBackend } = await import('./backends/caldav.js');
      const username = options.caldavUser ?? env.REM_CALDAV_USER;
      const password = options.caldavPassword ?? env.REM_CALDAV_PASSWORD;
      return createCaldavBackend({
        url,
        cacheDir,
        ...(username ? { username } : {}),
        ...(password ? { password } : {}),
      });
    }
    case 'eventkit': {
      const { createEventKitBackend } = await import('./backends/eventkit.js');
      return createEventKitBackend({ cacheDir, platform });
    }
    case 'memory': {
      const { createMemoryBackend } = await import('./backends/memory.js');
      return createMemoryBackend();
    }
  }
}
