// Grafana's ESLint config (as @grafana/create-plugin sets it up) over src/ and the harness.
import grafanaConfig from '@grafana/eslint-config/flat.js';

export default [
  { ignores: ['node_modules/', 'dist-harness/', 'coverage/', 'src/datasource/query.gen.ts', '**/*.js', '**/*.mjs'] },
  ...grafanaConfig,
  { rules: { 'react/prop-types': 'off' } },
  {
    files: ['src/**/*.{ts,tsx}', 'harness/**/*.{ts,tsx}'],
    languageOptions: { parserOptions: { project: './tsconfig.json' } },
    rules: {
      // Select and MultiSelect are deprecated in Grafana 12 in favour of Combobox, which older
      // Grafana versions (grafanaDependency) do not have; everything else deprecated is an error.
      '@typescript-eslint/no-deprecated': [
        'error',
        {
          allow: [{ from: 'package', package: '@grafana/ui', name: ['Select', 'MultiSelect'] }],
        },
      ],
    },
  },
];
