// The datasource's settings page (SPEC §6): where evidence is stored (SQLite path or a secure
// PostgreSQL URL), who may annotate, the passive-view session, the way back to Grafana's API
// (URL and a secure service account token) and the ladder's thresholds with their defaults.
// Secrets go to secureJsonData only; Grafana never sends them back, only that they are set.
import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { Alert, Field, FieldSet, Input, InlineSwitch, RadioButtonGroup, SecretInput, Stack, Text } from '@grafana/ui';
import React from 'react';

import { THRESHOLDS, ThresholdSpec, validateSettings } from '../settings';
import type { MaturityOptions, MaturitySecureOptions, MaturityThresholds } from '../types';
import { useDraft } from './useDraft';

type Props = DataSourcePluginOptionsEditorProps<MaturityOptions, MaturitySecureOptions>;
type SecretKey = keyof MaturitySecureOptions;

/** A number box that keeps what is typed and stores a number, or removes the key when empty. */
function NumberInput(props: {
  id: string;
  value?: number;
  placeholder: string;
  invalid: boolean;
  onChange: (v: number | undefined) => void;
}) {
  const [text, setText] = useDraft(props.value, (v) => (v === undefined ? '' : String(v)));
  return (
    <Input
      id={props.id}
      width={16}
      value={text}
      inputMode="decimal"
      placeholder={props.placeholder}
      invalid={props.invalid}
      onChange={(e) => setText(e.currentTarget.value)}
      onBlur={() => {
        const t = text.trim();
        props.onChange(t === '' ? undefined : Number(t));
      }}
    />
  );
}

