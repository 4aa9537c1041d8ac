// Chooses the teams of a query from `GET /teams`: none chosen means all teams; template
// variables are offered first; several teams (or a multi-value variable) give a list.
import { SelectableValue } from '@grafana/data';
import { MultiSelect } from '@grafana/ui';
import React from 'react';

import type { DataSource } from '../DataSource';
import { listTeams } from '../resources';
import { useResource } from './useResource';
import { variableOptions } from './variableOptions';

interface Props {
  datasource: DataSource;
  value?: string | string[];
  onChange: (team: string | string[] | undefined) => void;
  inputId?: string;
}

/** The stored `team` as a list (all teams = empty). */
export function teamList(value?: string | string[]): string[] {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.filter((t) => !['', '*', '$__all'].includes(t.trim()));
}

/** A list of teams as the query stores it: absent, one id, or several. */
export function teamValue(list: string[]): string | string[] | undefined {
  if (list.length === 0) {
    return undefined;
  }
  return list.length === 1 ? list[0] : list;
}

export function TeamPicker({ datasource, value, onChange, inputId }: Props) {
  const teams = useResource(() => listTeams(datasource), datasource.uid);
  const selected = teamList(value);
  const options: Array<SelectableValue<string>> = [
    ...variableOptions(),
    ...(teams.value ?? []).map((t) => ({ label: t.name, value: t.id, description: t.id })),
  ];
  for (const id of selected) {
    if (!options.some((o) => o.value === id)) {
      options.push({ label: id, value: id, description: teams.loading ? undefined : 'Not a known team' });
    }
  }
  return (
    <MultiSelect<string>
      inputId={inputId}
      aria-label="Team"
      options={options}
      value={selected}
      isLoading={teams.loading}
      placeholder={teams.error ? `Teams could not be read: ${teams.error}` : 'All teams'}
      allowCustomValue
      isClearable
      width={40}
      onChange={(items: Array<SelectableValue<string>>) =>
        onChange(teamValue(items.map((i) => i.value).filter((v): v is string => Boolean(v))))
      }
    />
  );
}
