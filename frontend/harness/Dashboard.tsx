// A shipped dashboard (dashboards/*.json) rendered in the harness from real answers: each
// panel's queries of this datasource run through the datasource module against the backend,
// and the panel is drawn with @grafana/ui's own visualisations (stat → BigValue, bar gauge →
// BarGauge, table → Table, time series → TimeSeries), laid out by the panel's gridPos.
// Panels of other datasources (the example's TestData panels) are drawn as placeholders.
import {
  DataFrame,
  FieldColorModeId,
  FieldConfigSource,
  LoadingState,
  ThresholdsMode,
  applyFieldOverrides,
  dateTime,
  FieldType,
  createDataFrame,
  getDefaultTimeRange,
  renderMarkdown,
  getFieldDisplayValues,
  type PanelData,
  standardTransformers,
  standardTransformersRegistry,
  transformDataFrame,
  type DataTransformerConfig,
  type ScopedVars,
} from '@grafana/data';
import {
  BarGauge,
  BigValue,
  BigValueColorMode,
  BigValueGraphMode,
  BigValueTextMode,
  ErrorBoundaryAlert,
  LegendDisplayMode,
  PanelChrome,
  Table,
  Text,
  TimeSeries,
  useTheme2,
} from '@grafana/ui';
import { getTemplateSrv } from '@grafana/runtime';
import React, { useEffect, useMemo, useState } from 'react';
import { lastValueFrom } from 'rxjs';

import type { DataSource } from '../src/datasource/DataSource';
import type { MaturityQuery } from '../src/datasource/types';
import { asVariableQuery, variableValues } from '../src/datasource/variables';
import { MaturityPanel } from '../src/panel/components/MaturityPanel';
import { runQueries } from './App';
import { harnessUser } from './services';

// Grafana registers its transformations at start-up; the harness registers @grafana/data's.
// (Some transformers are listed twice under old names; each id is registered once.)
standardTransformersRegistry.setInit(() =>
  Array.from(new Map(Object.values(standardTransformers).map((t) => [t.id, t])).values()).map((t) => ({
    id: t.id,
    name: t.name,
    description: t.description,
    transformation: t,
    editor: () => null,
    imageDark: '',
    imageLight: '',
  }))
);

/** `${__field.labels.team}`, `${__field.name}`, `${__series.name}`: the display-name templates Grafana fills per field. */
export function replaceFieldVariables(value: string, scopedVars?: ScopedVars): string {
  return value.replace(/\$\{(__\w+)\.([\w.]+)\}/g, (match, name: string, path: string) => {
    let at: unknown = scopedVars?.[name]?.value;
    for (const key of path.split('.')) {
      at = (at as Record<string, unknown> | undefined)?.[key];
    }
    return at === undefined || at === null ? match : String(at);
  });
}

/** The parts of a dashboard panel the harness reads. */
export interface PanelModel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Array<MaturityQuery & { datasource?: { type?: string; uid?: string } }>;
  fieldConfig?: FieldConfigSource;
  transformations?: DataTransformerConfig[];
  options?: {
    reduceOptions?: { calcs?: string[]; values?: boolean; fields?: string };
    orientation?: string;
    displayMode?: string;
    content?: string;
  };
  panels?: PanelModel[];
  repeat?: string;
  scopedVars?: ScopedVars;
}

/** The parts of a dashboard the harness reads. */
export interface DashboardModel {
  title: string;
  uid: string;
  panels: PanelModel[];
  time?: { from: string; to: string };
  templating?: { list: Array<{ name: string; query?: unknown; current?: { value?: string | string[] } }> };
}

const OURS = 'datadriven-maturity-datasource';
const COLUMN = 1400 / 24;
const ROW = 30;

const TESTDATA = 'grafana-testdata-datasource';

/**
 * TestData's `random_walk` scenario, drawn in the harness as Grafana's TestData draws it (a
 * bounded random walk from startValue by ±spread per step), seeded by the panel so a
 * screenshot is repeatable. The example dashboard's service panels use it.
 */
