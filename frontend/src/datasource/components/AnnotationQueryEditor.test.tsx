// The annotation layer's editor offers only the annotation-shaped query types and edits the
// layer's own query (annotation.target), as Grafana's standard annotation support expects.
import { AnnotationQuery } from '@grafana/data';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React from 'react';

import type { DataSource } from '../DataSource';
import type { MaturityQuery } from '../types';
import { AnnotationQueryEditor } from './AnnotationQueryEditor';

const ds = { uid: 'maturity', getResource: async () => [] } as unknown as DataSource;

it('offers events and level changes only, and writes the layer target', async () => {
  const user = userEvent.setup();
  const annotation: AnnotationQuery<MaturityQuery> = {
    name: 'Decisions',
    enable: true,
    iconColor: 'orange',
    target: { refId: 'Anno', queryType: 'events' } as MaturityQuery,
  };
  const onAnnotationChange = jest.fn();
  render(
    <AnnotationQueryEditor
      datasource={ds}
      query={annotation.target!}
      annotation={annotation}
      onAnnotationChange={onAnnotationChange}
      onChange={() => {}}
      onRunQuery={() => {}}
    />
  );
  await user.click(document.getElementById('maturity-Anno-queryType')!);
  const options = (await screen.findAllByRole('option')).map((o) => o.textContent ?? '');
  expect(options).toHaveLength(2);
  expect(options[0]).toMatch(/^Events/);
  expect(options[1]).toMatch(/^Level changes/);
  await user.click(screen.getAllByRole('option')[1]);
  expect(onAnnotationChange).toHaveBeenLastCalledWith(
    expect.objectContaining({
      name: 'Decisions',
      target: expect.objectContaining({ queryType: 'levelChanges', refId: 'Anno' }),
    })
  );
});
