// Builds dist/client/index.js in the shape NocoBase's prebuilt admin UI loads: one UMD file whose
// AMD branch is a named `define("<package>", [deps], factory)`. The admin UI provides react, antd,
// @formily/*, @nocobase/client, every enabled plugin as "<package>/client", and more as AMD
// modules: those stay external; everything else (our code, ipaddr.js) is bundled.

import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

/** Modules the admin UI defines for plugins (see @nocobase/app's dist/client), plus other plugins' clients. */
const PROVIDED = [
  'react',
  'react-dom',
  'react/jsx-runtime',
  'react-router',
  'react-router-dom',
  'antd',
  'antd-style',
  '@ant-design/icons',
  '@ant-design/cssinjs',
  'i18next',
  'react-i18next',
  '@formily/antd-v5',
  '@formily/core',
  '@formily/react',
  '@formily/shared',
  '@formily/json-schema',
  '@formily/reactive',
  '@formily/path',
  '@formily/validator',
  '@formily/reactive-react',
  '@nocobase/utils',
  '@nocobase/utils/client',
  '@nocobase/client',
  '@nocobase/evaluators',
  '@nocobase/evaluators/client',
  '@nocobase/sdk',
  '@nocobase/flow-engine',
  '@dnd-kit/core',
  '@dnd-kit/sortable',
  'axios',
  'dayjs',
  'lodash',
  'ahooks',
  '@emotion/css',
  'file-saver',
];
const isPluginClient = (id) => /^(@[^/]+\/)?[^/]+\/client$/.test(id) && id.includes('plugin');

const outDir = path.join(root, 'dist', 'client');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const result = await build({
  entryPoints: [path.join(root, 'src/client/index.tsx')],
  bundle: true,
  write: false,
  format: 'cjs',
  platform: 'browser',
  target: ['es2020'],
  jsx: 'automatic',
  minify: process.env.CLIENT_MINIFY !== 'off',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  external: PROVIDED,
  plugins: [
    {
      name: 'provided-plugin-clients',
      setup(b) {
        b.onResolve({ filter: /\/client$/ }, (args) =>
          isPluginClient(args.path) ? { path: args.path, external: true } : undefined,
        );
      },
    },
  ],
});

const code = result.outputFiles[0].text;
const deps = [];
for (const output of Object.values(result.metafile.outputs)) {
  for (const imp of output.imports) if (imp.external && !deps.includes(imp.path)) deps.push(imp.path);
}
const unknown = deps.filter((d) => !PROVIDED.includes(d) && !isPluginClient(d));
if (unknown.length) throw new Error(`external modules the admin UI does not provide: ${unknown.join(', ')}`);

const name = pkg.name;
const umd = `/* ${name} ${pkg.version}: client bundle for the NocoBase admin UI */
(function (root, factory) {
  var deps = ${JSON.stringify(deps)};
  if (typeof exports === 'object' && typeof module === 'object') {
    module.exports = factory(function (id) { return require(id); });
  } else if (typeof define === 'function' && define.amd) {
    define(${JSON.stringify(name)}, deps, function () {
      var values = arguments;
      return factory(function (id) {
        var i = deps.indexOf(id);
        if (i < 0) throw new Error(${JSON.stringify(name)} + ': module not provided: ' + id);
        return values[i];
      });
    });
  } else {
    root[${JSON.stringify(name)}] = factory(function (id) { return root[id]; });
  }
})(typeof self !== 'undefined' ? self : this, function (require) {
  var module = { exports: {} };
  var exports = module.exports;
${code}
  return module.exports;
});
`;
writeFileSync(path.join(outDir, 'index.js'), umd);

// Locale files: the server reads <package>/dist/locale/<lang>.json in production, src/locale otherwise.
cpSync(path.join(root, 'src', 'locale'), path.join(root, 'dist', 'locale'), { recursive: true });

const kb = (Buffer.byteLength(umd) / 1024).toFixed(1);
console.log(`dist/client/index.js ${kb} KiB, external: ${deps.join(', ')}`);
