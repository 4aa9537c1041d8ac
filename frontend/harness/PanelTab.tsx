// The maturity panel in the harness, as a dashboard would host it: its four queries (criteria,
// maturity, and reviewLapse in both measures) run through the datasource module against the
// real backend, the panel drawn at a chosen size, and the dashboard's refresh (RefreshEvent on
// the app's event bus) running them again after an action, with the events query beside it
// so a recorded review or decision shows at once.
import { DataFrame, LoadingState, PanelData, dateTime, getDefaultTimeRange } from '@grafana/data';
import { RefreshEvent, getAppEvents, getTemplateSrv } from '@grafana/runtime';
import { RadioButtonGroup, Stack, Text } from '@grafana/ui';
import React, { useCallback, useEffect, useState } from 'react';

import type { DataSource } from '../src/datasource/DataSource';
import type { MaturityQuery } from '../src/datasource/types';
import { MaturityPanel } from '../src/panel/components/MaturityPanel';
import type { PanelOptions } from '../src/panel/types';
import { runQueries } from './App';
import { Results } from './Results';
import { harnessDashboard, harnessUser } from './services';

const SIZES = {
  small: { width: 360, height: 300 },
  large: { width: 880, height: 720 },
};

/** The panel's queries as a dashboard would save them. */
export function panelQueries(team: string): MaturityQuery[] {
  const datasource = { type: 'datadriven-maturity-datasource', uid: 'maturity' };
  return [
    { refId: 'A', datasource, queryType: 'criteria', team },
    { refId: 'B', datasource, queryType: 'maturity', team },
    { refId: 'C', datasource, queryType: 'reviewLapse', team, measure: 'hoursSinceReview' },
    { refId: 'D', datasource, queryType: 'reviewLapse', team, measure: 'hoursOverdue' },
  ] as unknown as MaturityQuery[];
}

export function PanelTab({ ds, days, width }: { ds: DataSource; days: number; width: number }) {
  const [size, setSize] = useState<keyof typeof SIZES>('large');
  const [view, setView] = useState<PanelOptions['view']>('auto');
  const [data, setData] = useState<PanelData>({
    series: [],
    state: LoadingState.Loading,
    timeRange: getDefaultTimeRange(),
  });
  const [events, setEvents] = useState<DataFrame[]>([]);
  const load = useCallback(() => {
    const queries = panelQueries('$team');
    runQueries(ds, queries, days).then((answer) =>
      setData({
        series: answer.frames,
        state: answer.state,
        errors: answer.errors.map((message) => ({ message })),
        timeRange: {
          from: dateTime(Date.now() - days * 86400000),
          to: dateTime(),
          raw: { from: `now-${days}d`, to: 'now' },
        },
        request: { targets: queries } as unknown as PanelData['request'],
      })
    );
    runQueries(
      ds,
      [
        {
          refId: 'E',
          queryType: 'events',
          team: '$team',
          kinds: ['review', 'decision', 'question', 'outcome'],
          limit: 5,
        } as unknown as MaturityQuery,
      ],
      days
    ).then((answer) => setEvents(answer.frames));
  }, [ds, days]);
  useEffect(() => {
    load();
    const sub = getAppEvents().subscribe(RefreshEvent, load);
    return () => sub.unsubscribe();
  }, [load]);
  const { width: w, height: h } = SIZES[size];
  return (
    <Stack direction="column" gap={2}>
      <Stack direction="row" gap={2} alignItems="center">
        <RadioButtonGroup
          options={[
            { label: 'Large', value: 'large' },
            { label: 'Small', value: 'small' },
          ]}
          value={size}
          onChange={setSize}
        />
        <RadioButtonGroup
          options={[
            { label: 'Auto', value: 'auto' },
            { label: 'Ladder', value: 'ladder' },
            { label: 'Grid', value: 'grid' },
          ]}
          value={view}
          onChange={setView}
        />
        <Text color="secondary">
          {w}×{h} · role {harnessUser.role}
        </Text>
      </Stack>
      <div
        data-testid="maturity-panel"
        style={{ width: w, height: h, border: '1px solid rgba(128,128,128,0.3)', borderRadius: 2 }}
      >
        {data.state !== LoadingState.Loading && (
          <MaturityPanel
            id={harnessDashboard.panelId}
            data={data}
            options={{ team: '$team', view, showActions: true }}
            width={w - 2}
            height={h - 2}
            role={harnessUser.role}
            replaceVariables={(v: string) => getTemplateSrv().replace(v)}
            {...({} as Omit<
              React.ComponentProps<typeof MaturityPanel>,
              'id' | 'data' | 'options' | 'width' | 'height' | 'role' | 'replaceVariables'
            >)}
          />
        )}
      </div>
      <Results title="Latest evidence" frames={events} width={width} state={LoadingState.Done} />
    </Stack>
  );
}
