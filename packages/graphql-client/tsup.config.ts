import { createTsupConfig } from '@ballast/tsup-config';
export default createTsupConfig({ entry: ['src/index.ts', 'src/cli.ts'], external: ['graphql'] });
