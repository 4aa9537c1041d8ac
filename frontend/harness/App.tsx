// The harness page: the datasource's editors as Grafana shows them (query editor, annotation
// layer, variable, settings page), running against the real backend through the Go front, with
// each answer rendered by @grafana/ui's Table (and TimeSeries for series). For development
// (`scripts/harness`) and for the browser test that takes the README's screenshots.
import {
  AnnotationQuery,
  DataFrame,
  DataQueryRequest,
  DataQueryResponse,
  DataSourceSettings,
  LoadingState,
  ScopedVars,
  SelectableValue,
  dateTime,
} from '@grafana/data';
import {
  Alert,
  Button,
  Field,
  InlineField,
  InlineFieldRow,
  MultiSelect,
  RadioButtonGroup,
  Select,
  Stack,
  Tab,
  TabContent,
  TabsBar,
  Text,
  useTheme2,
} from '@grafana/ui';
import React, { useEffect, useState } from 'react';
import { lastValueFrom } from 'rxjs';

import { AnnotationQueryEditor } from '../src/datasource/components/AnnotationQueryEditor';
import { ConfigEditor } from '../src/datasource/components/ConfigEditor';
import { QueryEditor } from '../src/datasource/components/QueryEditor';
import { VariableQueryEditor } from '../src/datasource/components/VariableQueryEditor';
import { DataSource } from '../src/datasource/DataSource';
import { listTeams } from '../src/datasource/resources';
import type { MaturityVariableSupport } from '../src/datasource/variables';
import type {
  MaturityOptions,
  MaturityQuery,
  MaturitySecureOptions,
  MaturityVariableQuery,
  Team,
} from '../src/datasource/types';
import { Dashboard } from './Dashboard';
import { PanelTab } from './PanelTab';
import { Results } from './Results';
import { harnessDashboard, harnessUser, teamVariable } from './services';

type TabId = 'query' | 'panel' | 'annotations' | 'variables' | 'settings';

const RANGES: Array<SelectableValue<number>> = [
  { label: 'Last 7 days', value: 7 },
  { label: 'Last 30 days', value: 30 },
  { label: 'Last 90 days', value: 90 },
  { label: 'Last 6 months', value: 182 },
];

interface Answer {
  frames: DataFrame[];
  errors: string[];
  state: LoadingState;
}

const EMPTY: Answer = {
  frames: [],
  errors: [],
  state: LoadingState.NotStarted,
};

let requestCounter = 0;

/** Runs queries as a dashboard panel does: hidden and incomplete ones filtered, then the datasource's query. */
export async function runQueries(
  ds: DataSource,
  targets: MaturityQuery[],
  days: number,
  scopedVars: ScopedVars = {}
): Promise<Answer> {
  const to = dateTime();
  const from = dateTime(to.valueOf() - days * 86400000);
  const request = {
    requestId: `harness-${++requestCounter}`,
    interval: '1d',
    intervalMs: 86400000,
    maxDataPoints: 500,
    range: { from, to, raw: { from: `now-${days}d`, to: 'now' } },
    scopedVars,
    targets: targets.filter((t) => ds.filterQuery(t)),
    timezone: 'utc',
    app: 'dashboard',
    startTime: Date.now(),
    dashboardUID: harnessDashboard.uid,
    dashboardTitle: harnessDashboard.title,
    panelId: harnessDashboard.panelId,
  } as unknown as DataQueryRequest<MaturityQuery>;
  const response: DataQueryResponse = await lastValueFrom(ds.query(request));
  const errors = (response.errors ?? []).map(
    (e) => `${e.refId ? `${e.refId}: ` : ''}${e.message ?? e.data?.message ?? 'error'}`
  );
  return {
    frames: response.data as DataFrame[],
    errors,
    state: errors.length ? LoadingState.Error : LoadingState.Done,
  };
}

function useWidth(): number {
  const [width, setWidth] = useState(() => Math.min(window.innerWidth - 48, 1400));
  useEffect(() => {
    const onResize = () => setWidth(Math.min(window.innerWidth - 48, 1400));
    window.addEventListener('resize', onResize);
    return () => window.removeEventListener('resize', onResize);
  }, []);
  return width;
}

