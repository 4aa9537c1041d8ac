// Template variables as Grafana's TemplateSrv applies them: a fake with Grafana's formatting
// rules for the variables a dashboard would define (multi-value with All, single-value, the
// `__dashboard` global), and repeated panels' scopedVars.
import type { ScopedVars } from '@grafana/data';
import { setTemplateSrv, TemplateSrv } from '@grafana/runtime';

import { DataSource } from './DataSource';
import { ALL_VALUE, interpolateQuery, interpolateTeam, variableName } from './interpolate';
import type { MaturityQuery } from './types';

interface FakeVariable {
  name: string;
  current: { value: string | string[] };
  options: string[];
}

/** Grafana's replace for the formats we use: `json` of the value(s), else text (multi as `{a,b}`). */
function fakeTemplateSrv(variables: FakeVariable[]): TemplateSrv {
  const valueOf = (name: string, scoped?: ScopedVars): unknown => {
    if (scoped?.[name]) {
      return scoped[name]!.value;
    }
    if (name === '__dashboard') {
      return 'dash-uid';
    }
    const v = variables.find((x) => x.name === name);
    if (!v) {
      return undefined;
    }
    const cur = v.current.value;
    const all = cur === ALL_VALUE || (Array.isArray(cur) && cur.includes(ALL_VALUE));
    return all ? v.options : cur;
  };
  const format = (value: unknown, fmt?: unknown) => {
    if (typeof fmt === 'function') {
      return fmt(value);
    }
    if (fmt === 'json') {
      return JSON.stringify(value);
    }
    return Array.isArray(value) ? (value.length === 1 ? value[0] : `{${value.join(',')}}`) : String(value);
  };
  return {
    getVariables: () => variables,
    replace: (target: string, scoped?: ScopedVars, fmt?: unknown) =>
      (target ?? '').replace(/\$\{(\w+)(?:\.(\w+))?\}|\$(\w+)/g, (m, a, _p, b) => {
        const value = valueOf(a ?? b, scoped);
        return value === undefined ? m : format(value, fmt);
      }),
    containsTemplate: () => true,
    updateTimeRange: () => {},
  } as unknown as TemplateSrv;
}

const teamVar = (value: string | string[]): FakeVariable => ({
  name: 'team',
  current: { value },
  options: ['a', 'b', 'c'],
});

describe('variableName', () => {
  it('names a value that is exactly one variable in any of Grafana syntaxes', () => {
    expect(variableName('$team')).toBe('team');
    expect(variableName('${team}')).toBe('team');
    expect(variableName('${team:csv}')).toBe('team');
    expect(variableName('[[team]]')).toBe('team');
    expect(variableName('team-$team')).toBeUndefined();
    expect(variableName('payments')).toBeUndefined();
  });
});

describe('the team field', () => {
  it('a multi-value $team becomes an array of ids', () => {
    const srv = fakeTemplateSrv([teamVar(['a', 'b'])]);
    expect(interpolateTeam('$team', {}, srv)).toEqual(['a', 'b']);
  });

  it('a single value stays one id', () => {
    expect(interpolateTeam('$team', {}, fakeTemplateSrv([teamVar(['a'])]))).toBe('a');
    expect(interpolateTeam('${team}', {}, fakeTemplateSrv([teamVar('c')]))).toBe('c');
  });

  it('All stays all teams, so teams added later are included', () => {
    expect(interpolateTeam('$team', {}, fakeTemplateSrv([teamVar(['$__all'])]))).toBe(ALL_VALUE);
    expect(interpolateTeam('$team', {}, fakeTemplateSrv([teamVar('$__all')]))).toBe(ALL_VALUE);
  });

  it('a repeated panel uses its own team from scopedVars, not the dashboard selection', () => {
    const srv = fakeTemplateSrv([teamVar('$__all')]);
    expect(interpolateTeam('$team', { team: { text: 'b', value: 'b' } }, srv)).toBe('b');
  });

  it('a list mixing ids and a multi-value variable is flattened without duplicates', () => {
    const srv = fakeTemplateSrv([teamVar(['a', 'b'])]);
    expect(interpolateTeam(['b', '$team', 'c'], {}, srv)).toEqual(['b', 'a', 'c']);
  });

  it('plain ids pass through and an unknown variable is left for the backend to name', () => {
    const srv = fakeTemplateSrv([]);
    expect(interpolateTeam('payments', {}, srv)).toBe('payments');
    expect(interpolateTeam('$nope', {}, srv)).toBe('$nope');
  });
});

describe('interpolateQuery', () => {
  const srv = fakeTemplateSrv([teamVar(['a', 'b']), { name: 'tag', current: { value: ['x', 'y'] }, options: [] }]);

  it('interpolates dashboardUid, targetId and tags, and keeps every other field', () => {
    const q = {
      refId: 'A',
      queryType: 'events',
      team: '$team',
      dashboardUid: '${__dashboard.uid}',
      tags: ['$tag', 'fixed'],
      limit: 10,
    } as MaturityQuery;
    expect(interpolateQuery(q, {}, srv)).toEqual({
      refId: 'A',
      queryType: 'events',
      team: ['a', 'b'],
      dashboardUid: 'dash-uid',
      tags: ['x', 'y', 'fixed'],
      limit: 10,
    });
    const t = { refId: 'B', queryType: 'targetSeries', targetId: '$team' } as MaturityQuery;
    expect(interpolateQuery(t, {}, fakeTemplateSrv([teamVar('c')]))).toEqual({
      refId: 'B',
      queryType: 'targetSeries',
      targetId: 'c',
    });
  });

  it("goes through DataSource.applyTemplateVariables with Grafana's TemplateSrv", () => {
    setTemplateSrv(srv);
    const ds = new DataSource({ uid: 'maturity', jsonData: {} } as never);
    expect(
      ds.applyTemplateVariables({ refId: 'A', queryType: 'maturity', team: '$team' } as MaturityQuery, {})
    ).toEqual({
      refId: 'A',
      queryType: 'maturity',
      team: ['a', 'b'],
    });
  });
});
