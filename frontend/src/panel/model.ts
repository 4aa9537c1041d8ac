// What the panel shows, read from the frames of its own queries (SPEC §4.1): `maturity`
// (level per team), `criteria` (the ladder), `reviewLapse` (hours since review and overdue,
// per team or dashboard) and `reviewAgenda` (what to discuss now). Frames are recognised by
// name, else by their fields, so a query's refId or order never matters. Pure: tested alone.
import { DataFrame, Field } from '@grafana/data';

/** One rung of the ladder for one team. */
export interface Criterion {
  level: number;
  id: string;
  passed: boolean;
  value: number;
  threshold: number;
  detail: string;
}

/** How long since a team (dashboard empty) or one of its dashboards was reviewed. */
export interface Lapse {
  dashboard: string;
  hoursSince?: number;
  hoursOverdue?: number;
}

/** One item of the review agenda. */
export interface AgendaItem {
  item: string;
  subject: string;
  detail: string;
  since?: number;
  dashboardUid?: string;
}

/** Everything the panel knows of one team. */
export interface TeamView {
  team: string;
  level: number;
  score: number;
  criteria: Criterion[];
  lapses: Lapse[];
  agenda: AgendaItem[];
}

/** The levels of the seed's model, bottom to top. */
export const LEVELS: Array<{ level: number; id: string; name: string; means: string }> = [
  { level: 1, id: 'adhoc_queries', name: 'Ad-hoc questions', means: 'The team asks its data questions.' },
  {
    level: 2,
    id: 'defined_targets',
    name: 'Defined targets',
    means: 'Projects have a baseline, a target and a deadline.',
  },
  {
    level: 3,
    id: 'looped_back',
    name: 'Looped back',
    means: 'At the finish line the team checks whether it met the target.',
  },
  {
    level: 4,
    id: 'regular_reviews',
    name: 'Regular reviews',
    means: 'The team looks at its dashboards on its cadence.',
  },
  {
    level: 5,
    id: 'regular_adjustments',
    name: 'Regular adjustments',
    means: 'It adds and changes metrics where data is missing.',
  },
  {
    level: 6,
    id: 'acting_on_metrics',
    name: 'Acting on metrics',
    means: 'Reviews lead to decisions, and decisions are followed up.',
  },
  {
    level: 7,
    id: 'data_driven_projects',
    name: 'Data-driven projects',
    means: 'Most projects are measured, verified and learnt from.',
  },
];

type Kind = 'maturity' | 'criteria' | 'reviewLapse' | 'reviewAgenda';

function fieldNames(frame: DataFrame): Set<string> {
  return new Set(frame.fields.map((f) => f.name));
}

/** Which of the panel's queries a frame answers, or undefined for a frame it does not read. */
export function frameKind(frame: DataFrame): Kind | undefined {
  const byName = ['maturity', 'criteria', 'reviewLapse', 'reviewAgenda'].find((n) => n === frame.name);
  if (byName) {
    return byName as Kind;
  }
  const names = fieldNames(frame);
  if (names.has('criterion') && names.has('passed')) {
    return 'criteria';
  }
  if (names.has('hours_since_review') || names.has('hours_overdue')) {
    return 'reviewLapse';
  }
  if (names.has('item') && names.has('subject')) {
    return 'reviewAgenda';
  }
  if (names.has('team') && names.has('level') && frame.fields.length === 2) {
    return 'maturity';
  }
  return undefined;
}

function column(frame: DataFrame, name: string): Field | undefined {
  return frame.fields.find((f) => f.name === name);
}

function values<T>(frame: DataFrame, name: string): T[] {
  return (column(frame, name)?.values ?? []) as T[];
}

