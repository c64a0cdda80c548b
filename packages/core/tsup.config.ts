import { createTsupConfig } from '@ballast/tsup-config';
export default createTsupConfig();
