import type { AnyTool } from '../tool.js';

/** Read-only tools beyond the reference twelve. */
export const readTools: AnyTool[] = [];
