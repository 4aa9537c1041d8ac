// The datasource settings of SPEC §6 as the config editor shows them: every ladder threshold
// with its default and meaning, and the same checks the backend applies when it parses
// jsonData (src/engine/settings.rs, src/plugin/settings.rs), so a bad value is named before
// "Save & test" does.
import type { MaturityOptions, MaturityThresholds, ThresholdKey } from './types';

/** How the backend reads a threshold. */
export type ThresholdKind = 'count' | 'ratio' | 'nonNegative';

/** One threshold of the ladder. */
export interface ThresholdSpec {
  key: ThresholdKey;
  level?: number;
  label: string;
  kind: ThresholdKind;
  defaultValue: number;
  unit?: string;
  description: string;
}

/** Every key of `jsonData.maturity` with the default of SPEC §5. */
export const THRESHOLDS: ThresholdSpec[] = [
  {
    key: 'windowWeeks',
    label: 'Window',
    kind: 'count',
    defaultValue: 12,
    unit: 'weeks',
    description: 'How far back every criterion looks.',
  },
  {
    key: 'minQuestions',
    level: 1,
    label: 'Questions',
    kind: 'count',
    defaultValue: 1,
    description: 'Ad-hoc questions needed in the window for level 1.',
  },
  {
    key: 'minDefinedTargets',
    level: 2,
    label: 'Defined targets',
    kind: 'count',
    defaultValue: 1,
    description: 'Targets with baseline, target and deadline needed for level 2.',
  },
  {
    key: 'loopbackDays',
    level: 3,
    label: 'Loop-back period',
    kind: 'count',
    defaultValue: 182,
    unit: 'days',
    description: 'A target verified within this many days gives level 3.',
  },
  {
    key: 'reviewRatio',
    level: 4,
    label: 'Reviewed share',
    kind: 'ratio',
    defaultValue: 0.75,
    description: 'Share of review periods (the team cadence) that must hold a review or a view.',
  },
  {
    key: 'adjustmentBlockDays',
    level: 5,
    label: 'Adjustment block',
    kind: 'count',
    defaultValue: 28,
    unit: 'days',
    description: 'Length of the blocks that should each hold a metric change.',
  },
  {
    key: 'adjustmentRatio',
    level: 5,
    label: 'Adjusted share',
    kind: 'ratio',
    defaultValue: 0.66,
    description: 'Share of blocks with a metric change needed for level 5.',
  },
  {
    key: 'decisionRatio',
    level: 6,
    label: 'Decision share',
    kind: 'ratio',
    defaultValue: 0.5,
    description: 'Share of reviewed periods that also hold a decision.',
  },
  {
    key: 'followThroughRatio',
    level: 6,
    label: 'Follow-through',
    kind: 'ratio',
    defaultValue: 0.5,
    description: 'Share of decisions due in the window that have an outcome.',
  },
  {
    key: 'minProjects',
    level: 7,
    label: 'Live projects',
    kind: 'count',
    defaultValue: 2,
    description: 'Live projects needed for level 7.',
  },
  {
    key: 'definedShare',
    level: 7,
    label: 'Defined share',
    kind: 'ratio',
    defaultValue: 0.8,
    description: 'Share of live projects that must be defined.',
  },
  {
    key: 'verifiedShare',
    level: 7,
    label: 'Verified share',
    kind: 'ratio',
    defaultValue: 0.8,
    description: 'Share of finished projects verified at the finish line.',
  },
  {
    key: 'verificationGraceDays',
    level: 7,
    label: 'Verification grace',
    kind: 'count',
    defaultValue: 14,
    unit: 'days',
    description: 'Days after a deadline before a missing verification counts against the team.',
  },
  {
    key: 'defaultFollowUpDays',
    label: 'Default follow-up',
    kind: 'count',
    defaultValue: 14,
    unit: 'days',
    description: 'When a decision without a follow-up date falls due.',
  },
  {
    key: 'paceTolerance',
    label: 'Pace tolerance',
    kind: 'nonNegative',
    defaultValue: 0.1,
    description: 'How far behind the glide path a target may be and still be on track, as a share of the whole change.',
  },
];

const U32_MAX = 4294967295;

/** Problems by field name (`maturity.windowWeeks`, `viewSessionMinutes`, ...); empty when valid. */
export type SettingsProblems = Record<string, string>;

function thresholdProblem(spec: ThresholdSpec, v: unknown): string | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    return spec.kind === 'count' ? 'expected a whole number' : 'expected a number';
  }
  switch (spec.kind) {
    case 'count':
      if (v < 0) {
        return `is ${v}; it must not be negative`;
      }
      if (!Number.isInteger(v)) {
        return `is ${v}; it must be a whole number`;
      }
      if (v > U32_MAX) {
        return `is ${v}; it must be at most ${U32_MAX}`;
      }
      return undefined;
    case 'ratio':
      return v < 0 || v > 1 ? `is ${v}; it must be between 0 and 1` : undefined;
    case 'nonNegative':
      return v < 0 ? `is ${v}; it must not be negative` : undefined;
  }
}

/** The backend's checks of `jsonData.maturity`: each key alone, then the window and the block together. */
export function validateThresholds(maturity: MaturityThresholds | undefined): SettingsProblems {
  const problems: SettingsProblems = {};
  const m = (maturity ?? {}) as Record<string, unknown>;
  for (const spec of THRESHOLDS) {
    const v = m[spec.key];
    if (v === undefined || v === null) {
      continue;
    }
    const problem = thresholdProblem(spec, v);
    if (problem) {
      problems[`maturity.${spec.key}`] = problem;
    }
  }
  if (Object.keys(problems).length > 0) {
    return problems;
  }
  const windowWeeks = (m.windowWeeks as number | undefined) ?? 12;
  const block = (m.adjustmentBlockDays as number | undefined) ?? 28;
  if (windowWeeks === 0) {
    problems['maturity.windowWeeks'] = 'must be at least 1 week';
  } else if (block === 0) {
    problems['maturity.adjustmentBlockDays'] = 'must be at least 1 day';
  } else if (windowWeeks * 7 < block) {
    problems['maturity.adjustmentBlockDays'] =
      `is ${block} days, longer than the ${windowWeeks}-week window (${windowWeeks * 7} days): the window would hold no block`;
  }
  return problems;
}

/** Every check of the settings the config editor edits. */
export function validateSettings(options: MaturityOptions): SettingsProblems {
  const problems = validateThresholds(options.maturity);
  // Both are minutes from 1 to a week (src/settings.rs, MAX_MINUTES).
  for (const key of ['viewSessionMinutes', 'actualsIntervalMinutes'] as const) {
    const minutes = options[key];
    if (minutes !== undefined && (!Number.isInteger(minutes) || minutes < 1 || minutes > 10080)) {
      problems[key] = `must be a whole number of minutes from 1 to 10080, got ${minutes}`;
    }
  }
  return problems;
}
