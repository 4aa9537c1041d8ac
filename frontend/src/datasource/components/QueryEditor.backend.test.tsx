// Every query type edited through its controls produces exactly the JSON we expect, and the
// real backend (the release binary behind the Go front, on the demo store) accepts that JSON.
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React from 'react';

import { Backend, request, runQueries, startBackend } from '../../test/backend';
import { DataSource } from '../DataSource';
import { FieldSchema, QUERY_TYPES, defaultsFor } from '../schema';
import type { MaturityQuery, TargetSummary } from '../types';
import { QueryEditor } from './QueryEditor';

let backend: Backend;
let targets: TargetSummary[];

beforeAll(async () => {
  backend = await startBackend();
  targets = (
    await request<TargetSummary[]>(backend.base, 'GET', '/api/datasources/uid/maturity/resources/targets?team=payments')
  ).body;
}, 60000);

afterAll(() => backend?.stop());

/** Just what the editors call on the datasource, answered by the real backend. */
function datasource(): DataSource {
  return {
    uid: 'maturity',
    getResource: async (path: string, params?: Record<string, string>) => {
      const q = params ? `?${new URLSearchParams(params)}` : '';
      const res = await request(backend.base, 'GET', `/api/datasources/uid/maturity/resources/${path}${q}`);
      if (res.status !== 200) {
        throw { status: res.status, data: res.body };
      }
      return res.body;
    },
  } as unknown as DataSource;
}

type User = ReturnType<typeof userEvent.setup>;

/** Chooses an option of a @grafana/ui Select or MultiSelect by typing its label. */
async function choose(user: User, inputId: string, label: string) {
  const input = document.getElementById(inputId) as HTMLInputElement;
  await user.click(input);
  await user.type(input, label);
  await screen.findAllByText(label, { exact: false });
  await user.keyboard('{Enter}');
  await user.keyboard('{Escape}');
}

/** Sets one field through its control; returns the value the query must then hold. */
async function setField(user: User, queryType: string, field: FieldSchema, id: string): Promise<unknown> {
  switch (field.key) {
    case 'team':
      await choose(user, id, 'Payments');
      return 'payments';
    case 'targetId':
      await choose(user, id, targets[0].name);
      return targets[0].id;
    case 'dashboardUid':
      await choose(user, id, 'payments-slo');
      return 'payments-slo';
    case 'tags': {
      const input = document.getElementById(id) as HTMLInputElement;
      await user.type(input, 'weekly{enter}');
      return ['weekly'];
    }
  }
  if (field.type === 'array' && field.itemEnum) {
    await choose(user, id, 'Decision');
    await choose(user, id, 'Review');
    return ['decision', 'review'];
  }
  if (field.type === 'string' && field.enum) {
    const value = field.enum[field.enum.length - 1];
    const label = value
      .replace(/_/g, ' ')
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .toLowerCase();
    const text = label.charAt(0).toUpperCase() + label.slice(1);
    if (field.default !== undefined && field.enum.length <= 3) {
      await user.click(screen.getByText(text));
    } else {
      await choose(user, id, text);
    }
    return value;
  }
  if (field.type === 'boolean') {
    await user.click(document.getElementById(id)!);
    return !field.default;
  }
  if (field.type === 'integer' || field.type === 'number') {
    const input = document.getElementById(id) as HTMLInputElement;
    await user.clear(input);
    await user.type(input, '50');
    await user.tab();
    return 50;
  }
  throw new Error(`${queryType}.${field.key}: no control is known for this field; add it to FieldControl and here`);
}

describe('every query type, edited through its controls', () => {
  it.each(QUERY_TYPES.map((t) => [t.queryType, t]))(
    '%s gives the JSON the backend accepts',
    async (queryType, schema) => {
      const user = userEvent.setup();
      let query = { refId: 'A', queryType: 'maturity' } as MaturityQuery;
      const onChange = jest.fn((q: MaturityQuery) => {
        query = q;
        view.rerender(<QueryEditor datasource={ds} query={query} onChange={onChange} onRunQuery={() => {}} />);
      });
      const ds = datasource();
      const view = render(<QueryEditor datasource={ds} query={query} onChange={onChange} onRunQuery={() => {}} />);

      await choose(user, 'maturity-A-queryType', schema.title);
      expect(query).toEqual({ refId: 'A', ...defaultsFor(queryType) });

      const expected: Record<string, unknown> = { refId: 'A', ...defaultsFor(queryType) };
      for (const field of schema.fields) {
        expected[field.key] = await setField(user, queryType, field, `maturity-A-${field.key}`);
        await waitFor(() =>
          expect((query as unknown as Record<string, unknown>)[field.key]).toEqual(expected[field.key])
        );
      }
      expect(query).toEqual(expected);

      const answer = await runQueries(backend.base, [query]);
      expect(answer.body.results.A.error).toBeUndefined();
      expect(answer.status).toBe(200);
    }
  );
});

describe('new queries are valid as they open', () => {
  it('the default panel query and the default annotation query are answered by the backend', async () => {
    const ds = new DataSource({ uid: 'maturity', jsonData: {} } as never);
    const panel = { refId: 'A', ...ds.getDefaultQuery('dashboard' as never) };
    const anno = ds.annotations!.prepareQuery!({
      name: 'x',
      enable: true,
      iconColor: 'red',
      target: { refId: 'Anno', ...ds.annotations!.getDefaultQuery!() } as MaturityQuery,
    });
    expect(ds.filterQuery(panel as MaturityQuery)).toBe(true);
    const answer = await runQueries(backend.base, [panel, anno!]);
    expect(answer.status).toBe(200);
    expect(answer.body.results.A.error).toBeUndefined();
    expect(answer.body.results.Anno.error).toBeUndefined();
  });

  it('every query type with only its defaults is accepted (the type picker never offers a broken start)', async () => {
    const queries = QUERY_TYPES.filter((t) => t.queryType !== 'targetSeries').map((t, i) => ({
      refId: `Q${i}`,
      ...defaultsFor(t.queryType),
      queryType: t.queryType,
    }));
    const answer = await runQueries(backend.base, queries);
    for (const q of queries) {
      expect([q.queryType, answer.body.results[q.refId].error]).toEqual([q.queryType, undefined]);
    }
  });
});

describe('errors from the backend', () => {
  it('stay on their own refId', async () => {
    const answer = await runQueries(backend.base, [
      { refId: 'A', queryType: 'maturity' },
      { refId: 'B', queryType: 'reviewLapse', measure: 'days' },
    ]);
    expect(answer.body.results.A.error).toBeUndefined();
    expect(answer.body.results.B.error).toMatch(/measure/);
  });
});
