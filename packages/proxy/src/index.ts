// The whole public surface of @ballast/proxy.
export {
  type BreakerConfig,
  type ClientKeyConfig,
  interpolateEnv,
  loadConfig,
  type PluginConfig,
  type ProviderConfig,
  type ProxyConfig,
  type ProxyConfigInput,
  parseConfig,
  type RouteConfig,
  type TargetConfig,
} from './config.js';
export type { DashboardState, DashboardTotals, ProviderStatus, SpendSeries } from './dashboard.js';
export { type BreakerState, type SkipReason, TargetHealthBook } from './health.js';
export { Counter, Gauge, Histogram, type ProxyMetrics } from './metrics.js';
export { loadPlugins, resolvePlugin } from './plugins.js';
export { type BallastProxy, createProxy, type ProxyOptions } from './proxy.js';
export { compileGlob, findRoute, orderTargets } from './routing.js';
export {
  classifyUpstreamError,
  type FailureKind,
  parseResetDuration,
  resetTimeFrom,
  type UpstreamFailure,
} from './upstream.js';
