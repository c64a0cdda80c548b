import { createTsupConfig } from '@ballast/tsup-config';
export default createTsupConfig({ entry: ['src/index.ts'], external: ['graphql'] });
