// The config editor's checks are the backend's checks: every case is judged by the TypeScript
// validator and by the backend's own settings parser (the `maturity` CLI reads jsonData
// thresholds with the same code the plugin uses), and both must agree on the verdict and on
// the message.
import { execFileSync, spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import path from 'path';

import { cliBinary } from '../test/backend';
import { THRESHOLDS, validateThresholds } from './settings';
import type { MaturityThresholds } from './types';

let work: string;
let db: string;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'maturity-settings-'));
  db = path.join(work, 'm.db');
  execFileSync(cliBinary(), ['--db', db, 'migrate'], { stdio: 'ignore' });
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** What the backend says of these thresholds: undefined when it accepts them, else its message. */
function backendVerdict(maturity: MaturityThresholds): string | undefined {
  const file = path.join(work, 'settings.json');
  writeFileSync(file, JSON.stringify({ maturity }));
  const run = spawnSync(cliBinary(), ['--db', db, '--settings', file, 'report', '--json'], { encoding: 'utf8' });
  if (run.status === 0) {
    return undefined;
  }
  const m = /maturity\.\w+: .*/.exec(run.stderr);
  return m ? m[0].trim() : run.stderr.trim();
}

const cases: MaturityThresholds[] = [
  {},
  { windowWeeks: 0 },
  { windowWeeks: 1 },
  { windowWeeks: 2, adjustmentBlockDays: 15 },
  { windowWeeks: 2, adjustmentBlockDays: 14 },
  { adjustmentBlockDays: 0 },
  { minQuestions: -1 },
  { minQuestions: 2.5 },
  { minQuestions: 12.0 },
  { minProjects: 5000000000 },
  { loopbackDays: 0 },
  { paceTolerance: -0.1 },
  { paceTolerance: 3 },
];
for (const spec of THRESHOLDS.filter((t) => t.kind === 'ratio')) {
  cases.push({ [spec.key]: 0 }, { [spec.key]: 1 }, { [spec.key]: 1.01 }, { [spec.key]: -0.5 });
}

describe('threshold validation agrees with the backend', () => {
  it.each(cases.map((c) => [JSON.stringify(c), c]))('%s', (_name, thresholds) => {
    const problems = Object.entries(validateThresholds(thresholds)).map(([field, message]) => `${field}: ${message}`);
    const backend = backendVerdict(thresholds);
    if (backend === undefined) {
      expect(problems).toEqual([]);
    } else {
      expect(problems).toContain(backend);
    }
  });
});
