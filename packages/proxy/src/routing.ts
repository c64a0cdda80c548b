import type { RouteConfig, TargetConfig } from './config.js';

/** A route with its glob compiled. */
export interface CompiledRoute {
  match: string;
  pattern: RegExp;
  targets: TargetConfig[];
}

/**
 * Compiles a model-name glob: `*` matches any run of characters, `?` one character.
 * @param glob e.g. `gpt-4o*` or `claude-*`
 * @returns an anchored regular expression
 */
export function compileGlob(glob: string): RegExp {
  const source = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`);
}

/** Compiles every route once, at startup. */
export function compileRoutes(routes: readonly RouteConfig[]): CompiledRoute[] {
  return routes.map((route) => ({
    match: route.match,
    pattern: compileGlob(route.match),
    targets: route.targets,
  }));
}

/**
 * The first route whose glob matches the model.
 * @param routes compiled routes, in config order
 * @param model the model the client asked for
 * @returns the route, or undefined when none matches
 */
export function findRoute(routes: readonly CompiledRoute[], model: string): CompiledRoute | undefined {
  return routes.find((route) => route.pattern.test(model));
}

/**
 * The order in which a request tries a route's targets. Without weights, config order. With
 * weights, targets are drawn one after another with probability proportional to their weight
 * (weight 0 only after all others), so load spreads while every target remains a fallback.
 * @param targets the route's targets
 * @param random a source of numbers in [0, 1) @default Math.random
 * @returns the targets in the order to try them
 */
export function orderTargets(
  targets: readonly TargetConfig[],
  random: () => number = Math.random,
): TargetConfig[] {
  if (!targets.some((target) => target.weight !== undefined)) return [...targets];
  const pool = targets.map((target) => ({ target, weight: target.weight ?? 1 }));
  const ordered: TargetConfig[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((sum, entry) => sum + entry.weight, 0);
    let index = 0;
    if (total > 0) {
      let pick = random() * total;
      index = pool.findIndex((entry) => {
        pick -= entry.weight;
        return pick < 0;
      });
      if (index < 0) index = pool.length - 1;
    }
    const [chosen] = pool.splice(index, 1);
    if (chosen) ordered.push(chosen.target);
  }
  return ordered;
}
