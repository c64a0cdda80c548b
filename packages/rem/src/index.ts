export { createMemoryBackend, type MemoryBackendOptions } from './backends/memory.js';
export { completionScript, type Shell } from './completion.js';
export { type ParsedDue, parseDue, toLocalIso } from './dates.js';
export { isUsageError, RemError, type RemErrorCode } from './errors.js';
export {
  type BackendKind,
  defaultVdirPath,
  type OpenBackendOptions,
  openBackend,
} from './open-backend.js';
export {
  type AddReminderInput,
  type CompleteResult,
  createReminders,
  type DueInput,
  type ImportResult,
  type ListFilter,
  type ListSummary,
  parsePriority,
  parseRepeat,
  priorityLabel,
  type ReminderStats,
  type Reminders,
  type RemindersOptions,
  shortId,
  type UpdateReminderInput,
} from './reminders.js';
export {
  detectFormat,
  type ImportEntry,
  parseCsv,
  parseImport,
  type TransferFormat,
  toCsv,
  toIcs,
} from './transfer.js';
export type {
  BackendCapabilities,
  NewReminderRecord,
  PriorityLabel,
  Reminder,
  ReminderBackend,
  ReminderList,
  ReminderRecord,
} from './types.js';
