import { createTsupConfig } from '@ballast/tsup-config';

// `@ballast/core/errors` is BallastError alone, for a CLI that must start fast (rem) and has no use
// for the token counter and price table. Split, so both entries share one BallastError class.
export default createTsupConfig({ entry: ['src/index.ts', 'src/errors.ts'], splitting: true });
