import type { AnyTool } from '../tool.js';

/** Local-write, destructive and network tools beyond the reference twelve. */
export const writeTools: AnyTool[] = [];
