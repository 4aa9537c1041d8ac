// The editor of a template variable: the org's teams, or the dashboards of a team (which may
// itself be a variable, e.g. `$team`).
import { QueryEditorProps } from '@grafana/data';
import { InlineField, InlineFieldRow, Input, RadioButtonGroup } from '@grafana/ui';
import React, { useState } from 'react';

import type { DataSource } from '../DataSource';
import type { MaturityOptions, MaturityQuery, MaturityVariableQuery } from '../types';
import { asVariableQuery } from '../variables';

type Props = QueryEditorProps<DataSource, MaturityQuery, MaturityOptions, MaturityVariableQuery>;

export function VariableQueryEditor({ query: stored, onChange }: Props) {
  const query = asVariableQuery(stored);
  const variable = query.variable;
  const [team, setTeam] = useState(query.team ?? '');
  return (
    <InlineFieldRow>
      <InlineField label="Values" labelWidth={14} tooltip="Teams: text is the team name, value its id">
        <RadioButtonGroup<MaturityVariableQuery['variable']>
          options={[
            { label: 'Teams', value: 'teams' },
            { label: 'Dashboards of a team', value: 'dashboards' },
          ]}
          value={variable}
          onChange={(v) => onChange({ ...query, variable: v })}
        />
      </InlineField>
      {variable === 'dashboards' && (
        <InlineField label="Team" labelWidth={10} tooltip="A team id or a variable such as $team; empty = every team">
          <Input
            width={24}
            value={team}
            placeholder="$team"
            onChange={(e) => setTeam(e.currentTarget.value)}
            onBlur={() => onChange({ ...query, variable, team: team || undefined })}
          />
        </InlineField>
      )}
    </InlineFieldRow>
  );
}
