// The panel's states (no data, one team, many teams, an error, a user who may not write) and
// its actions' requests, with the datasource Grafana would resolve from the panel's queries.
import { FieldType, LoadingState, PanelData, createDataFrame, getDefaultTimeRange } from '@grafana/data';
import { setDataSourceSrv } from '@grafana/runtime';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React from 'react';

import { MaturityPanel } from './MaturityPanel';

function criteriaFrame(team: string, passed: boolean[]) {
  return createDataFrame({
    name: 'criteria',
    fields: [
      { name: 'team', type: FieldType.string, values: passed.map(() => team) },
      { name: 'level', type: FieldType.number, values: passed.map((_, i) => i + 1) },
      { name: 'criterion', type: FieldType.string, values: passed.map((_, i) => `c${i + 1}`) },
      { name: 'passed', type: FieldType.boolean, values: passed },
      { name: 'value', type: FieldType.number, values: passed.map(() => 3) },
      { name: 'threshold', type: FieldType.number, values: passed.map(() => 4) },
      {
        name: 'detail',
        type: FieldType.string,
        values: passed.map((p, i) => (p ? '' : `team ${team} misses rung ${i + 1}`)),
      },
    ],
  });
}

const ladder = [true, true, true, false, false, false, false];

function data(series = [criteriaFrame('payments', ladder)], errors?: PanelData['errors']): PanelData {
  return {
    series,
    errors,
    state: errors ? LoadingState.Error : LoadingState.Done,
    timeRange: getDefaultTimeRange(),
    request: {
      targets: [{ refId: 'A', datasource: { uid: 'maturity', type: 'datadriven-maturity-datasource' } }],
    } as never,
  };
}

let viewersCanAnnotate = true;
setDataSourceSrv({
  getInstanceSettings: () => ({ uid: 'maturity', jsonData: { viewersCanAnnotate } }),
} as never);

function renderPanel(props: Partial<React.ComponentProps<typeof MaturityPanel>> = {}) {
  const post = jest.fn().mockResolvedValue({ id: 'new' });
  const view = render(
    <MaturityPanel
      {...({} as React.ComponentProps<typeof MaturityPanel>)}
      id={3}
      data={data()}
      options={{ team: '$team', view: 'auto', showActions: true }}
      width={800}
      height={600}
      role="Editor"
      replaceVariables={(v: string) =>
        v === '$team'
          ? 'payments'
          : v === '${__dashboard.uid}'
            ? 'pay-slo'
            : v === '${__dashboard}'
              ? 'Payments SLO'
              : v
      }
      postEventTo={post}
      {...props}
    />
  );
  return { post, view };
}

it('with no data, says which queries to add', () => {
  renderPanel({ data: data([]) });
  expect(screen.getByText(/No team to show/)).toBeInTheDocument();
});

it('with an error and no frame, shows the error of its refId', () => {
  renderPanel({ data: data([], [{ refId: 'A', message: 'team: unknown team' }]) });
  expect(screen.getByText(/A: team: unknown team/)).toBeInTheDocument();
});

it('for one team, shows the ladder, the level and the blocker of the next rung', () => {
  renderPanel();
  expect(screen.getByLabelText('Level 3 of 7')).toBeInTheDocument();
  expect(screen.getByRole('note', { name: 'What blocks the next level' })).toHaveTextContent(
    'team payments misses rung 4'
  );
  expect(screen.getByLabelText('Level 4, Regular reviews: fails')).toBeInTheDocument();
  expect(screen.getByLabelText('Level 1, Ad-hoc questions: passes')).toBeInTheDocument();
});

it('for many teams, shows a grid by level, and a card opens the team', async () => {
  const user = userEvent.setup();
  renderPanel({
    data: data([
      criteriaFrame('payments', ladder),
      criteriaFrame('search', [true, false, false, false, false, false, false]),
    ]),
    replaceVariables: (v: string) => (v === '$team' ? '$__all' : v),
  });
  const cards = screen.getAllByRole('button', { name: /open the ladder/ });
  expect(cards.map((c) => c.getAttribute('aria-label'))).toEqual([
    'payments, level 3: open the ladder',
    'search, level 1: open the ladder',
  ]);
  await user.click(cards[1]);
  expect(screen.getByLabelText('Level 1 of 7')).toBeInTheDocument();
  await user.click(screen.getByRole('button', { name: 'All teams' }));
  expect(screen.getAllByRole('button', { name: /open the ladder/ })).toHaveLength(2);
});