/** The teams of the frames, each with everything the frames say of it, by team id. */
export function teamsFromFrames(frames: DataFrame[]): TeamView[] {
  const teams = new Map<string, TeamView & { levelSeen: boolean }>();
  const team = (id: string) => {
    let t = teams.get(id);
    if (!t) {
      t = { team: id, level: 0, score: 0, criteria: [], lapses: [], agenda: [], levelSeen: false };
      teams.set(id, t);
    }
    return t;
  };
  for (const frame of frames) {
    const kind = frameKind(frame);
    const ids = values<string>(frame, 'team');
    ids.forEach((id, row) => {
      const t = team(id);
      switch (kind) {
        case 'maturity':
          t.level = Number(values<number>(frame, 'level')[row] ?? 0);
          t.levelSeen = true;
          break;
        case 'criteria':
          t.criteria.push({
            level: Number(values<number>(frame, 'level')[row]),
            id: String(values<string>(frame, 'criterion')[row]),
            passed: Boolean(values<boolean>(frame, 'passed')[row]),
            value: Number(values<number>(frame, 'value')[row]),
            threshold: Number(values<number>(frame, 'threshold')[row]),
            detail: String(values<string>(frame, 'detail')[row] ?? ''),
          });
          break;
        case 'reviewLapse': {
          const dashboard = String(values<string>(frame, 'dashboard')[row] ?? '');
          let lapse = t.lapses.find((l) => l.dashboard === dashboard);
          if (!lapse) {
            lapse = { dashboard };
            t.lapses.push(lapse);
          }
          const since = values<number>(frame, 'hours_since_review')[row];
          const overdue = values<number>(frame, 'hours_overdue')[row];
          if (since !== undefined) {
            lapse.hoursSince = Number(since);
          }
          if (overdue !== undefined) {
            lapse.hoursOverdue = Number(overdue);
          }
          break;
        }
        case 'reviewAgenda':
          t.agenda.push({
            item: String(values<string>(frame, 'item')[row]),
            subject: String(values<string>(frame, 'subject')[row] ?? ''),
            detail: String(values<string>(frame, 'detail')[row] ?? ''),
            since: values<number>(frame, 'since')[row] ?? undefined,
            dashboardUid: values<string>(frame, 'dashboardUid')[row] ?? undefined,
          });
          break;
      }
    });
  }
  return Array.from(teams.values())
    .map(({ levelSeen, ...t }) => {
      t.criteria.sort((a, b) => a.level - b.level);
      const score = t.criteria.filter((c) => c.passed).length;
      // Without a `maturity` frame the level is the ladder's gate: the highest L whose
      // criteria 1..L all pass (SPEC §5).
      const gated = t.criteria.findIndex((c) => !c.passed);
      const level = levelSeen ? t.level : gated === -1 ? t.criteria.length : gated;
      return { ...t, score, level };
    })
    .sort((a, b) => b.level - a.level || a.team.localeCompare(b.team));
}

/** The criterion that blocks the next level, if any. */
export function nextBlocker(t: TeamView): Criterion | undefined {
  return t.criteria.find((c) => c.level === t.level + 1 && !c.passed) ?? t.criteria.find((c) => !c.passed);
}

/** The team-level lapse (or the most overdue dashboard's when the team row is absent). */
export function teamLapse(t: TeamView): Lapse | undefined {
  return (
    t.lapses.find((l) => l.dashboard === '') ??
    [...t.lapses].sort((a, b) => (b.hoursOverdue ?? b.hoursSince ?? 0) - (a.hoursOverdue ?? a.hoursSince ?? 0))[0]
  );
}

/** "3 days", "5 hours", "32 hours": a duration in the words a team reads (hours below two days). */
export function duration(hours: number): string {
  const h = Math.abs(hours);
  if (h >= 48) {
    return `${Math.round(h / 24)} days`;
  }
  const rounded = Math.max(1, Math.round(h));
  return `${rounded} hour${rounded === 1 ? '' : 's'}`;
}

/** The review status of a team in one sentence per part. */
export function reviewStatus(lapse: Lapse | undefined): {
  last?: string;
  cadence?: string;
  due?: string;
  overdue: boolean;
} {
  if (!lapse || lapse.hoursSince === undefined) {
    if (lapse?.hoursOverdue !== undefined) {
      const overdue = lapse.hoursOverdue > 0;
      return {
        overdue,
        due: overdue ? `overdue by ${duration(lapse.hoursOverdue)}` : `due in ${duration(lapse.hoursOverdue)}`,
      };
    }
    return { overdue: false };
  }
  const last = `last reviewed ${duration(lapse.hoursSince)} ago`;
  if (lapse.hoursOverdue === undefined) {
    return { last, overdue: false };
  }
  const cadenceDays = Math.round((lapse.hoursSince - lapse.hoursOverdue) / 24);
  const overdue = lapse.hoursOverdue > 0;
  return {
    last,
    cadence: `every ${cadenceDays === 1 ? 'day' : `${cadenceDays} days`}`,
    due: overdue ? `overdue by ${duration(lapse.hoursOverdue)}` : `next due in ${duration(lapse.hoursOverdue)}`,
    overdue,
  };
}
