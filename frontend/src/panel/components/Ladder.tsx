// One team on the ladder: its level and score, the sentence that blocks the next level, and
// the seven rungs with what each measured against its threshold. Rungs the team holds are
// green, the next rung is where the work is, rungs above it are dimmed (the ladder is gated).
import { css, cx } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { Icon, Text, useStyles2 } from '@grafana/ui';
import React from 'react';

import { Criterion, LEVELS, TeamView, nextBlocker } from '../model';

/** "75% of 75%" for a share, "3 of 4" for a count: what was measured against what is needed. */
export function measured(c: Criterion): string {
  const share = c.threshold > 0 && c.threshold < 1;
  const show = (n: number) => (share ? `${Math.round(n * 100)}%` : Number.isInteger(n) ? String(n) : n.toFixed(2));
  return `${show(c.value)} of ${show(c.threshold)}`;
}

export function Ladder({ team, compact }: { team: TeamView; compact: boolean }) {
  const styles = useStyles2(getStyles);
  const blocker = nextBlocker(team);
  const byLevel = new Map(team.criteria.map((c) => [c.level, c]));
  return (
    <section aria-label={`Maturity ladder of ${team.team}`} className={styles.ladder}>
      <div className={styles.header}>
        <span className={styles.level} aria-label={`Level ${team.level} of 7`}>
          {team.level}
        </span>
        <div>
          <Text element="h3">{team.team}</Text>
          <Text color="secondary" variant="bodySmall">
            level {team.level} of 7 · {team.score} of 7 criteria pass
          </Text>
        </div>
      </div>
      {blocker ? (
        <div className={styles.blocker} role="note" aria-label="What blocks the next level">
          <Icon name="arrow-up" />
          <span>
            <strong>Next: {LEVELS[blocker.level - 1]?.name ?? blocker.id}.</strong> {blocker.detail}
          </span>
        </div>
      ) : (
        <div className={styles.top} role="note">
          <Icon name="check-circle" /> Every criterion holds: the team is data-driven.
        </div>
      )}
      {!compact && (
        <ol className={styles.rungs} aria-label="Criteria, level 7 at the top">
          {[...LEVELS].reverse().map((l) => {
            const c = byLevel.get(l.level);
            const held = l.level <= team.level;
            const next = l.level === team.level + 1;
            return (
              <li
                key={l.level}
                className={cx(styles.rung, held && styles.held, next && styles.next, !held && !next && styles.above)}
                aria-label={`Level ${l.level}, ${l.name}: ${c ? (c.passed ? 'passes' : 'fails') : 'not measured'}`}
              >
                <span className={styles.rungLevel}>{l.level}</span>
                <Icon name={c?.passed ? 'check' : 'times'} className={c?.passed ? styles.pass : styles.fail} />
                <span className={styles.rungName} title={l.means}>
                  {l.name}
                </span>
                {c && <span className={styles.measure}>{measured(c)}</span>}
                {c && !c.passed && <span className={styles.detail}>{c.detail}</span>}
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  ladder: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(1) }),
  header: css({ display: 'flex', alignItems: 'center', gap: theme.spacing(1.5) }),
  level: css({
    fontSize: theme.typography.h1.fontSize,
    fontWeight: theme.typography.fontWeightBold,
    width: theme.spacing(6),
    height: theme.spacing(6),
    borderRadius: theme.shape.radius.circle,
    display: 'flex',
    alignItems: 'center',
    justifyContent: 'center',
    background: theme.colors.primary.transparent,
    color: theme.colors.primary.text,
    flexShrink: 0,
  }),
  blocker: css({
    display: 'flex',
    gap: theme.spacing(1),
    alignItems: 'baseline',
    padding: theme.spacing(1),
    borderLeft: `3px solid ${theme.colors.warning.main}`,
    background: theme.colors.warning.transparent,
    borderRadius: theme.shape.radius.default,
  }),
  top: css({
    padding: theme.spacing(1),
    borderLeft: `3px solid ${theme.colors.success.main}`,
    background: theme.colors.success.transparent,
  }),
  rungs: css({ listStyle: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column', gap: 2 }),
  rung: css({
    display: 'grid',
    gridTemplateColumns: `${theme.spacing(3)} ${theme.spacing(2.5)} minmax(8em, 14em) auto 1fr`,
    alignItems: 'baseline',
    gap: theme.spacing(1),
    padding: theme.spacing(0.5, 1),
    borderRadius: theme.shape.radius.default,
  }),
  held: css({ background: theme.colors.success.transparent }),
  next: css({ background: theme.colors.warning.transparent, outline: `1px solid ${theme.colors.warning.border}` }),
  above: css({ opacity: 0.6 }),
  rungLevel: css({ fontWeight: theme.typography.fontWeightBold, textAlign: 'right' }),
  rungName: css({ fontWeight: theme.typography.fontWeightMedium }),
  measure: css({ color: theme.colors.text.secondary, fontVariantNumeric: 'tabular-nums' }),
  detail: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
  pass: css({ color: theme.colors.success.text }),
  fail: css({ color: theme.colors.error.text }),
});
