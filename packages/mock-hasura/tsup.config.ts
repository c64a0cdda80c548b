import { createTsupConfig } from '@ballast/tsup-config';
// graphql-http is bundled so its `import 'graphql'` resolves like ours under any loader (Node picks graphql's
// CJS build, Vite its ESM build); two graphql copies refuse each other's schemas.
export default createTsupConfig({ noExternal: [/^graphql-http/] });
