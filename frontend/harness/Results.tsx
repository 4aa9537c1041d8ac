// The answer of a query as a Grafana panel shows it: each frame through Grafana's field
// processing, as a @grafana/ui Table, and as a time series graph when the frame has a time
// field and numbers (wide series such as maturityHistory, reviewActivity, targetSeries).
import {
  DataFrame,
  FieldType,
  LoadingState,
  TimeRange,
  applyFieldOverrides,
  dateTime,
  getDefaultTimeRange,
} from '@grafana/data';
import { LegendDisplayMode, PanelChrome, Table, TimeSeries, useTheme2 } from '@grafana/ui';
import React from 'react';

interface Props {
  title: string;
  frames: DataFrame[];
  width: number;
  state: LoadingState;
}

function isTimeSeries(frame: DataFrame): boolean {
  return (
    frame.fields.some((f) => f.type === FieldType.time) &&
    frame.fields.some((f) => f.type === FieldType.number) &&
    frame.length > 1
  );
}

function timeRangeOf(from: number, to: number): TimeRange {
  return { from: dateTime(from), to: dateTime(to), raw: { from: dateTime(from), to: dateTime(to) } };
}

function frameTitle(frame: DataFrame, index: number): string {
  return frame.name || frame.refId ? `${frame.name ?? frame.refId}` : `Frame ${index + 1}`;
}

export function Results({ title, frames, width, state }: Props) {
  const theme = useTheme2();
  const processed = applyFieldOverrides({
    data: frames,
    fieldConfig: { defaults: {}, overrides: [] },
    replaceVariables: (v: string) => v,
    theme,
    timeZone: 'utc',
  });
  const series = processed.filter(isTimeSeries);
  const rows = processed.reduce((n, f) => n + f.length, 0);
  const times = series.flatMap((f) =>
    f.fields.filter((x) => x.type === FieldType.time).flatMap((x) => x.values as number[])
  );
  const graphRange = times.length ? timeRangeOf(Math.min(...times), Math.max(...times)) : getDefaultTimeRange();
  return (
    <div data-testid="results">
      {series.length > 0 && (
        <PanelChrome title={`${title}: graph`} width={width} height={300} loadingState={state}>
          {(innerWidth, innerHeight) => (
            <TimeSeries
              frames={series}
              width={innerWidth}
              height={innerHeight}
              timeRange={graphRange}
              timeZone="utc"
              legend={{ displayMode: LegendDisplayMode.List, placement: 'bottom', showLegend: true, calcs: [] }}
              tweakScale={(opts) => opts}
              tweakAxis={(opts) => opts}
            >
              {() => null}
            </TimeSeries>
          )}
        </PanelChrome>
      )}
      {processed.map((frame, i) => (
        <div key={i} style={{ marginTop: 8 }}>
          <PanelChrome
            title={`${title}: ${frameTitle(frame, i)} (${frame.length} rows)`}
            width={width}
            height={Math.min(88 + 36 * Math.max(frame.length, 1), 520)}
            loadingState={state}
          >
            {(innerWidth, innerHeight) => <Table data={frame} width={innerWidth} height={innerHeight} />}
          </PanelChrome>
        </div>
      ))}
      {processed.length === 0 && <div data-testid="no-frames">No data</div>}
      <div data-testid="row-count" style={{ display: 'none' }}>
        {rows}
      </div>
    </div>
  );
}
