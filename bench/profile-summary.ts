/**
 * Summarises V8 CPU profiles (`.cpuprofile`, from BENCH_PROFILE or `node --cpu-prof`): where the
 * app process spent its time, by function (self time), by package or plugin file, and the
 * inclusive time of this plugin's and NocoBase's (@nocobase/*) functions.
 *
 *   node --import tsx bench/profile-summary.ts <file.cpuprofile | dir> [...] [--top 25]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

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

const root = path.resolve(__dirname, '..');

function shortUrl(url: string): string {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  if (u.startsWith(root)) u = u.slice(root.length + 1);
  const nm = u.lastIndexOf('node_modules/');
  if (nm !== -1) u = u.slice(nm + 'node_modules/'.length);
  return u;
}

/** The package, plugin file or runtime part a frame belongs to. */
function area(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '');
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const rel = url.startsWith(root) ? url.slice(root.length + 1) : url;
  if (rel.startsWith('src/server/')) return `plugin ${rel}`;
  if (rel.startsWith('bench/')) return 'bench (control channel)';
  return rel;
}

function label(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  const where = shortUrl(frame.url);
  return where ? `${name}  ${where}:${frame.lineNumber + 1}` : name;
}

function summarise(file: string, top: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let total = 0;
  let idle = 0;
  const selfByFn = new Map<string, number>();
  const selfByArea = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    total += us;
    if (node.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const key = label(node.callFrame);
    selfByFn.set(key, (selfByFn.get(key) ?? 0) + us);
    const a = area(node.callFrame);
    selfByArea.set(a, (selfByArea.get(a) ?? 0) + us);
    // Inclusive time of the plugin's and the engine's functions on this stack (each once).
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      if (!frame) break;
      const ar = area(frame);
      if (!ar.startsWith('plugin ') && !ar.startsWith('@nocobase/')) continue;
      const k = label(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  const busy = total - idle;
  const pct = (us: number) => `${((100 * us) / Math.max(1, busy)).toFixed(1).padStart(5)}%`;
  const msOf = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  const list = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `  ${pct(us)} ${msOf(us)}  ${k}`)
      .join('\n');
  return [
    `== ${path.basename(file)}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (${((100 * busy) / Math.max(1, total)).toFixed(0)}% of the main thread), percentages of busy time`,
    `-- self time by package / plugin file:`,
    list(selfByArea, 15),
    `-- top ${top} functions by self time:`,
    list(selfByFn, top),
    `-- inclusive time of this plugin's and NocoBase's functions (@nocobase/*):`,
    list(inclusive, 20),
    '',
  ].join('\n');
}

// `| head` closes the pipe early: stop quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const args = process.argv.slice(2);
let top = 25;
const files: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--top') top = Number(args[++i]);
  else if (statSync(args[i]).isDirectory()) {
    for (const f of readdirSync(args[i]).sort()) if (f.endsWith('.cpuprofile')) files.push(path.join(args[i], f));
  } else files.push(args[i]);
}
if (!files.length) {
  console.error('usage: node --import tsx bench/profile-summary.ts <file.cpuprofile | dir> [...] [--top 25]');
  process.exit(2);
}
for (const file of files) console.log(summarise(file, top));
