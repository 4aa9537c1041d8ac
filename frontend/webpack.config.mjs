// Builds the plugin's AMD module.js (webpack 5 + swc, Grafana's packages as externals, as
// @grafana/create-plugin does) into the repository's dist/, next to the backend binaries,
// with plugin.json, the logo, README, CHANGELOG and LICENSE copied beside it.
import CopyWebpackPlugin from 'copy-webpack-plugin';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import webpack from 'webpack';
import VirtualModulesPlugin from 'webpack-virtual-modules';
import { readFileSync, existsSync } from 'node:fs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const pluginJson = JSON.parse(readFileSync(path.join(repo, 'plugin.json'), 'utf8'));
// One source of truth for the version: the Cargo package (the backend binaries carry it too).
const cargoVersion = /^version\s*=\s*"([^"]+)"/m.exec(readFileSync(path.join(repo, 'Cargo.toml'), 'utf8'))?.[1];
if (!cargoVersion) {
  throw new Error('Cargo.toml has no package version');
}
/** plugin.json with %VERSION% and %TODAY% filled in (SOURCE_DATE_EPOCH makes the date reproducible). */
export function filledPluginJson(content) {
  const epoch = process.env.SOURCE_DATE_EPOCH ? Number(process.env.SOURCE_DATE_EPOCH) * 1000 : Date.now();
  const today = new Date(epoch).toISOString().slice(0, 10);
  return content
    .toString()
    .replace(/%VERSION%/g, cargoVersion)
    .replace(/%TODAY%/g, today);
}
const DIST = process.env.MATURITY_DIST_DIR ? path.resolve(process.env.MATURITY_DIST_DIR) : path.join(repo, 'dist');

/** Grafana provides these at runtime; bundling a second copy would break its singletons. */
export const grafanaExternals = [
  { 'amd-module': 'module' },
  'lodash',
  'jquery',
  'moment',
  'slate',
  'emotion',
  '@emotion/react',
  '@emotion/css',
  'prismjs',
  'slate-plain-serializer',
  '@grafana/slate-react',
  'react',
  'react/jsx-runtime',
  'react/jsx-dev-runtime',
  'react-dom',
  'react-redux',
  'redux',
  'rxjs',
  'i18next',
  'react-router',
  'd3',
  'angular',
  /^@grafana\/ui/i,
  /^@grafana\/runtime/i,
  /^@grafana\/data/i,
  /^@grafana\/i18n/i,
  /^@grafana\/schema/i,
];

/** swc for TypeScript and JSX (classic runtime: React comes from Grafana). */
export const swcRule = {
  exclude: /node_modules/,
  test: /\.[tj]sx?$/,
  use: {
    loader: 'swc-loader',
    options: {
      jsc: {
        target: 'es2015',
        parser: { syntax: 'typescript', tsx: true, dynamicImport: true },
        transform: { react: { runtime: 'classic' } },
      },
    },
  },
};

// Nested plugins (the panel of a later issue) are every src/**/plugin.json with a module beside it.
function entries() {
  const found = { module: path.join(here, 'src/module.ts') };
  const panel = path.join(here, 'src/panel/module.tsx');
  if (existsSync(panel)) {
    found['panel/module'] = panel;
  }
  return found;
}

export default (env = {}) => ({
  context: path.join(here, 'src'),
  devtool: env.production ? 'source-map' : 'eval-source-map',
  entry: entries(),
  externals: grafanaExternals,
  mode: env.production ? 'production' : 'development',
  module: {
    rules: [
      {
        // Must come first: sets the public path from AMD's module uri before anything loads.
        test: /src\/(?:.*\/)?module\.tsx?$/,
        use: [{ loader: 'imports-loader', options: { imports: 'side-effects grafana-public-path' } }],
      },
      swcRule,
      { test: /\.css$/, use: ['style-loader', 'css-loader'] },
      { test: /\.(png|jpe?g|gif|svg)$/, type: 'asset/resource', generator: { filename: 'img/[name][ext]' } },
    ],
  },
  optimization: { minimize: Boolean(env.production) },
  output: {
    clean: { keep: /(gpx_maturity_.*|go_plugin_build_manifest|MANIFEST\.txt)$/ },
    filename: '[name].js',
    chunkFilename: env.production ? '[name].js?_cache=[contenthash]' : '[name].js',
    library: { type: 'amd' },
    path: DIST,
    publicPath: `public/plugins/${pluginJson.id}/`,
    uniqueName: pluginJson.id,
  },
  plugins: [
    new VirtualModulesPlugin({
      'node_modules/grafana-public-path.js': `
import amdMetaModule from 'amd-module';
__webpack_public_path__ =
  amdMetaModule && amdMetaModule.uri
    ? amdMetaModule.uri.slice(0, amdMetaModule.uri.lastIndexOf('/') + 1)
    : 'public/plugins/${pluginJson.id}/';
`,
    }),
    new webpack.BannerPlugin({ banner: `/* ${pluginJson.id}@${cargoVersion} */`, raw: true, entryOnly: true }),
    new CopyWebpackPlugin({
      patterns: [
        { from: path.join(repo, 'plugin.json'), to: '.', transform: filledPluginJson },
        { from: path.join(repo, 'README.md'), to: '.' },
        { from: path.join(repo, 'CHANGELOG.md'), to: '.' },
        { from: path.join(repo, 'LICENSE'), to: '.', noErrorOnMissing: true },
        { from: path.join(repo, 'img'), to: 'img' },
        { from: path.join(repo, 'dashboards'), to: 'dashboards', noErrorOnMissing: true },
        { from: 'panel/plugin.json', to: 'panel/', noErrorOnMissing: true, transform: filledPluginJson },
        // A nested plugin's paths are relative to its own folder.
        { from: path.join(repo, 'img/logo.svg'), to: 'panel/img/logo.svg' },
      ],
    }),
  ],
  resolve: {
    extensions: ['.js', '.jsx', '.ts', '.tsx'],
    modules: [path.join(here, 'src'), 'node_modules'],
  },
});