it('hides the actions from a viewer when viewers may not annotate, and says why', () => {
  viewersCanAnnotate = false;
  renderPanel({ role: 'Viewer' });
  viewersCanAnnotate = true;
  expect(screen.queryByRole('button', { name: 'Mark reviewed' })).not.toBeInTheDocument();
  expect(screen.getByText(/Only editors may record/)).toBeInTheDocument();
});

it('lets a viewer write when viewers may annotate', () => {
  renderPanel({ role: 'Viewer' });
  expect(screen.getByRole('button', { name: 'Mark reviewed' })).toBeInTheDocument();
});

it("Mark reviewed posts a review of this dashboard to the panel query's datasource", async () => {
  const user = userEvent.setup();
  const { post } = renderPanel();
  await user.click(screen.getByRole('button', { name: 'Mark reviewed' }));
  await user.type(document.getElementById('action-review-note')!, 'Latency is back under target');
  await user.click(screen.getAllByRole('button', { name: 'Mark reviewed' }).at(-1)!);
  await waitFor(() => expect(post).toHaveBeenCalledTimes(1));
  const [uid, body] = post.mock.calls[0];
  expect(uid).toBe('maturity');
  expect(body).toMatchObject({
    kind: 'review',
    team: 'payments',
    dashboardUid: 'pay-slo',
    panelId: 3,
    text: 'Latency is back under target',
    data: { dashboards: ['pay-slo'] },
  });
  expect(await screen.findByText('Review recorded')).toBeInTheDocument();
});

it("Record decision keeps what was typed and shows the backend's refusal", async () => {
  const user = userEvent.setup();
  const post = jest
    .fn()
    .mockRejectedValue({ status: 400, data: { message: 'must be a time', field: 'data.followUpAt' } });
  renderPanel({ postEventTo: post });
  await user.click(screen.getByRole('button', { name: 'Record decision' }));
  await user.type(document.getElementById('action-decision-text')!, 'Retry soft declines once');
  await user.type(document.getElementById('action-decision-owner')!, 'dana');
  await user.click(screen.getAllByRole('button', { name: 'Record decision' }).at(-1)!);
  expect(await screen.findByText('must be a time (data.followUpAt)')).toBeInTheDocument();
  expect(document.getElementById('action-decision-text')).toHaveValue('Retry soft declines once');
  expect(post.mock.calls[0][1]).toMatchObject({
    kind: 'decision',
    text: 'Retry soft declines once',
    data: { owner: 'dana' },
  });
  expect(typeof post.mock.calls[0][1].data.followUpAt).toBe('number');
});

it('Ask a question posts a question; Record outcome is offered only for a decision that is due', async () => {
  const user = userEvent.setup();
  const { post } = renderPanel();
  expect(screen.getByRole('button', { name: 'Record outcome' })).toHaveAttribute('aria-disabled', 'true');
  await user.click(screen.getByRole('button', { name: 'Ask a question' }));
  await user.type(document.getElementById('action-question-text')!, 'Why Mondays?');
  await user.click(screen.getByRole('button', { name: 'Ask' }));
  await waitFor(() => expect(post).toHaveBeenCalledTimes(1));
  expect(post.mock.calls[0][1]).toMatchObject({ kind: 'question', team: 'payments', text: 'Why Mondays?' });
});

it('Record outcome preselects the result an agenda item suggests, and posts the decision id', async () => {
  const user = userEvent.setup();
  const agenda = createDataFrame({
    name: 'reviewAgenda',
    fields: [
      { name: 'team', type: FieldType.string, values: ['payments'] },
      { name: 'item', type: FieldType.string, values: ['outcome_suggested'] },
      { name: 'subject', type: FieldType.string, values: ['d-42'] },
      {
        name: 'detail',
        type: FieldType.string,
        values: ['Suggested: not confirmed (error rate 2.1% before, 2.3% since)'],
      },
    ],
  });
  const { post } = renderPanel({ data: data([criteriaFrame('payments', ladder), agenda]) });
  await user.click(screen.getByRole('button', { name: 'Record outcome' }));
  await user.click(screen.getAllByRole('button', { name: 'Record outcome' }).at(-1)!);
  await waitFor(() => expect(post).toHaveBeenCalledTimes(1));
  expect(post.mock.calls[0][1]).toMatchObject({
    kind: 'outcome',
    data: { decisionId: 'd-42', result: 'not_confirmed' },
  });
});
