// Chooses one target (a project with a target) from `GET /targets`, narrowed to the query's
// team when it names exactly one; template variables are offered too.
import { SelectableValue } from '@grafana/data';
import { Select } from '@grafana/ui';
import React from 'react';

import type { DataSource } from '../DataSource';
import { listTargets } from '../resources';
import { useResource } from './useResource';
import { variableOptions } from './variableOptions';

interface Props {
  datasource: DataSource;
  team?: string;
  value?: string;
  onChange: (targetId: string | undefined) => void;
  inputId?: string;
}

export function TargetPicker({ datasource, team, value, onChange, inputId }: Props) {
  const concreteTeam = team && !team.startsWith('$') ? team : undefined;
  const targets = useResource(() => listTargets(datasource, concreteTeam), `${datasource.uid}/${concreteTeam ?? ''}`);
  const options: Array<SelectableValue<string>> = [
    ...variableOptions(),
    ...(targets.value ?? []).map((t) => ({
      label: t.name,
      value: t.id,
      description: `${t.team}${t.status ? ` · ${t.status.replace('_', ' ')}` : ''}`,
    })),
  ];
  if (value && !options.some((o) => o.value === value)) {
    options.push({ label: value, value });
  }
  return (
    <Select<string>
      inputId={inputId}
      aria-label="Target"
      options={options}
      value={value ?? null}
      isLoading={targets.loading}
      placeholder={targets.error ? `Targets could not be read: ${targets.error}` : 'Every target of the team'}
      allowCustomValue
      isClearable
      width={40}
      onChange={(item: SelectableValue<string> | null) => onChange(item?.value || undefined)}
    />
  );
}