function QueryTab({ ds, days }: { ds: DataSource; days: number }) {
  const [query, setQuery] = useState<MaturityQuery>({
    refId: 'A',
    ...ds.getDefaultQuery('dashboard' as never),
  } as MaturityQuery);
  const [answer, setAnswer] = useState<Answer>(EMPTY);
  const width = useWidth();
  const run = (q: MaturityQuery = query) => {
    setAnswer((a) => ({ ...a, state: LoadingState.Loading }));
    runQueries(ds, [q], days).then(setAnswer, (e) =>
      setAnswer({
        frames: [],
        errors: [String(e?.message ?? e)],
        state: LoadingState.Error,
      })
    );
  };
  return (
    <Stack direction="column" gap={2}>
      <div
        data-testid="query-editor"
        style={{
          border: '1px solid var(--border)',
          padding: 12,
          borderRadius: 4,
        }}
      >
        <Stack direction="row" justifyContent="space-between">
          <Text weight="bold">A</Text>
          <Button size="sm" icon="sync" onClick={() => run()} data-testid="run-query">
            Run query
          </Button>
        </Stack>
        <QueryEditor datasource={ds} query={query} onChange={setQuery} onRunQuery={() => undefined} data={undefined} />
        {answer.errors.length > 0 && (
          <Alert severity="error" title="Query error" data-testid="query-error">
            {answer.errors.join('\n')}
          </Alert>
        )}
      </div>
      <details>
        <summary>
          <Text color="secondary" variant="bodySmall">
            Query JSON
          </Text>
        </summary>
        <pre data-testid="query-json">{JSON.stringify(query, null, 2)}</pre>
      </details>
      {answer.state !== LoadingState.NotStarted && (
        <Results title={query.queryType} frames={answer.frames} width={width} state={answer.state} />
      )}
    </Stack>
  );
}

function AnnotationsTab({ ds, days }: { ds: DataSource; days: number }) {
  const [annotation, setAnnotation] = useState<AnnotationQuery<MaturityQuery>>({
    name: 'Decisions and reviews',
    enable: true,
    iconColor: 'orange',
    target: {
      refId: 'Anno',
      ...ds.annotations?.getDefaultQuery?.(),
    } as MaturityQuery,
  });
  const [answer, setAnswer] = useState<Answer>(EMPTY);
  const width = useWidth();
  const run = () => {
    const q = ds.annotations?.prepareQuery?.(annotation);
    if (q) {
      runQueries(ds, [q], days).then(setAnswer);
    }
  };
  return (
    <Stack direction="column" gap={2}>
      <Text element="h4">Annotation layer: {annotation.name}</Text>
      <AnnotationQueryEditor
        datasource={ds}
        query={annotation.target as MaturityQuery}
        annotation={annotation}
        onAnnotationChange={setAnnotation}
        onChange={() => undefined}
        onRunQuery={() => undefined}
      />
      <div>
        <Button icon="sync" onClick={run} data-testid="run-annotations">
          Run annotation query
        </Button>
      </div>
      {answer.state !== LoadingState.NotStarted && (
        <Results title="Annotations" frames={answer.frames} width={width} state={answer.state} />
      )}
    </Stack>
  );
}

function VariablesTab({ ds }: { ds: DataSource }) {
  const [query, setQuery] = useState<MaturityVariableQuery>({
    refId: 'variable',
    variable: 'teams',
  });
  const [values, setValues] = useState<string[] | undefined>();
  const run = async () => {
    const support = ds.variables as MaturityVariableSupport;
    const response = await lastValueFrom(
      support.query({
        targets: [query],
        scopedVars: {},
      } as unknown as DataQueryRequest<MaturityVariableQuery>)
    );
    const frame = response.data[0] as DataFrame;
    const text = frame.fields.find((f) => f.name === 'text')?.values ?? [];
    const value = frame.fields.find((f) => f.name === 'value')?.values ?? [];
    setValues(text.map((t: string, i: number) => (t === value[i] ? t : `${t} (${value[i]})`)));
  };
  const Editor = VariableQueryEditor;
  return (
    <Stack direction="column" gap={2}>
      <Text element="h4">Variable query</Text>
      <Editor datasource={ds} query={query} onChange={setQuery} onRunQuery={() => undefined} />
      <div>
        <Button icon="sync" onClick={run} data-testid="run-variable">
          Preview values
        </Button>
      </div>
      {values && (
        <ul data-testid="variable-values">
          {values.map((v) => (
            <li key={v}>{v}</li>
          ))}
        </ul>
      )}
    </Stack>
  );
}

