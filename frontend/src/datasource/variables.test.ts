// Template variables from this datasource: teams (name shown, id used) and the dashboards of
// one team, of several (a multi-value `$team` in csv) or of all.
import type { DataSource } from './DataSource';
import type { Team } from './types';
import { asVariableQuery, variableValues } from './variables';

const teams: Team[] = [
  { id: 'payments', name: 'Payments', dashboards: ['pay-slo', 'shared'], members: [], cadenceDays: 7 },
  { id: 'checkout', name: 'Checkout', dashboards: ['co-slo', 'shared'], members: [], cadenceDays: 7 },
];
const ds = { getResource: async () => teams } as unknown as DataSource;
const same = (v: string) => v;

it('teams give their name as text and their id as value, by name', async () => {
  expect(await variableValues(ds, { refId: 'v', variable: 'teams' }, same)).toEqual([
    { text: 'Checkout', value: 'checkout' },
    { text: 'Payments', value: 'payments' },
  ]);
});

it('dashboards of one team, of a multi-value selection, and of every team (once each)', async () => {
  const uids = async (team?: string, replace = same) =>
    (await variableValues(ds, { refId: 'v', variable: 'dashboards', team }, replace)).map((v) => v.value);
  expect(await uids('payments')).toEqual(['pay-slo', 'shared']);
  expect(await uids('$team', () => 'payments,checkout')).toEqual(['co-slo', 'shared', 'pay-slo']);
  expect(await uids(undefined)).toEqual(['co-slo', 'shared', 'pay-slo']);
  expect(await uids('$team', () => '$__all')).toEqual(['co-slo', 'shared', 'pay-slo']);
});

it('a new variable (an empty or string query) lists the teams', () => {
  expect(asVariableQuery(undefined)).toEqual({ refId: 'variable', variable: 'teams' });
  expect(asVariableQuery('')).toEqual({ refId: 'variable', variable: 'teams' });
  expect(asVariableQuery({ refId: 'A', variable: 'dashboards', team: '$team' })).toEqual({
    refId: 'A',
    variable: 'dashboards',
    team: '$team',
  });
});