export function ConfigEditor(props: Props) {
  const { options, onOptionsChange } = props;
  const jsonData = options.jsonData ?? {};
  const secureFields = options.secureJsonFields ?? {};
  const secureData = (options.secureJsonData ?? {}) as MaturitySecureOptions;
  const problems = validateSettings(jsonData);
  const storage = jsonData.storage ?? 'sqlite';

  const setJson = <K extends keyof MaturityOptions>(key: K, value: MaturityOptions[K] | undefined) => {
    const next = { ...jsonData };
    if (value === undefined) {
      delete next[key];
    } else {
      next[key] = value;
    }
    onOptionsChange({ ...options, jsonData: next });
  };
  const setThreshold = (spec: ThresholdSpec, value: number | undefined) => {
    const maturity: MaturityThresholds = { ...(jsonData.maturity ?? {}) };
    if (value === undefined) {
      delete maturity[spec.key];
    } else {
      maturity[spec.key] = value;
    }
    setJson('maturity', Object.keys(maturity).length ? maturity : undefined);
  };
  const setSecret = (key: SecretKey, value: string) =>
    onOptionsChange({ ...options, secureJsonData: { ...secureData, [key]: value } });
  const resetSecret = (key: SecretKey) =>
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureFields, [key]: false },
      secureJsonData: { ...secureData, [key]: '' },
    });
  const secret = (key: SecretKey, label: string, description: string, placeholder: string) => (
    <Field label={label} description={description}>
      <SecretInput
        id={`config-${key}`}
        width={60}
        isConfigured={Boolean(secureFields[key])}
        value={secureData[key] ?? ''}
        placeholder={placeholder}
        onChange={(e) => setSecret(key, e.currentTarget.value)}
        onReset={() => resetSecret(key)}
      />
    </Field>
  );

  const minutes = (
    key: 'viewSessionMinutes' | 'actualsIntervalMinutes',
    label: string,
    description: string,
    dflt: number
  ) => (
    <Field label={label} description={description} invalid={Boolean(problems[key])} error={problems[key]}>
      <NumberInput
        id={`config-${key}`}
        value={jsonData[key]}
        placeholder={String(dflt)}
        invalid={Boolean(problems[key])}
        onChange={(v) => setJson(key, v)}
      />
    </Field>
  );

  return (
    <Stack direction="column" gap={2}>
      <FieldSet label="Storage">
        <Field
          label="Store"
          description="SQLite keeps one file beside Grafana; PostgreSQL serves Grafana in high availability."
        >
          <RadioButtonGroup<'sqlite' | 'postgres'>
            id="config-storage"
            options={[
              { label: 'SQLite file', value: 'sqlite' },
              { label: 'PostgreSQL', value: 'postgres' },
            ]}
            value={storage}
            onChange={(v) => setJson('storage', v)}
          />
        </Field>
        {storage === 'sqlite' ? (
          <Field
            label="Database path"
            description="Empty: the plugin's data folder beside Grafana's (GF_PLUGIN_DATABASE_PATH, then $GF_PATHS_DATA/datadriven-maturity/maturity.db). Save & test says which file it chose."
          >
            <Input
              id="config-databasePath"
              width={60}
              value={jsonData.databasePath ?? ''}
              placeholder="/var/lib/grafana/datadriven-maturity/maturity.db"
              onChange={(e) => setJson('databasePath', e.currentTarget.value || undefined)}
            />
          </Field>
        ) : (
          secret(
            'postgresUrl',
            'PostgreSQL URL',
            'Every Grafana replica points at the same database; the plugin keeps its tables in its own schema, maturity. TLS with sslmode=require: the certificate is always verified, against sslrootcert=/path/ca.pem for a private CA. Save & test names the server and the schema version.',
            'postgres://user:password@host:5432/grafana_evidence?sslmode=require'
          )
        )}
      </FieldSet>

      <FieldSet label="Evidence">
        <Field
          label="Viewers can annotate"
          description="Viewers may record reviews, questions, decisions and outcomes. Off: only Editors and Admins write."
        >
          <InlineSwitch
            id="config-viewersCanAnnotate"
            value={jsonData.viewersCanAnnotate ?? true}
            onChange={(e) => setJson('viewersCanAnnotate', e.currentTarget.checked)}
          />
        </Field>
        {minutes(
          'viewSessionMinutes',
          'View session (minutes)',
          'A person looking at a team dashboard counts as one view per this many minutes.',
          30
        )}
      </FieldSet>

      <FieldSet label="Grafana API">
        <Text color="secondary" variant="bodySmall">
          For importing annotations, dashboard versions and live actuals from Grafana itself.
        </Text>
        <Field label="Grafana URL" description="Empty: GF_APP_URL, else http://localhost:3000.">
          <Input
            id="config-grafanaUrl"
            width={60}
            value={jsonData.grafanaUrl ?? ''}
            placeholder="http://localhost:3000"
            onChange={(e) => setJson('grafanaUrl', e.currentTarget.value || undefined)}
          />
        </Field>
        {secret(
          'serviceAccountToken',
          'Service account token',
          'A service account token (role Editor: annotations:read, dashboards:read and write for versions, datasources:query).',
          'glsa_…'
        )}
        {minutes(
          'actualsIntervalMinutes',
          'Import interval (minutes)',
          'How often annotations, dashboard versions and actuals are read from Grafana.',
          60
        )}
      </FieldSet>

      <FieldSet label="Maturity ladder">
        <Text color="secondary" variant="bodySmall">
          Thresholds of the seven levels. Empty fields use the default shown.
        </Text>
        <Stack direction="row" wrap="wrap" gap={2}>
          {THRESHOLDS.map((spec) => {
            const name = `maturity.${spec.key}`;
            return (
              <Field
                key={spec.key}
                label={`${spec.level ? `L${spec.level} · ` : ''}${spec.label}${spec.unit ? ` (${spec.unit})` : ''}`}
                description={spec.description}
                invalid={Boolean(problems[name])}
                error={problems[name]}
                style={{ width: 300 }}
              >
                <NumberInput
                  id={`config-${spec.key}`}
                  value={jsonData.maturity?.[spec.key]}
                  placeholder={String(spec.defaultValue)}
                  invalid={Boolean(problems[name])}
                  onChange={(v) => setThreshold(spec, v)}
                />
              </Field>
            );
          })}
        </Stack>
      </FieldSet>
      {Object.keys(problems).length > 0 && (
        <Alert severity="error" title="These settings would be refused by the backend">
          {Object.entries(problems).map(([field, message]) => (
            <div key={field}>
              {field}: {message}
            </div>
          ))}
        </Alert>
      )}
    </Stack>
  );
}
