// The whole public surface of @ballast/killswitch.
export { type Alerter, createAlerter } from './alerts.js';
export { type GuardedFetch, type GuardFetchOptions, guardFetch } from './guard-fetch.js';
export {
  canonicalForm,
  createLoopDetector,
  type LoopDetector,
  type LoopKind,
  type LoopOptions,
  type LoopVerdict,
} from './loop-detector.js';
export {
  type AlertConfig,
  type BudgetConfig,
  type BudgetScope,
  type BudgetWindow,
  type KillswitchOptions,
  parseKillswitchOptions,
  windowBucket,
} from './options.js';
export {
  createKillswitch,
  default,
  type Killswitch,
  type KillswitchHost,
  type SessionSummary,
} from './plugin.js';
export { createKillswitchStore } from './store/index.js';
export type {
  CounterChange,
  KillEvent,
  KillRecord,
  KillswitchStore,
  KillTarget,
  LedgerEntry,
  ReserveOutcome,
  StoreConfig,
} from './store/types.js';
