// The few resource API reads the editors need (SPEC §3.2), typed, through the datasource's
// own getResource so Grafana's proxy, auth and headers apply.
import type { DataSourceWithBackend } from '@grafana/runtime';

import type { TargetSummary, Team } from './types';

type ResourceReader = Pick<DataSourceWithBackend, 'getResource'>;

/** Every team of the org, by name. */
export async function listTeams(ds: ResourceReader): Promise<Team[]> {
  const teams = await ds.getResource<Team[]>('teams');
  return [...(teams ?? [])].sort((a, b) => a.name.localeCompare(b.name));
}

/** The targets of the org, or of one team. */
export async function listTargets(ds: ResourceReader, team?: string): Promise<TargetSummary[]> {
  const targets = await ds.getResource<TargetSummary[]>('targets', team ? { team } : undefined);
  return [...(targets ?? [])].sort((a, b) => a.team.localeCompare(b.team) || a.name.localeCompare(b.name));
}

/** The message of an error thrown by Grafana's fetch (the backend's `{error, message, field}`). */
export function errorMessage(e: unknown): string {
  const err = e as { data?: { message?: string; field?: string }; message?: string; statusText?: string };
  const field = err?.data?.field ? ` (${err.data.field})` : '';
  return (err?.data?.message ?? err?.message ?? err?.statusText ?? String(e)) + field;
}
