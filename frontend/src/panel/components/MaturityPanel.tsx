// The panel: one team's ladder with its review status and the review's actions, or a grid of
// many teams by level (choosing one opens its ladder). It reads only the frames of its own
// queries; it writes only through the actions, to the datasource those queries use.
import { css } from '@emotion/css';
import { GrafanaTheme2, PanelData, PanelProps } from '@grafana/data';
import { RefreshEvent, config, getAppEvents, getDataSourceSrv } from '@grafana/runtime';
import { Alert, Button, Text, useStyles2 } from '@grafana/ui';
import React, { useState } from 'react';

import { EventBody, PanelPlace, postEvent } from '../actions';
import { TeamView, teamsFromFrames } from '../model';
import { PanelOptions } from '../types';
import { Actions } from './Actions';
import { Ladder } from './Ladder';
import { ReviewStatus } from './ReviewStatus';
import { TeamGrid } from './TeamGrid';

/** Below this width the ladder shows its level, blocker and actions only. */
export const COMPACT_WIDTH = 420;

/** Who may write to the datasource the panel's queries use (SPEC §3.2), and its uid. */
export function writer(data: PanelData, role: string): { uid?: string; canWrite: boolean; why?: string } {
  const ref = data.request?.targets?.find((t) => t.datasource)?.datasource;
  let settings: { uid: string; jsonData?: { viewersCanAnnotate?: boolean } } | undefined;
  try {
    settings = ref ? (getDataSourceSrv().getInstanceSettings(ref) as typeof settings) : undefined;
  } catch {
    settings = undefined;
  }
  if (!settings) {
    return { canWrite: false, why: 'The panel has no Data-Driven Maturity query to write through.' };
  }
  if (role === 'Editor' || role === 'Admin') {
    return { uid: settings.uid, canWrite: true };
  }
  if (role === 'Viewer' && settings.jsonData?.viewersCanAnnotate !== false) {
    return { uid: settings.uid, canWrite: true };
  }
  return { uid: settings.uid, canWrite: false, why: 'Only editors may record reviews and decisions here.' };
}

/**
 * Asks the dashboard to run its queries again, so a new annotation appears on every graph.
 * Scenes dashboards (Grafana 11+) refresh through their time range; older ones listen to
 * RefreshEvent on the app's event bus.
 */
export function refreshDashboard() {
  const scene = (
    window as unknown as { __grafanaSceneContext?: { state?: { $timeRange?: { onRefresh?: () => void } } } }
  ).__grafanaSceneContext;
  const timeRange = scene?.state?.$timeRange;
  if (timeRange?.onRefresh) {
    timeRange.onRefresh();
    return;
  }
  getAppEvents().publish(new RefreshEvent());
}

function pickTeam(teams: TeamView[], wanted: string | undefined): TeamView | undefined {
  if (wanted) {
    const t = teams.find((x) => x.team === wanted);
    if (t) {
      return t;
    }
  }
  return teams.length === 1 ? teams[0] : undefined;
}

type Props = PanelProps<PanelOptions> & {
  /** How actions post (tests and the harness hand in their own); default: the resource API. */
  postEventTo?: (uid: string, body: EventBody) => Promise<unknown>;
  /** The signed-in user's org role; default: Grafana's boot data. */
  role?: string;
};

export function MaturityPanel(props: Props) {
  const { data, options, width, height, replaceVariables } = props;
  const styles = useStyles2(getStyles);
  const [chosen, setChosen] = useState<string | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const teams = teamsFromFrames(data.series);
  const errors = data.errors ?? [];
  const optionTeam = options.team ? replaceVariables(options.team) : '';
  const team =
    options.view === 'grid' && !chosen
      ? undefined
      : (pickTeam(teams, chosen ?? (optionTeam || undefined)) ?? (options.view === 'ladder' ? teams[0] : undefined));
  const compact = width < COMPACT_WIDTH || height < 220;
  const role = props.role ?? config.bootData?.user?.orgRole ?? '';
  const who = writer(data, role);
  const post = props.postEventTo ?? postEvent;

  if (errors.length > 0 && teams.length === 0) {
    return (
      <Alert severity="error" title="The maturity queries failed">
        {errors.map((e) => `${e.refId ? `${e.refId}: ` : ''}${e.message ?? ''}`).join('\n')}
      </Alert>
    );
  }
  if (teams.length === 0) {
    return (
      <div className={styles.empty}>
        <Text color="secondary">
          No team to show. Add the <code>criteria</code> and <code>maturity</code> queries of the Data-Driven Maturity
          datasource (and <code>reviewLapse</code>, <code>reviewAgenda</code> for the review status).
        </Text>
      </div>
    );
  }
  if (!team) {
    return (
      <div className={styles.scroll} style={{ width, height }}>
        <TeamGrid teams={teams} onSelect={setChosen} />
      </div>
    );
  }
  const place: Omit<PanelPlace, 'now'> = {
    team: team.team,
    dashboardUid: replaceVariables('${__dashboard.uid}') || undefined,
    dashboardTitle: replaceVariables('${__dashboard}') || undefined,
    panelId: props.id,
  };
  const dueDecisions = team.agenda.filter((a) =>
    ['follow_up_due', 'follow_up_overdue', 'outcome_suggested'].includes(a.item)
  );
  return (
    <div className={styles.scroll} style={{ width, height }}>
      <div className={styles.column}>
        {teams.length > 1 && (
          <div>
            <Button size="sm" variant="secondary" fill="text" icon="arrow-left" onClick={() => setChosen(undefined)}>
              All teams
            </Button>
          </div>
        )}
        <Ladder team={team} compact={compact} />
        <ReviewStatus team={team} />
        {options.showActions && who.canWrite && who.uid && (
          <Actions
            key={team.team}
            place={place}
            dueDecisions={dueDecisions}
            compact={compact}
            post={(body) => post(who.uid!, body)}
            onDone={(m) => {
              setMessage(m);
              refreshDashboard();
            }}
          />
        )}
        {options.showActions && !who.canWrite && who.why && (
          <Text color="secondary" variant="bodySmall">
            {who.why}
          </Text>
        )}
        {message && (
          <Alert severity="success" title={message} onRemove={() => setMessage(undefined)} data-testid="action-done" />
        )}
      </div>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  scroll: css({ overflow: 'auto' }),
  column: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(1.5), padding: theme.spacing(0.5) }),
  empty: css({ padding: theme.spacing(2) }),
});
