// The editor of an annotation layer: the query editor limited to the annotation-shaped query
// types (`events` and `levelChanges`), editing the layer's query (`annotation.target`).
import { AnnotationQuery, QueryEditorProps } from '@grafana/data';
import React from 'react';

import type { DataSource } from '../DataSource';
import { defaultsFor } from '../schema';
import type { MaturityOptions, MaturityQuery } from '../types';
import { QueryEditor } from './QueryEditor';

type Props = QueryEditorProps<DataSource, MaturityQuery, MaturityOptions> & {
  annotation?: AnnotationQuery<MaturityQuery>;
  onAnnotationChange?: (annotation: AnnotationQuery<MaturityQuery>) => void;
};

export function AnnotationQueryEditor(props: Props) {
  const { annotation, onAnnotationChange, query } = props;
  const current = (annotation?.target ?? query ?? { ...defaultsFor('events'), refId: 'Anno' }) as MaturityQuery;
  const onChange = (next: MaturityQuery) => {
    if (annotation && onAnnotationChange) {
      onAnnotationChange({ ...annotation, target: next });
    } else {
      props.onChange(next);
    }
  };
  return (
    <QueryEditor
      {...props}
      query={{ ...current, refId: current.refId || 'Anno' }}
      onChange={onChange}
      onRunQuery={props.onRunQuery ?? (() => {})}
      queryTypes={['events', 'levelChanges']}
    />
  );
}