export function randomWalk(
  target: { alias?: string; min?: number; max?: number; startValue?: number; spread?: number },
  seed: number,
  days: number
): DataFrame {
  const points = 200;
  const to = Date.now();
  const step = (days * 86400000) / points;
  let state = seed * 9301 + 49297;
  const random = () => {
    state = (state * 9301 + 49297) % 233280;
    return state / 233280;
  };
  const min = target.min ?? -Infinity;
  const max = target.max ?? Infinity;
  let value = target.startValue ?? random() * 100;
  const times: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < points; i++) {
    times.push(to - (points - i) * step);
    value = Math.min(max, Math.max(min, value + (random() - 0.5) * 2 * (target.spread ?? 1)));
    values.push(value);
  }
  return createDataFrame({
    fields: [
      { name: 'time', type: FieldType.time, values: times },
      { name: target.alias ?? 'value', type: FieldType.number, values },
    ],
  });
}

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

function setPath(target: Record<string, unknown>, path: string, value: unknown) {
  const keys = path.split('.');
  let at = target;
  for (const key of keys.slice(0, -1)) {
    at[key] = { ...((at[key] as Record<string, unknown>) ?? {}) };
    at = at[key] as Record<string, unknown>;
  }
  at[keys[keys.length - 1]] = value;
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
  if (panel.type === 'datadriven-maturity-panel') {
    return (
      <MaturityPanel
        {...({} as React.ComponentProps<typeof MaturityPanel>)}
        id={panel.id}
        data={{
          series: frames,
          state: LoadingState.Done,
          timeRange: getDefaultTimeRange(),
          request: { targets: panel.targets ?? [] } as unknown as PanelData['request'],
        }}
        options={{ team: '$team', view: 'auto', showActions: true, ...(panel.options as object) }}
        width={width}
        height={height}
        role={harnessUser.role}
        replaceVariables={(v: string) => getTemplateSrv().replace(v, panel.scopedVars)}
      />
    );
  }
  // Grafana fills in its standard field defaults (thresholds, colour mode) before drawing.
  const given = panel.fieldConfig ?? { defaults: {}, overrides: [] };
  const fieldConfig: FieldConfigSource = {
    overrides: given.overrides ?? [],
    defaults: {
      thresholds: { mode: ThresholdsMode.Absolute, steps: [{ value: -Infinity, color: 'green' }] },
      color: { mode: FieldColorModeId.Thresholds },
      ...given.defaults,
    },
  };
  // Grafana's field-config registry is not in the harness, so applyFieldOverrides would skip the
  // panel's defaults and overrides: merge them into each field first (byName overrides only).
  const withConfig = frames.map((frame) => ({
    ...frame,
    fields: frame.fields.map((field) => {
      const config: Record<string, unknown> = { ...fieldConfig.defaults, ...field.config };
      for (const o of fieldConfig.overrides) {
        if (o.matcher.id === 'byName' && o.matcher.options === field.name) {
          for (const p of o.properties) {
            setPath(config, p.id, p.value);
          }
        }
      }
      if (typeof config.displayName === 'string') {
        config.displayName = replaceFieldVariables(config.displayName, {
          __field: { text: 'Field', value: { name: field.name, labels: field.labels ?? {} } },
        });
      }
      return { ...field, config };
    }),
  }));
  const processed = applyFieldOverrides({
    data: withConfig,
    fieldConfig: { defaults: {}, overrides: [] },
    replaceVariables: replaceFieldVariables,
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
              textMode={values.length === 1 ? BigValueTextMode.Value : BigValueTextMode.ValueAndName}
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
  const testData =
    panel.datasource?.type === TESTDATA &&
    (panel.targets ?? []).every((t) => (t as { scenarioId?: string }).scenarioId === 'random_walk');
  useEffect(() => {
    if (!ours || panel.type === 'text') {
      return;
    }
    const targets = (panel.targets ?? []).map((t) => {
      const { datasource: _ignored, ...query } = t;
      return query as MaturityQuery;
    });
    runQueries(ds, targets, days, panel.scopedVars)
      .then(async (answer) => ({
        ...answer,
        frames: await lastValueFrom(transformDataFrame(panel.transformations ?? [], answer.frames)),
      }))
      .then(setAnswer, (e) => setAnswer({ frames: [], errors: [String(e)], state: LoadingState.Error }));
  }, [ds, panel, days, ours]);
  // TestData panels need no request: their answer is drawn here.
  const walk = useMemo(
    () =>
      testData ? (panel.targets ?? []).map((t, i) => randomWalk(t as object, panel.id * 31 + i, days)) : undefined,
    [testData, panel, days]
  );
  const shown = walk ? { frames: walk, errors: [], state: LoadingState.Done } : answer;
  const width = panel.gridPos.w * COLUMN - 8;
  const height = panel.gridPos.h * ROW - 8;
  return (
    <div
      data-testid="dashboard-panel"
      data-state={(ours || testData) && panel.type !== 'text' ? shown.state : 'Done'}
      style={{ position: 'absolute', left: panel.gridPos.x * COLUMN, top: panel.gridPos.y * ROW, width, height }}
    >
      <PanelChrome
        title={panel.title}
        width={width}
        height={height}
        loadingState={ours || testData ? shown.state : LoadingState.Done}
      >
        {(w, h) =>
          panel.type === 'text' ? (
            <div
              className="markdown-html"
              style={{ overflow: 'auto', height: h }}
              dangerouslySetInnerHTML={{ __html: renderMarkdown(panel.options?.content ?? '') }}
            />
          ) : !ours && !testData ? (
            <Text color="secondary" italic>
              A panel of another datasource (TestData in the example): it renders in Grafana, not in the harness.
            </Text>
          ) : shown.errors.length ? (
            <Text color="error">{shown.errors.join('; ')}</Text>
          ) : (
            <ErrorBoundaryAlert>
              <PanelBody panel={panel} frames={shown.frames} width={w} height={h} />
            </ErrorBoundaryAlert>
          )
        }
      </PanelChrome>
    </div>
  );
}

/**
 * Repeated panels as Grafana lays them out: one copy per value of the repeat variable (All =
 * every value), side by side and wrapping at 24 columns, each with the value in its
 * scopedVars; panels below move down by the rows the copies add.
 */
export function expandRepeats(
  panels: PanelModel[],
  valuesOf: (variable: string) => Array<{ text: string; value: string }>
): PanelModel[] {
  const out: PanelModel[] = [];
  let shift = 0;
  for (const p of [...panels].sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x)) {
    const base = { ...p, gridPos: { ...p.gridPos, y: p.gridPos.y + shift } };
    const values = p.repeat ? valuesOf(p.repeat) : [];
    if (!p.repeat || values.length === 0) {
      out.push(base);
      continue;
    }
    const perRow = Math.max(1, Math.floor(24 / p.gridPos.w));
    values.forEach((v, i) => {
      const scopedVars: ScopedVars = { [p.repeat!]: { text: v.text, value: v.value } };
      out.push({
        ...base,
        id: p.id * 1000 + i,
        scopedVars,
        title: getTemplateSrv().replace(p.title, scopedVars),
        gridPos: {
          ...base.gridPos,
          x: (i % perRow) * p.gridPos.w,
          y: base.gridPos.y + Math.floor(i / perRow) * p.gridPos.h,
        },
      });
    });
    shift += (Math.ceil(values.length / perRow) - 1) * p.gridPos.h;
  }
  return out;
}

/** Renders `dashboards/<file>` as a grid of live panels. */
export function Dashboard({ ds, file }: { ds: DataSource; file: string }) {
  const [model, setModel] = useState<DashboardModel | undefined>();
  const [repeatValues, setRepeatValues] = useState<Record<string, Array<{ text: string; value: string }>>>({});
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    fetch(`dashboards/${file}`)
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`${file}: ${r.status}`))))
      .then(async (m: DashboardModel) => {
        // The values of every variable a panel repeats by, from this datasource's variable support.
        const values: Record<string, Array<{ text: string; value: string }>> = {};
        const repeated = new Set(
          m.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p])).map((p) => p.repeat)
        );
        for (const v of m.templating?.list ?? []) {
          if (repeated.has(v.name)) {
            values[v.name] = await variableValues(ds, asVariableQuery(v.query), (x) =>
              getTemplateSrv().replace(x, {}, 'csv')
            );
          }
        }
        setRepeatValues(values);
        setModel(m);
      })
      .catch((e) => setError(String(e)));
  }, [ds, file]);
  if (error) {
    return <Text color="error">{error}</Text>;
  }
  if (!model) {
    return <Text color="secondary">Loading…</Text>;
  }
  const panels = expandRepeats(
    model.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p])),
    (name) => repeatValues[name] ?? []
  );
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
