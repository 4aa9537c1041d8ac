// The team's review status: when it last reviewed, its cadence, and by how long the next
// review is overdue (or when it falls due); and the agenda items its queries answered.
import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { Badge, Icon, Text, useStyles2 } from '@grafana/ui';
import React from 'react';

import { TeamView, reviewStatus, teamLapse } from '../model';

const ITEM_LABELS: Record<string, string> = {
  review_lapsed: 'Review lapsed',
  target_off_track: 'Target off track',
  target_due: 'Target past its deadline',
  verification_due: 'Verification due',
  follow_up_due: 'Follow-up due',
  follow_up_overdue: 'Follow-up overdue',
  outcome_suggested: 'Outcome suggested',
  level_dropped: 'Level dropped',
};

export function ReviewStatus({ team }: { team: TeamView }) {
  const styles = useStyles2(getStyles);
  const status = reviewStatus(teamLapse(team));
  if (!status.last && !status.due && team.agenda.length === 0) {
    return null;
  }
  return (
    <section aria-label="Review status" className={styles.status}>
      {(status.last || status.due) && (
        <div className={styles.line}>
          <Icon name="eye" />
          <Text>{[status.last, status.cadence].filter(Boolean).join(', ')}</Text>
          {status.due && <Badge color={status.overdue ? 'red' : 'green'} text={status.due} />}
        </div>
      )}
      {team.agenda.length > 0 && (
        <div>
          <Text weight="medium">To discuss now</Text>
          <ol className={styles.agenda} aria-label="Review agenda">
            {team.agenda.map((a, i) => (
              <li key={i}>
                <Badge
                  color={a.item.includes('overdue') || a.item.includes('lapsed') ? 'red' : 'orange'}
                  text={ITEM_LABELS[a.item] ?? a.item}
                />{' '}
                <Text color="secondary">{a.detail}</Text>
              </li>
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  status: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(1) }),
  line: css({ display: 'flex', alignItems: 'center', gap: theme.spacing(1), flexWrap: 'wrap' }),
  agenda: css({
    margin: theme.spacing(0.5, 0, 0, 2.5),
    display: 'flex',
    flexDirection: 'column',
    gap: theme.spacing(0.5),
  }),
});
