export { type GitResult, type GitRunOptions, git, gitEnvironment, runGit, safetyConfig } from './git.js';
export { assertSafeName, isWithin, type Repository, RepositoryGuard } from './guard.js';
export { type HttpEndpoint, type HttpServeOptions, serveHttp } from './http.js';
export { allTools, createGitMcpServer, type GitMcpServer, type GitMcpServerOptions } from './server.js';
export type { Permissions, Tier, ToolAnswer, ToolContext, ToolDefinition } from './tool.js';
export { looksSecret } from './tools/reference.js';
