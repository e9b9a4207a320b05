// Builds dist/server with tsc, and makes dist self-contained for `nocobase-v1 pm add`: the
// plugin's runtime dependencies (ajv, busboy, ...) are copied into dist/node_modules, where
// dist/server resolves them, and dist/externalVersion.js names the NocoBase modules it expects
// from the app (read by the plugin manager's compatibility check).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
rmSync(path.join(root, 'dist', 'server'), { recursive: true, force: true });
rmSync(path.join(root, 'dist', 'node_modules'), { recursive: true, force: true });

execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});

// Runtime dependencies: package.json's dependencies and theirs (not dev, not peer: the app
// provides NocoBase), found as Node finds them (nested copies keep their place). Walked by hand
// rather than read from npm ls, which fails when node_modules is shared with another checkout.
const nodeModules = path.join(root, 'node_modules');
const bases = [nodeModules, realpathSync(nodeModules)];
/** The folder of package `name` as `from` (a package folder) would require it. */
function findPackage(name, from) {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === path.dirname(dir) || dir === root) return null;
  }
}
const seen = new Set();
const queue = [root];
let copied = 0;
while (queue.length) {
  const from = queue.shift();
  const manifest = JSON.parse(readFileSync(path.join(from, 'package.json'), 'utf8'));
  const names = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies });
  for (const name of names) {
    const dir = findPackage(name, from);
    if (!dir) {
      if (!manifest.optionalDependencies?.[name])
        throw new Error(`${name} (needed by ${manifest.name}) is not installed`);
      continue;
    }
    const real = realpathSync(dir);
    if (seen.has(real)) continue;
    seen.add(real);
    queue.push(dir);
    const rel = bases.map((base) => path.relative(base, dir)).find((r) => !r.startsWith('..'));
    if (rel === undefined) throw new Error(`${dir} is outside node_modules`);
    cpSync(dir, path.join(root, 'dist', 'node_modules', rel), {
      recursive: true,
      dereference: true,
      // nested node_modules are found (and copied) on their own
      filter: (src) => src === dir || !path.relative(dir, src).split(path.sep).includes('node_modules'),
    });
    copied++;
  }
}

// Versions of the app-provided modules this plugin was built against.
const reference = require('@nocobase/plugin-workflow/dist/externalVersion.js');
const versionOf = (name) => {
  if (reference[name]) return reference[name];
  try {
    return require(`${name}/package.json`).version;
  } catch {
    return undefined;
  }
};
const provided = [
  '@nocobase/server',
  '@nocobase/database',
  '@nocobase/utils',
  '@nocobase/client',
  '@nocobase/plugin-workflow',
  'react',
  'antd',
  '@ant-design/icons',
  '@formily/react',
  'react-i18next',
  'react-router-dom',
  'dayjs',
];
const external = Object.fromEntries(provided.map((n) => [n, versionOf(n)]).filter(([, v]) => v));
writeFileSync(
  path.join(root, 'dist', 'externalVersion.js'),
  `module.exports = ${JSON.stringify(external, null, 2)};\n`,
);

const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
console.log(`dist/server built; ${copied} runtime packages in dist/node_modules for ${pkg.name}`);
