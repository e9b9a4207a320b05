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

// Production dependencies, as Node resolves them (nested copies keep their place): this package's
// `dependencies` and theirs, each found the way `require` finds it from the package that needs it.
// (Not `npm ls`: with a node_modules shared with another checkout it lists that checkout's
// packages too, and exits non-zero.)
const modulesDir = realpathSync(path.join(root, 'node_modules'));
const listed = [];
const seen = new Set();
const visit = (fromDir, names) => {
  for (const name of names) {
    let dir;
    try {
      dir = path.dirname(
        realpathSync(createRequire(path.join(fromDir, 'package.json')).resolve(`${name}/package.json`)),
      );
    } catch {
      // A package whose exports hide package.json: walk up from its entry point.
      try {
        let entry = path.dirname(realpathSync(createRequire(path.join(fromDir, 'package.json')).resolve(name)));
        while (
          !existsSync(path.join(entry, 'package.json')) ||
          JSON.parse(readFileSync(path.join(entry, 'package.json'), 'utf8')).name !== name
        ) {
          const up = path.dirname(entry);
          if (up === entry) throw new Error(`no package.json for ${name}`);
          entry = up;
        }
        dir = entry;
      } catch {
        continue; // an optional dependency that is not installed
      }
    }
    if (seen.has(dir)) continue;
    seen.add(dir);
    listed.push(path.join(root, 'node_modules', path.relative(modulesDir, dir)));
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    visit(dir, [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})]);
  }
};
visit(root, Object.keys(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).dependencies ?? {}));
let copied = 0;
for (const dir of listed) {
  const rel = path.relative(path.join(root, 'node_modules'), dir);
  if (rel.startsWith('..') || !existsSync(dir)) continue;
  cpSync(dir, path.join(root, 'dist', 'node_modules', rel), {
    recursive: true,
    dereference: true,
    // nested node_modules are listed (and copied) on their own
    filter: (src) => src === dir || !path.relative(dir, src).split(path.sep).includes('node_modules'),
  });
  copied++;
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
