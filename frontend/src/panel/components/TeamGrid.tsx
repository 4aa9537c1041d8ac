// Many teams at a glance: a card per team, highest level first, with what blocks its next one
// and whether its review is overdue. Choosing a card opens that team's ladder.
import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { Badge, Text, useStyles2 } from '@grafana/ui';
import React from 'react';

import { TeamView, nextBlocker, reviewStatus, teamLapse } from '../model';

export function TeamGrid({ teams, onSelect }: { teams: TeamView[]; onSelect: (team: string) => void }) {
  const styles = useStyles2(getStyles);
  return (
    <ul className={styles.grid} aria-label="Teams by maturity level">
      {teams.map((t) => {
        const blocker = nextBlocker(t);
        const status = reviewStatus(teamLapse(t));
        return (
          <li key={t.team}>
            <button
              className={styles.card}
              onClick={() => onSelect(t.team)}
              aria-label={`${t.team}, level ${t.level}: open the ladder`}
            >
              <span className={styles.level}>{t.level}</span>
              <span className={styles.body}>
                <Text weight="medium">{t.team}</Text>
                <Text color="secondary" variant="bodySmall" truncate>
                  {blocker ? blocker.detail : 'Every criterion holds'}
                </Text>
                {status.overdue && status.due && <Badge color="red" text={`review ${status.due}`} />}
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  grid: css({
    listStyle: 'none',
    margin: 0,
    padding: 0,
    display: 'grid',
    gridTemplateColumns: 'repeat(auto-fill, minmax(220px, 1fr))',
    gap: theme.spacing(1),
  }),
  card: css({
    width: '100%',
    display: 'flex',
    gap: theme.spacing(1),
    alignItems: 'center',
    textAlign: 'left',
    padding: theme.spacing(1),
    background: theme.colors.background.secondary,
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
    color: theme.colors.text.primary,
    cursor: 'pointer',
    '&:hover, &:focus-visible': { borderColor: theme.colors.primary.border, outline: 'none' },
  }),
  level: css({
    fontSize: theme.typography.h2.fontSize,
    fontWeight: theme.typography.fontWeightBold,
    minWidth: theme.spacing(4),
    textAlign: 'center',
    color: theme.colors.primary.text,
  }),
  body: css({ display: 'flex', flexDirection: 'column', gap: 2, minWidth: 0 }),
});
