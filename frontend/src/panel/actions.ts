// The review's actions as the requests they post to the datasource's resource API (SPEC §3,
// §9): Mark reviewed, Record decision, Ask a question, Record outcome. The builders are pure
// (tested alone); `postEvent` sends one through Grafana's backend service and turns the
// backend's `{error, message, field}` into a sentence.
import { getBackendSrv } from '@grafana/runtime';
import { lastValueFrom } from 'rxjs';

/** An event as `POST /events` takes it. */
export interface EventBody {
  kind: 'review' | 'decision' | 'question' | 'outcome';
  team: string;
  time: number;
  text: string;
  dashboardUid?: string;
  panelId?: number;
  tags?: string[];
  data?: Record<string, unknown>;
}

/** Where the panel is. */
export interface PanelPlace {
  team: string;
  dashboardUid?: string;
  dashboardTitle?: string;
  panelId?: number;
  now: number;
}

function place(p: PanelPlace): Pick<EventBody, 'team' | 'time' | 'dashboardUid' | 'panelId'> {
  return {
    team: p.team,
    time: p.now,
    ...(p.dashboardUid ? { dashboardUid: p.dashboardUid } : {}),
    ...(p.panelId !== undefined ? { panelId: p.panelId } : {}),
  };
}

/** A review of this dashboard by the team (`data.dashboards` = this dashboard). */
export function reviewEvent(p: PanelPlace, note: string, attendees: string[]): EventBody {
  const data: Record<string, unknown> = {};
  if (p.dashboardUid) {
    data.dashboards = [p.dashboardUid];
  }
  if (attendees.length) {
    data.attendees = attendees;
  }
  return {
    kind: 'review',
    ...place(p),
    text: note.trim() || `Reviewed ${p.dashboardTitle ?? p.dashboardUid ?? 'the dashboards'}`,
    tags: ['review'],
    data,
  };
}

/** A decision taken in the review, with who owns it, what it should change and when to check. */
export function decisionEvent(
  p: PanelPlace,
  d: { text: string; owner?: string; expectedEffect?: string; followUpAt?: number }
): EventBody {
  const data: Record<string, unknown> = {};
  if (d.owner?.trim()) {
    data.owner = d.owner.trim();
  }
  if (d.expectedEffect?.trim()) {
    data.expectedEffect = d.expectedEffect.trim();
  }
  if (d.followUpAt !== undefined) {
    data.followUpAt = d.followUpAt;
  }
  return { kind: 'decision', ...place(p), text: d.text.trim(), tags: ['decision'], data };
}

/** A question asked of the data. */
export function questionEvent(p: PanelPlace, text: string): EventBody {
  return { kind: 'question', ...place(p), text: text.trim(), tags: ['question'] };
}

/** The outcomes a decision can have (SPEC §3.1). */
export const RESULTS = ['confirmed', 'not_confirmed', 'inconclusive'] as const;

/** The follow-up of a decision. */
export function outcomeEvent(
  p: PanelPlace,
  o: { decisionId: string; result: (typeof RESULTS)[number]; text: string }
): EventBody {
  return {
    kind: 'outcome',
    ...place(p),
    text: o.text.trim() || `Outcome: ${o.result.replace('_', ' ')}`,
    tags: ['outcome'],
    data: { decisionId: o.decisionId, result: o.result },
  };
}

/** Why a write was refused, in the backend's words (403 when viewers may not annotate, 400 naming the field). */
export function refusal(e: unknown): string {
  const err = e as { status?: number; data?: { message?: string; field?: string; error?: string }; message?: string };
  const message = err?.data?.message ?? err?.message ?? 'the request failed';
  const field = err?.data?.field ? ` (${err.data.field})` : '';
  if (err?.status === 403) {
    return `Not allowed: ${message}`;
  }
  return `${message}${field}`;
}

/** Posts one event to the datasource with this uid. */
export async function postEvent(datasourceUid: string, body: EventBody): Promise<{ id: string }> {
  const res = await lastValueFrom(
    getBackendSrv().fetch<{ id: string }>({
      method: 'POST',
      url: `/api/datasources/uid/${datasourceUid}/resources/events`,
      data: body,
      showErrorAlert: false,
    })
  );
  return res.data;
}
