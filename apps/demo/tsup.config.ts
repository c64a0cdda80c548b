import { createTsupConfig } from '@ballast/tsup-config';
export default createTsupConfig({ entry: ['src/cli.ts'], dts: false });
