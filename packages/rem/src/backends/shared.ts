import { RemError } from '../errors.js';

/**
 * The error for a list name that does not exist, naming the lists that do.
 * @param given the name asked for
 * @param known the names that exist
 * @returns a REM_UNKNOWN_LIST error
 */
export function unknownListError(given: string, known: string[]): RemError {
  const hint =
    known.length === 0
      ? `there are no lists yet; create one with: rem lm create "${given}"`
      : `lists are: ${known.join(', ')} (or create it with: rem lm create "${given}")`;
  return new RemError('REM_UNKNOWN_LIST', `no list "${given}"; ${hint}`, {
    details: { given, known },
  });
}
