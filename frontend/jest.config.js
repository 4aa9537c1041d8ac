// jest 29 + swc, as @grafana/create-plugin configures it: Grafana's ESM-only dependencies
// (d3, ol, @grafana/schema, and d3-color's `.mjs` files) are transformed too.
process.env.TZ = 'UTC';

const esmOnly = [
  '@grafana/schema',
  '@wojtekmaj/date-utils',
  'd3',
  'd3-color',
  'd3-force',
  'd3-interpolate',
  'd3-scale-chromatic',
  'get-user-locale',
  'marked',
  'memoize',
  'mimic-function',
  'ol',
  'react-calendar',
  'react-colorful',
  'rxjs',
  'uuid',
];

module.exports = {
  moduleNameMapper: {
    '\\.(css|scss|sass)$': 'identity-obj-proxy',
    '\\.svg$': '<rootDir>/src/test/fileMock.js',
    'react-inlinesvg': '<rootDir>/src/test/reactInlineSvgMock.tsx',
  },
  modulePaths: ['<rootDir>/src'],
  setupFilesAfterEnv: ['<rootDir>/jest-setup.js'],
  testEnvironment: 'jest-environment-jsdom',
  testMatch: ['<rootDir>/src/**/*.test.{ts,tsx}'],
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime: 'classic' } } } },
    ],
    '^.+\\.mjs$': ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' } } }],
  },
  transformIgnorePatterns: [`node_modules/(?!.*(${esmOnly.join('|')})/.*)`],
  testTimeout: 30000,
};
