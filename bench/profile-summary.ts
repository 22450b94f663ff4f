/**
 * Summarises V8 CPU profiles (`npm run bench -- --profile` writes them): self time by package or source
 * module, and the top functions. Time in an unminified esbuild bundle is attributed to the source module
 * through the `// path` comments esbuild writes before each module.
 *
 * Usage: npx tsx bench/profile-summary.ts <dir or .cpuprofile files> [--match text] [--top N]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { match: { type: 'string' }, top: { type: 'string', default: '25' } },
});
const top = Number(values.top);

const files = positionals.flatMap((target) =>
  statSync(target).isDirectory()
    ? (readdirSync(target, { recursive: true }) as string[])
        .filter((name) => name.endsWith('.cpuprofile'))
        .map((name) => path.join(target, name))
        .sort()
    : [target],
);

/** Per bundle file: sorted (line, module) pairs from esbuild's `// path` comments. */
const bundleMaps = new Map<string, { line: number; module: string }[]>();
function moduleInBundle(file: string, line: number): string | undefined {
  let map = bundleMaps.get(file);
  if (!map) {
    map = [];
    try {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((text, index) => {
          const match = /^\/\/ ((?:node_modules|functions|bench|local)\/\S+)$/.exec(text.trim());
          if (match?.[1]) map?.push({ line: index, module: match[1] });
        });
    } catch {
      // not readable: leave unmapped
    }
    bundleMaps.set(file, map);
  }
  let found: string | undefined;
  for (const entry of map) {
    if (entry.line > line) break;
    found = entry.module;
  }
  return found;
}

function source(frame: CallFrame): string {
  if (!frame.url) return `(${frame.functionName || 'native'})`;
  if (frame.url.startsWith('node:')) return 'node internals';
  let file = frame.url;
  if (file.startsWith('file://')) file = fileURLToPath(file);
  const inBundle = moduleInBundle(file, frame.lineNumber);
  return inBundle ?? file.replace(/^.*?\/(node_modules|functions|local|bench)\//, '$1/');
}

function packageOf(module: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(module);
  if (match?.[1]) return match[1];
  if (module.startsWith('functions/')) return `functions/${module.split('/').slice(1, -1).join('/') || '.'}`;
  return module.split('/').slice(0, 2).join('/');
}

const table = (title: string, totals: Map<string, number>, all: number) => {
  console.log(`  ${title}`);
  for (const [name, ms] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(
      `    ${ms.toFixed(1).padStart(9)} ms  ${((ms / all) * 100).toFixed(1).padStart(5)}%  ${name}`,
    );
  }
};

for (const file of files.filter((f) => !values.match || f.includes(values.match))) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const byPackage = new Map<string, number>();
  const byModule = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const [id, ms] of selfMs) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    const module = source(frame);
    total += ms;
    const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + ms);
    add(byPackage, packageOf(module));
    add(byModule, module);
    add(byFunction, `${frame.functionName || '(anonymous)'}  ${module}:${frame.lineNumber + 1}`);
  }
  // Inclusive time: each sample counts once for every module (and package) on its stack.
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const inclusiveModule = new Map<string, number>();
  const inclusivePackage = new Map<string, number>();
  const moduleOf = new Map<number, string>();
  const moduleOfNode = (id: number) => {
    let module = moduleOf.get(id);
    if (module === undefined) {
      module = source((byId.get(id) as ProfileNode).callFrame);
      moduleOf.set(id, module);
    }
    return module;
  };
  for (const [id, ms] of selfMs) {
    const modules = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) modules.add(moduleOfNode(n));
    for (const module of modules) inclusiveModule.set(module, (inclusiveModule.get(module) ?? 0) + ms);
    for (const pkg of new Set([...modules].map(packageOf)))
      inclusivePackage.set(pkg, (inclusivePackage.get(pkg) ?? 0) + ms);
  }
  const idle = [...byFunction]
    .filter(([name]) => name.startsWith('(idle)'))
    .reduce((sum, [, ms]) => sum + ms, 0);
  console.log(
    `\n${path.relative(process.cwd(), file)}: ${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms profiled, ${(total - idle).toFixed(0)} ms on CPU`,
  );
  table('self time by package', byPackage, total);
  table('self time by module', byModule, total);
  table('self time by function', byFunction, total);
  table('inclusive time by package (all time under its code)', inclusivePackage, total);
  table('inclusive time by module', inclusiveModule, total);
}
