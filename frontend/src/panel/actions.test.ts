// Every action's request: the event kind, the team, this dashboard, the time of posting, and
// the data fields SPEC §3.1 gives each kind.
import { decisionEvent, outcomeEvent, questionEvent, refusal, reviewEvent } from './actions';

const place = {
  team: 'payments',
  dashboardUid: 'pay-slo',
  dashboardTitle: 'Payments SLO',
  panelId: 4,
  now: 1764000000000,
};

it('Mark reviewed posts a review of this dashboard, with its attendees', () => {
  expect(reviewEvent(place, '  ', ['alice', 'bruno'])).toEqual({
    kind: 'review',
    team: 'payments',
    time: 1764000000000,
    dashboardUid: 'pay-slo',
    panelId: 4,
    text: 'Reviewed Payments SLO',
    tags: ['review'],
    data: { dashboards: ['pay-slo'], attendees: ['alice', 'bruno'] },
  });
  expect(reviewEvent({ team: 't', now: 1 }, 'Looked at latency', []).data).toEqual({});
});

it('Record decision posts the owner, the expected effect and the follow-up date only when given', () => {
  expect(
    decisionEvent(place, {
      text: ' Roll back the cache ',
      owner: 'dana',
      expectedEffect: 'p95 < 300 ms',
      followUpAt: 1765000000000,
    })
  ).toEqual({
    kind: 'decision',
    team: 'payments',
    time: 1764000000000,
    dashboardUid: 'pay-slo',
    panelId: 4,
    text: 'Roll back the cache',
    tags: ['decision'],
    data: { owner: 'dana', expectedEffect: 'p95 < 300 ms', followUpAt: 1765000000000 },
  });
  expect(decisionEvent(place, { text: 'x', owner: ' ', expectedEffect: '' }).data).toEqual({});
});

it('Ask a question posts a question', () => {
  expect(questionEvent(place, 'Why do refunds take longer on Mondays?')).toMatchObject({
    kind: 'question',
    team: 'payments',
    text: 'Why do refunds take longer on Mondays?',
  });
});

it('Record outcome names its decision and result', () => {
  expect(outcomeEvent(place, { decisionId: 'd-1', result: 'not_confirmed', text: '' })).toMatchObject({
    kind: 'outcome',
    text: 'Outcome: not confirmed',
    data: { decisionId: 'd-1', result: 'not_confirmed' },
  });
});

it('says why the backend refused, naming the field', () => {
  expect(refusal({ status: 403, data: { error: 'forbidden', message: 'viewers may not annotate' } })).toBe(
    'Not allowed: viewers may not annotate'
  );
  expect(refusal({ status: 400, data: { message: 'must not be empty', field: 'text' } })).toBe(
    'must not be empty (text)'
  );
});
