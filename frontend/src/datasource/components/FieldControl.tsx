// One field of a query, with the control a Grafana user expects for it: pickers fed by the
// resource API for teams, targets and dashboards; tags; a multi-select, radio group or select
// for enums; a switch for booleans; a number box with the schema's bounds.
import { SelectableValue } from '@grafana/data';
import { InlineSwitch, Input, MultiSelect, RadioButtonGroup, Select, TagsInput } from '@grafana/ui';
import React from 'react';

import type { DataSource } from '../DataSource';
import type { FieldSchema } from '../schema';
import { DashboardPicker } from './DashboardPicker';
import { TargetPicker } from './TargetPicker';
import { TeamPicker, teamList } from './TeamPicker';
import { useDraft } from './useDraft';

interface Props {
  datasource: DataSource;
  field: FieldSchema;
  query: Record<string, unknown>;
  /** Sets the field (undefined removes it); `run` asks for the query to be run at once. */
  onChange: (value: unknown, run: boolean) => void;
  inputId: string;
}

/** How an enum value reads in a control: `on_track` → "On track", `hoursOverdue` → "Hours overdue". */
export function enumLabel(value: string): string {
  const words = value
    .replace(/_/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Why a number typed for this field would be refused, or undefined when it is fine. */
export function numberProblem(field: FieldSchema, text: string): string | undefined {
  if (text.trim() === '') {
    return undefined;
  }
  const n = Number(text);
  if (!Number.isFinite(n)) {
    return 'Enter a number';
  }
  if (field.type === 'integer' && !Number.isInteger(n)) {
    return 'Enter a whole number';
  }
  if (field.minimum !== undefined && n < field.minimum) {
    return `At least ${field.minimum}`;
  }
  if (field.maximum !== undefined && n > field.maximum) {
    return `At most ${field.maximum}`;
  }
  return undefined;
}

function NumberField({
  field,
  value,
  onChange,
  inputId,
}: {
  field: FieldSchema;
  value: unknown;
  onChange: Props['onChange'];
  inputId: string;
}) {
  const [text, setText] = useDraft(value, (v) => (v === undefined ? '' : String(v)));
  const problem = numberProblem(field, text);
  const commit = () => {
    if (problem) {
      return;
    }
    const next = text.trim() === '' ? undefined : Number(text);
    if (next !== value) {
      onChange(next, true);
    }
  };
  return (
    <Input
      id={inputId}
      type="number"
      width={14}
      min={field.minimum}
      max={field.maximum}
      value={text}
      invalid={Boolean(problem)}
      title={problem}
      placeholder={field.default !== undefined ? String(field.default) : undefined}
      onChange={(e) => setText(e.currentTarget.value)}
      onBlur={commit}
      onKeyDown={(e) => e.key === 'Enter' && commit()}
    />
  );
}

function TextField({ value, onChange, inputId }: { value: unknown; onChange: Props['onChange']; inputId: string }) {
  const [text, setText] = useDraft(value, (v) => (typeof v === 'string' ? v : ''));
  return (
    <Input
      id={inputId}
      width={30}
      value={text}
      onChange={(e) => setText(e.currentTarget.value)}
      onBlur={() => text !== (value ?? '') && onChange(text === '' ? undefined : text, true)}
    />
  );
}

export function FieldControl({ datasource, field, query, onChange, inputId }: Props) {
  const value = query[field.key];
  switch (field.key) {
    case 'team':
      return (
        <TeamPicker
          inputId={inputId}
          datasource={datasource}
          value={value as string | string[] | undefined}
          onChange={(v) => onChange(v, true)}
        />
      );
    case 'targetId': {
      const teams = teamList(query.team as string | string[] | undefined);
      return (
        <TargetPicker
          inputId={inputId}
          datasource={datasource}
          team={teams.length === 1 ? teams[0] : undefined}
          value={value as string | undefined}
          onChange={(v) => onChange(v, true)}
        />
      );
    }
    case 'dashboardUid':
      return (
        <DashboardPicker
          inputId={inputId}
          datasource={datasource}
          value={value as string | undefined}
          onChange={(v) => onChange(v, true)}
        />
      );
    case 'tags':
      return (
        <TagsInput
          id={inputId}
          width={40}
          placeholder="New tag (enter key to add)"
          tags={(value as string[] | undefined) ?? []}
          onChange={(tags) => onChange(tags.length ? tags : undefined, true)}
        />
      );
  }
  if (field.type === 'array' && field.itemEnum) {
    return (
      <MultiSelect<string>
        inputId={inputId}
        aria-label={field.title}
        width={40}
        placeholder="Any"
        options={field.itemEnum.map((v) => ({ label: enumLabel(v), value: v }))}
        value={(value as string[] | undefined) ?? []}
        onChange={(items: Array<SelectableValue<string>>) => {
          const list = items.map((i) => i.value).filter((v): v is string => Boolean(v));
          onChange(list.length ? list : undefined, true);
        }}
      />
    );
  }
  if (field.type === 'string' && field.enum) {
    if (field.default !== undefined && field.enum.length <= 3) {
      return (
        <RadioButtonGroup<string>
          id={inputId}
          options={field.enum.map((v) => ({ label: enumLabel(v), value: v }))}
          value={(value as string | undefined) ?? (field.default as string)}
          onChange={(v) => onChange(v, true)}
        />
      );
    }
    return (
      <Select<string>
        inputId={inputId}
        aria-label={field.title}
        width={24}
        isClearable
        placeholder="Any"
        options={field.enum.map((v) => ({ label: enumLabel(v), value: v }))}
        value={(value as string | undefined) ?? null}
        onChange={(item: SelectableValue<string> | null) => onChange(item?.value || undefined, true)}
      />
    );
  }
  if (field.type === 'boolean') {
    return (
      <InlineSwitch
        id={inputId}
        value={(value as boolean | undefined) ?? Boolean(field.default)}
        onChange={(e) => onChange(e.currentTarget.checked, true)}
      />
    );
  }
  if (field.type === 'integer' || field.type === 'number') {
    return <NumberField field={field} value={value} onChange={onChange} inputId={inputId} />;
  }
  return <TextField value={value} onChange={onChange} inputId={inputId} />;
}
