// Chooses the dashboard an `events` query is limited to: any, this dashboard
// (`${__dashboard.uid}`, Grafana's global variable) or one of the teams' dashboards.
import { SelectableValue } from '@grafana/data';
import { Select } from '@grafana/ui';
import React from 'react';

import type { DataSource } from '../DataSource';
import { listTeams } from '../resources';
import { useResource } from './useResource';
import { variableOptions } from './variableOptions';

/** Grafana's global variable for the uid of the dashboard being shown. */
export const THIS_DASHBOARD = '${__dashboard.uid}';

interface Props {
  datasource: DataSource;
  value?: string;
  onChange: (uid: string | undefined) => void;
  inputId?: string;
}

export function DashboardPicker({ datasource, value, onChange, inputId }: Props) {
  const teams = useResource(() => listTeams(datasource), datasource.uid);
  const options: Array<SelectableValue<string>> = [
    { label: 'This dashboard', value: THIS_DASHBOARD, description: 'The dashboard the query runs on' },
    ...variableOptions(),
    ...(teams.value ?? []).flatMap((t) =>
      t.dashboards.map((uid) => ({ label: uid, value: uid, description: `Dashboard of ${t.name}` }))
    ),
  ];
  if (value && !options.some((o) => o.value === value)) {
    options.push({ label: value, value });
  }
  return (
    <Select<string>
      inputId={inputId}
      aria-label="Dashboard"
      options={options}
      value={value ?? null}
      isLoading={teams.loading}
      placeholder="Any dashboard"
      allowCustomValue
      isClearable
      width={40}
      onChange={(item: SelectableValue<string> | null) => onChange(item?.value || undefined)}
    />
  );
}
