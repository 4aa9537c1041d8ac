// A shipped dashboard (dashboards/*.json) rendered in the harness from real answers: each
// panel's queries of this datasource run through the datasource module against the backend,
// and the panel is drawn with @grafana/ui's own visualisations (stat → BigValue, bar gauge →
// BarGauge, table → Table, time series → TimeSeries), laid out by the panel's gridPos.
// Panels of other datasources (the example's TestData panels) are drawn as placeholders.
import {
  DataFrame,
  FieldConfigSource,
  LoadingState,
  applyFieldOverrides,
  dateTime,
  getFieldDisplayValues,
} from '@grafana/data';
import {
  BarGauge,
  BigValue,
  BigValueColorMode,
  BigValueGraphMode,
  LegendDisplayMode,
  PanelChrome,
  Table,
  Text,
  TimeSeries,
  useTheme2,
} from '@grafana/ui';
import React, { useEffect, useState } from 'react';

import type { DataSource } from '../src/datasource/DataSource';
import type { MaturityQuery } from '../src/datasource/types';
import { runQueries } from './App';

/** The parts of a dashboard panel the harness reads. */
export interface PanelModel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Array<MaturityQuery & { datasource?: { type?: string; uid?: string } }>;
  fieldConfig?: FieldConfigSource;
  options?: {
    reduceOptions?: { calcs?: string[]; values?: boolean; fields?: string };
    orientation?: string;
    displayMode?: string;
    content?: string;
  };
  panels?: PanelModel[];
}

/** The parts of a dashboard the harness reads. */
export interface DashboardModel {
  title: string;
  uid: string;
  panels: PanelModel[];
  time?: { from: string; to: string };
}

const OURS = 'datadriven-maturity-datasource';
const COLUMN = 1400 / 24;
const ROW = 30;

function isOurs(ref?: { type?: string; uid?: string }): boolean {
  return !ref || ref.type === OURS || (ref.uid ?? '').includes('DS_MATURITY') || ref.uid === 'maturity';
}

function daysOf(from?: string): number {
  const m = /^now-(\d+)([dwMy])$/.exec(from ?? '');
  if (!m) {
    return 90;
  }
  const n = Number(m[1]);
  return n * ({ d: 1, w: 7, M: 30, y: 365 } as Record<string, number>)[m[2]];
}

function PanelBody({
  panel,
  frames,
  width,
  height,
}: {
  panel: PanelModel;
  frames: DataFrame[];
  width: number;
  height: number;
}) {
  const theme = useTheme2();
  const fieldConfig = panel.fieldConfig ?? { defaults: {}, overrides: [] };
  const processed = applyFieldOverrides({
    data: frames,
    fieldConfig,
    replaceVariables: (v: string) => v,
    theme,
    timeZone: 'utc',
  });
  if (panel.type === 'timeseries') {
    const times = processed.flatMap((f) =>
      f.fields.filter((x) => x.type === 'time').flatMap((x) => x.values as number[])
    );
    const from = dateTime(Math.min(...times));
    const to = dateTime(Math.max(...times));
    if (!times.length) {
      return <Text color="secondary">No data</Text>;
    }
    return (
      <TimeSeries
        frames={processed}
        width={width}
        height={height}
        timeRange={{ from, to, raw: { from, to } }}
        timeZone="utc"
        legend={{ displayMode: LegendDisplayMode.List, placement: 'bottom', showLegend: true, calcs: [] }}
        tweakScale={(o) => o}
        tweakAxis={(o) => o}
      >
        {() => null}
      </TimeSeries>
    );
  }
  if (panel.type === 'stat' || panel.type === 'bargauge' || panel.type === 'gauge') {
    const values = getFieldDisplayValues({
      data: processed,
      fieldConfig,
      reduceOptions: { calcs: ['lastNotNull'], values: true, ...(panel.options?.reduceOptions ?? {}) },
      replaceVariables: (v: string) => v,
      theme,
      timeZone: 'utc',
    });
    if (!values.length) {
      return <Text color="secondary">No data</Text>;
    }
    const vertical = panel.type === 'bargauge' && panel.options?.orientation !== 'horizontal';
    const each =
      panel.type === 'bargauge' && !vertical
        ? { w: width, h: Math.max(24, height / values.length - 4) }
        : { w: width / values.length - 4, h: height };
    return (
      <div
        style={{ display: 'flex', flexDirection: panel.type === 'bargauge' && !vertical ? 'column' : 'row', gap: 4 }}
      >
        {values.map((v, i) =>
          panel.type === 'stat' ? (
            <BigValue
              key={i}
              theme={theme}
              value={v.display}
              width={each.w}
              height={each.h}
              colorMode={BigValueColorMode.Background}
              graphMode={BigValueGraphMode.None}
            />
          ) : (
            <BarGauge
              key={i}
              theme={theme}
              value={v.display}
              field={v.field}
              width={each.w}
              height={each.h}
              orientation={vertical ? ('vertical' as never) : ('horizontal' as never)}
              displayMode={(panel.options?.displayMode ?? 'gradient') as never}
            />
          )
        )}
      </div>
    );
  }
  return (
    <div>
      {processed.map((frame, i) => (
        <Table key={i} data={frame} width={width} height={Math.max(height / processed.length, 60)} />
      ))}
    </div>
  );
}

