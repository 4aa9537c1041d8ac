// Frames to the panel's model: recognised by name or by fields, joined per team, the level
// taken from `maturity` or gated from the criteria, and the review status in words.
import { FieldType, createDataFrame } from '@grafana/data';

import { duration, frameKind, nextBlocker, reviewStatus, teamLapse, teamsFromFrames } from './model';

const criteria = (team: string, passed: boolean[]) =>
  createDataFrame({
    name: 'criteria',
    fields: [
      { name: 'team', type: FieldType.string, values: passed.map(() => team) },
      { name: 'level', type: FieldType.number, values: passed.map((_, i) => i + 1) },
      { name: 'criterion', type: FieldType.string, values: passed.map((_, i) => `c${i + 1}`) },
      { name: 'passed', type: FieldType.boolean, values: passed },
      { name: 'value', type: FieldType.number, values: passed.map(() => 1) },
      { name: 'threshold', type: FieldType.number, values: passed.map(() => 1) },
      { name: 'detail', type: FieldType.string, values: passed.map((p, i) => (p ? '' : `blocker ${i + 1}`)) },
    ],
  });

it('recognises frames by name, else by their fields', () => {
  expect(frameKind(createDataFrame({ name: 'maturity', fields: [] }))).toBe('maturity');
  const unnamed = criteria('a', [true]);
  unnamed.name = undefined;
  expect(frameKind(unnamed)).toBe('criteria');
  expect(
    frameKind(
      createDataFrame({
        fields: [
          { name: 'team', values: [] },
          { name: 'hours_overdue', values: [] },
        ],
      })
    )
  ).toBe('reviewLapse');
  expect(
    frameKind(
      createDataFrame({
        fields: [
          { name: 'team', values: [] },
          { name: 'level', values: [] },
        ],
      })
    )
  ).toBe('maturity');
  expect(frameKind(createDataFrame({ fields: [{ name: 'time', values: [] }] }))).toBeUndefined();
});

it('gates the level from the criteria when no maturity frame came, and counts the score ungated', () => {
  const [t] = teamsFromFrames([criteria('a', [true, true, false, true, false, false, false])]);
  expect(t.level).toBe(2);
  expect(t.score).toBe(3);
  expect(nextBlocker(t)?.detail).toBe('blocker 3');
});

it('takes the level of the maturity frame, and joins every frame by team, highest level first', () => {
  const maturity = createDataFrame({
    name: 'maturity',
    fields: [
      { name: 'team', type: FieldType.string, values: ['a', 'b'] },
      { name: 'level', type: FieldType.number, values: [1, 5] },
    ],
  });
  const teams = teamsFromFrames([criteria('a', [true, false]), maturity]);
  expect(teams.map((t) => [t.team, t.level])).toEqual([
    ['b', 5],
    ['a', 1],
  ]);
  expect(teams[1].criteria).toHaveLength(2);
});

it('merges both reviewLapse measures into one status per dashboard', () => {
  const lapse = (field: string, values: number[]) =>
    createDataFrame({
      name: 'reviewLapse',
      fields: [
        { name: 'team', type: FieldType.string, values: values.map(() => 'a') },
        { name: 'dashboard', type: FieldType.string, values: ['', 'slo'].slice(0, values.length) },
        { name: field, type: FieldType.number, values },
      ],
    });
  const [t] = teamsFromFrames([lapse('hours_since_review', [200, 30]), lapse('hours_overdue', [32, -138])]);
  expect(teamLapse(t)).toEqual({ dashboard: '', hoursSince: 200, hoursOverdue: 32 });
  expect(reviewStatus(teamLapse(t))).toEqual({
    last: 'last reviewed 8 days ago',
    cadence: 'every 7 days',
    due: 'overdue by 32 hours',
    overdue: true,
  });
  expect(reviewStatus({ dashboard: '', hoursSince: 30, hoursOverdue: -138 }).due).toBe('next due in 6 days');
  expect(reviewStatus(undefined)).toEqual({ overdue: false });
});

it('says durations in words', () => {
  expect(duration(0.2)).toBe('1 hour');
  expect(duration(5)).toBe('5 hours');
  expect(duration(30)).toBe('30 hours');
  expect(duration(49)).toBe('2 days');
  expect(duration(-72)).toBe('3 days');
});