function SettingsTab({ ds, initial }: { ds: DataSource; initial: MaturityOptions }) {
  const [options, setOptions] = useState<DataSourceSettings<MaturityOptions, MaturitySecureOptions>>({
    id: 1,
    uid: 'maturity',
    orgId: 1,
    name: 'Data-Driven Maturity',
    type: 'datadriven-maturity-datasource',
    typeName: 'Data-Driven Maturity',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    withCredentials: false,
    readOnly: false,
    jsonData: initial,
    secureJsonFields: { serviceAccountToken: true },
    version: 1,
  } as unknown as DataSourceSettings<MaturityOptions, MaturitySecureOptions>);
  const [health, setHealth] = useState<{ status: string; message: string } | undefined>();
  const test = () =>
    ds.testDatasource().then(
      (r) => setHealth({ status: r.status, message: r.message }),
      (e) => setHealth({ status: 'error', message: e?.message ?? String(e) })
    );
  return (
    <Stack direction="column" gap={2}>
      <ConfigEditor options={options} onOptionsChange={setOptions} />
      <Field label="What Grafana would store" description="Secrets appear only in secureJsonData, never in jsonData.">
        <pre data-testid="settings-json">
          {JSON.stringify(
            {
              jsonData: options.jsonData,
              secureJsonData: options.secureJsonData ?? {},
            },
            null,
            2
          )}
        </pre>
      </Field>
      <div>
        <Button onClick={test} data-testid="save-test">
          Save &amp; test
        </Button>
      </div>
      {health && (
        <Alert
          severity={health.status === 'success' ? 'success' : 'error'}
          title={health.message}
          data-testid="health"
        />
      )}
    </Stack>
  );
}

export function App({ ds, jsonData }: { ds: DataSource; jsonData: MaturityOptions }) {
  const theme = useTheme2();
  const params = new URLSearchParams(window.location.search);
  const dashboard = params.get('dashboard');
  const [tab, setTab] = useState<TabId>(() => (params.get('tab') as TabId) || 'query');
  const [days, setDays] = useState(90);
  const [teams, setTeams] = useState<Team[]>([]);
  const [teamValue, setTeamValue] = useState<string[]>(teamVariable.current.value as string[]);
  const [role, setRole] = useState(harnessUser.role);
  useEffect(() => {
    listTeams(ds).then((t) => {
      teamVariable.options = t.map((x) => ({ value: x.id, text: x.name }));
      setTeams(t);
    });
  }, [ds]);
  const setTeamVariable = (values: string[]) => {
    teamVariable.current = { value: values, text: values };
    setTeamValue(values);
  };
  const setHarnessRole = (r: string) => {
    harnessUser.role = r;
    setRole(r);
  };
  return (
    <div
      style={{
        padding: 24,
        minHeight: '100vh',
        background: theme.colors.background.canvas,
      }}
    >
      <Stack direction="column" gap={2}>
        <Stack direction="row" justifyContent="space-between" alignItems="center">
          <Stack direction="row" alignItems="center" gap={1}>
            <img src="logo.svg" alt="" width={28} height={28} />
            <span style={{ whiteSpace: 'nowrap' }}>
              <Text element="h2">Data-Driven Maturity</Text>
            </span>
            <Text color="secondary">harness · dashboard {harnessDashboard.uid}</Text>
          </Stack>
          <InlineFieldRow>
            <InlineField label="$team" tooltip="The dashboard's team variable (multi-value, with All)">
              <MultiSelect<string>
                aria-label="team variable"
                width={36}
                options={[{ label: 'All', value: '$__all' }, ...teams.map((t) => ({ label: t.name, value: t.id }))]}
                value={teamValue}
                onChange={(items: Array<SelectableValue<string>>) => setTeamVariable(items.map((i) => i.value!))}
              />
            </InlineField>
            <InlineField label="Time range">
              <Select<number>
                aria-label="time range"
                width={18}
                options={RANGES}
                value={days}
                onChange={(v) => setDays(v.value!)}
              />
            </InlineField>
            <InlineField label={`Acting as ${harnessUser.login}`}>
              <RadioButtonGroup
                options={['Viewer', 'Editor', 'Admin'].map((r) => ({
                  label: r,
                  value: r,
                }))}
                value={role}
                onChange={setHarnessRole}
              />
            </InlineField>
          </InlineFieldRow>
        </Stack>
        {dashboard ? (
          <Dashboard ds={ds} file={dashboard} />
        ) : (
          <>
            <TabsBar>
              {(['query', 'panel', 'annotations', 'variables', 'settings'] as TabId[]).map((id) => (
                <Tab
                  key={id}
                  label={id.charAt(0).toUpperCase() + id.slice(1)}
                  active={tab === id}
                  onChangeTab={() => setTab(id)}
                />
              ))}
            </TabsBar>
            <TabContent>
              {tab === 'query' && <QueryTab ds={ds} days={days} />}
              {tab === 'panel' && <PanelTab ds={ds} days={days} width={Math.min(window.innerWidth - 48, 1400)} />}
              {tab === 'annotations' && <AnnotationsTab ds={ds} days={days} />}
              {tab === 'variables' && <VariablesTab ds={ds} />}
              {tab === 'settings' && <SettingsTab ds={ds} initial={jsonData} />}
            </TabContent>
          </>
        )}
      </Stack>
    </div>
  );
}
