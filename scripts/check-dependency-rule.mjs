#!/usr/bin/env node
// Enforces the dependency rule of ARCHITECTURE.md:
//   core <- {proxy, killswitch, memory, mcp-git, graphql-client, rem} <- apps/demo
// A feature package may depend on @ballast/core only; core on no @ballast package;
// apps may depend on anything. The private test doubles (@ballast/mock-provider, the fake LLM
// provider, and @ballast/mock-hasura, a Hasura-shaped GraphQL server) may be devDependencies of
// anything, and are importable from tests and benches only.
// Checked in package.json and in import specifiers.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const TEST_DOUBLES = new Set(['@ballast/mock-provider', '@ballast/mock-hasura']);
const problems = [];

function packagesIn(folder) {
  const dir = join(root, folder);
  let names = [];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((name) => join(dir, name))
    .filter((path) => {
      try {
        return statSync(join(path, 'package.json')).isFile();
      } catch {
        return false;
      }
    });
}

function allowedFor(manifest, folder) {
  if (folder === 'apps' || manifest.name === '@ballast/integration-tests') return () => true;
  if (manifest.name === '@ballast/core')
    return (dep) => dep === '@ballast/tsconfig' || dep === '@ballast/tsup-config';
  return (dep) => dep === '@ballast/core' || dep === '@ballast/tsconfig' || dep === '@ballast/tsup-config';
}

function sourceFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(m?ts|m?js|tsx)$/.test(entry.name)) out.push(path);
  }
  return out;
}

for (const folder of ['packages', 'apps']) {
  for (const dir of packagesIn(folder)) {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const allowed = allowedFor(manifest, folder);
    const deps = {
      ...manifest.dependencies,
      ...manifest.devDependencies,
      ...manifest.peerDependencies,
      ...manifest.optionalDependencies,
    };
    const testOnly = (dep) => TEST_DOUBLES.has(dep) && manifest.devDependencies?.[dep] !== undefined;
    for (const dep of Object.keys(deps)) {
      if (dep.startsWith('@ballast/') && !allowed(dep) && !testOnly(dep)) {
        problems.push(`${manifest.name} depends on ${dep} (package.json)`);
      }
    }
    for (const file of sourceFiles(dir)) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(
        /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](@ballast\/[^'"/]+)/g,
      )) {
        const dep = match[1];
        const inTests = /\.test\.ts$|test-|\/bench\//.test(file);
        if (dep !== manifest.name && !allowed(dep) && !(testOnly(dep) && inTests)) {
          problems.push(`${relative(root, file)} imports ${dep}`);
        }
      }
    }
  }
}

if (problems.length > 0) {
  console.error(
    'Dependency rule broken (feature packages may import @ballast/core only; see ARCHITECTURE.md):',
  );
  for (const problem of problems) console.error(`  - ${problem}`);
  process.exit(1);
}
console.log('dependency rule: ok');
