import type { BreakerConfig } from './config.js';

/** A circuit breaker's state. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Why a target is being skipped right now, if it is. */
export type SkipReason = 'breaker-open' | 'quota-exhausted' | 'probe-in-flight';

interface TargetHealth {
  failures: number[];
  state: BreakerState;
  openedAt: number;
  probing: boolean;
  exhaustedUntil: number;
}

/**
 * Health of every target (provider + model): a circuit breaker (failures within a window open it;
 * after a cool-down one probe is let through; its success closes the breaker, its failure reopens
 * it) and a quota block (a target whose quota ran out is skipped until its reset time).
 */
export class TargetHealthBook {
  private readonly targets = new Map<string, TargetHealth>();

  /**
   * @param config breaker thresholds
   * @param now the clock @default Date.now
   */
  constructor(
    private readonly config: BreakerConfig,
    private readonly now: () => number = Date.now,
  ) {}

  private entry(key: string): TargetHealth {
    let entry = this.targets.get(key);
    if (!entry) {
      entry = { failures: [], state: 'closed', openedAt: 0, probing: false, exhaustedUntil: 0 };
      this.targets.set(key, entry);
    }
    return entry;
  }

  /** The breaker state of a target, moving an open breaker past its cool-down to half-open. */
  state(key: string): BreakerState {
    const entry = this.entry(key);
    if (entry.state === 'open' && this.now() - entry.openedAt >= this.config.cooldownMs)
      entry.state = 'half-open';
    return entry.state;
  }

  /**
   * Whether to skip a target now; when not, and the breaker is half-open, this call takes the probe.
   * @returns the reason to skip, or undefined to go ahead
   */
  acquire(key: string): SkipReason | undefined {
    const entry = this.entry(key);
    if (entry.exhaustedUntil > this.now()) return 'quota-exhausted';
    const state = this.state(key);
    if (state === 'open') return 'breaker-open';
    if (state === 'half-open') {
      if (entry.probing) return 'probe-in-flight';
      entry.probing = true;
    }
    return undefined;
  }

  /** Records a success: a half-open breaker closes. */
  succeed(key: string): void {
    const entry = this.entry(key);
    entry.failures = [];
    entry.probing = false;
    entry.state = 'closed';
  }

  /** Records a failure: a half-open breaker reopens; a closed one opens at the threshold. */
  fail(key: string): void {
    const entry = this.entry(key);
    const now = this.now();
    entry.probing = false;
    if (entry.state === 'half-open') {
      entry.state = 'open';
      entry.openedAt = now;
      return;
    }
    entry.failures = entry.failures.filter((time) => now - time < this.config.windowMs);
    entry.failures.push(now);
    if (entry.failures.length >= this.config.failureThreshold) {
      entry.state = 'open';
      entry.openedAt = now;
      entry.failures = [];
    }
  }

  /** Releases a probe that was taken but not used (the request ended before reaching the target). */
  release(key: string): void {
    this.entry(key).probing = false;
  }

  /** Skips a target until `until` (epoch ms): its quota or rate limit is exhausted. */
  exhaust(key: string, until: number): void {
    const entry = this.entry(key);
    entry.exhaustedUntil = Math.max(entry.exhaustedUntil, until);
  }

  /** Every known target with its state, for metrics and the dashboard. */
  snapshot(): Array<{ key: string; state: BreakerState; exhaustedUntil: number }> {
    return [...this.targets.keys()].map((key) => ({
      key,
      state: this.state(key),
      exhaustedUntil: this.entry(key).exhaustedUntil,
    }));
  }
}