function Panel({ ds, panel, days }: { ds: DataSource; panel: PanelModel; days: number }) {
  const [answer, setAnswer] = useState<{ frames: DataFrame[]; errors: string[]; state: LoadingState }>({
    frames: [],
    errors: [],
    state: LoadingState.Loading,
  });
  const ours = isOurs(panel.datasource) && (panel.targets ?? []).every((t) => isOurs(t.datasource));
  useEffect(() => {
    if (!ours || panel.type === 'text') {
      return;
    }
    const targets = (panel.targets ?? []).map((t) => {
      const { datasource: _ignored, ...query } = t;
      return query as MaturityQuery;
    });
    runQueries(ds, targets, days).then(setAnswer, (e) =>
      setAnswer({ frames: [], errors: [String(e)], state: LoadingState.Error })
    );
  }, [ds, panel, days, ours]);
  const width = panel.gridPos.w * COLUMN - 8;
  const height = panel.gridPos.h * ROW - 8;
  return (
    <div
      data-testid="dashboard-panel"
      data-state={ours && panel.type !== 'text' ? answer.state : 'Done'}
      style={{ position: 'absolute', left: panel.gridPos.x * COLUMN, top: panel.gridPos.y * ROW, width, height }}
    >
      <PanelChrome
        title={panel.title}
        width={width}
        height={height}
        loadingState={ours ? answer.state : LoadingState.Done}
      >
        {(w, h) =>
          panel.type === 'text' ? (
            <Text color="secondary">{panel.options?.content ?? ''}</Text>
          ) : !ours ? (
            <Text color="secondary" italic>
              A panel of another datasource (TestData in the example): it renders in Grafana, not in the harness.
            </Text>
          ) : answer.errors.length ? (
            <Text color="error">{answer.errors.join('; ')}</Text>
          ) : (
            <PanelBody panel={panel} frames={answer.frames} width={w} height={h} />
          )
        }
      </PanelChrome>
    </div>
  );
}

/** Renders `dashboards/<file>` as a grid of live panels. */
export function Dashboard({ ds, file }: { ds: DataSource; file: string }) {
  const [model, setModel] = useState<DashboardModel | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    fetch(`dashboards/${file}`)
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`${file}: ${r.status}`))))
      .then(setModel, (e) => setError(String(e)));
  }, [file]);
  if (error) {
    return <Text color="error">{error}</Text>;
  }
  if (!model) {
    return <Text color="secondary">Loading…</Text>;
  }
  const panels = model.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
  const bottom = Math.max(...panels.map((p) => p.gridPos.y + p.gridPos.h));
  const days = daysOf(model.time?.from);
  return (
    <div>
      <Text element="h3">{model.title}</Text>
      <div data-testid="dashboard" style={{ position: 'relative', height: bottom * ROW, marginTop: 8 }}>
        {panels.map((p) => (
          <Panel key={p.id} ds={ds} panel={p} days={days} />
        ))}
      </div>
    </div>
  );
}
