// Bundles the harness page: React, @grafana/ui and the datasource's editors in one script
// (nothing external: there is no Grafana to provide them), into frontend/dist-harness.
import CopyWebpackPlugin from 'copy-webpack-plugin';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { swcRule } from '../webpack.config.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const frontend = path.resolve(here, '..');

export default {
  mode: 'development',
  devtool: false,
  context: here,
  entry: { harness: path.join(here, 'main.tsx') },
  module: {
    rules: [
      swcRule,
      { test: /\.css$/, use: ['style-loader', 'css-loader'] },
      { test: /\.(png|jpe?g|gif|svg)$/, type: 'asset/resource' },
      // Grafana's ESM (.mjs) imports CommonJS packages by default export (react-custom-scrollbars-2):
      // auto mode honours their __esModule flag as Grafana's own build does.
      { test: /\.mjs$/, type: 'javascript/auto', resolve: { fullySpecified: false } },
    ],
  },
  output: { path: path.join(frontend, 'dist-harness'), filename: '[name].js', clean: true },
  plugins: [
    new CopyWebpackPlugin({
      patterns: [
        { from: path.join(here, 'index.html'), to: '.' },
        { from: path.join(frontend, '..', 'img', 'logo.svg'), to: '.' },
        {
          from: path.join(frontend, '..', 'dashboards', '*.json'),
          to: 'dashboards/[name][ext]',
          noErrorOnMissing: true,
        },
      ],
    }),
  ],
  performance: { hints: false },
  resolve: {
    extensions: ['.js', '.jsx', '.ts', '.tsx'],
    modules: [path.join(frontend, 'src'), path.join(frontend, 'node_modules')],
  },
};
