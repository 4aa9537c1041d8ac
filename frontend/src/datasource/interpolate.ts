// Template variables in queries, as Grafana users expect them: a multi-value `$team` becomes
// an array of ids, a variable set to "All" stays all teams (`$__all`, so teams added later are
// included), and text fields (dashboard uid, target id, tags, kinds) are interpolated.
import type { ScopedVars } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';

import type { MaturityQuery } from './types';

/** Grafana's value for an "All" selection when the variable has no custom all value. */
export const ALL_VALUE = '$__all';

const WHOLE_VARIABLE = /^\s*(?:\$(\w+)|\$\{(\w+)(?::[\w-]+)?(?:\.[\w.]+)?\}|\[\[(\w+)(?::[\w-]+)?\]\])\s*$/;

/** The variable a value names when the value is exactly one variable reference. */
export function variableName(value: string): string | undefined {
  const m = WHOLE_VARIABLE.exec(value);
  return m ? (m[1] ?? m[2] ?? m[3]) : undefined;
}

function isAllSelected(name: string, scopedVars: ScopedVars, srv: TemplateSrv): boolean {
  if (scopedVars[name]) {
    const v = scopedVars[name]?.value;
    return v === ALL_VALUE || (Array.isArray(v) && v.includes(ALL_VALUE));
  }
  const variable = srv.getVariables().find((v) => v.name === name) as
    { current?: { value?: string | string[] } } | undefined;
  const current = variable?.current?.value;
  return current === ALL_VALUE || (Array.isArray(current) && current.includes(ALL_VALUE));
}

/** One value interpolated into one or more strings: a multi-value variable gives several. */
export function interpolateList(value: string, scopedVars: ScopedVars, srv: TemplateSrv): string[] {
  if (variableName(value) === undefined) {
    return [srv.replace(value, scopedVars)];
  }
  const json = srv.replace(value, scopedVars, 'json');
  try {
    const parsed: unknown = JSON.parse(json);
    if (Array.isArray(parsed)) {
      return parsed.map(String);
    }
    return [String(parsed)];
  } catch {
    // Not a variable Grafana knows: the reference stays as written, the backend names it.
    return [srv.replace(value, scopedVars)];
  }
}

/** The `team` field interpolated: one id, a list of ids, or `$__all`. */
export function interpolateTeam(team: string | string[], scopedVars: ScopedVars, srv: TemplateSrv): string | string[] {
  const items = Array.isArray(team) ? team : [team];
  const ids: string[] = [];
  for (const item of items) {
    const name = variableName(item);
    if (name !== undefined && isAllSelected(name, scopedVars, srv)) {
      return ALL_VALUE;
    }
    ids.push(...interpolateList(item, scopedVars, srv));
  }
  const unique = Array.from(new Set(ids.map((i) => i.trim()).filter((i) => i !== '')));
  if (unique.includes(ALL_VALUE)) {
    return ALL_VALUE;
  }
  return unique.length === 1 ? unique[0] : unique;
}

/** The query with every template variable replaced, ready for the backend. */
export function interpolateQuery(query: MaturityQuery, scopedVars: ScopedVars, srv: TemplateSrv): MaturityQuery {
  const out: Record<string, unknown> = { ...query };
  if (typeof out.team === 'string' || Array.isArray(out.team)) {
    const team = interpolateTeam(out.team as string | string[], scopedVars, srv);
    if (Array.isArray(team) && team.length === 0) {
      delete out.team;
    } else {
      out.team = team;
    }
  }
  for (const key of ['dashboardUid', 'targetId']) {
    if (typeof out[key] === 'string') {
      out[key] = srv.replace(out[key] as string, scopedVars);
    }
  }
  for (const key of ['tags', 'kinds']) {
    if (Array.isArray(out[key])) {
      out[key] = (out[key] as string[]).flatMap((v) => interpolateList(v, scopedVars, srv)).filter((v) => v !== '');
    }
  }
  return out as unknown as MaturityQuery;
}
