// The plugin's entry: Grafana loads module.js and reads `plugin` for the datasource's class
// and its editors.
import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './datasource/components/ConfigEditor';
import { QueryEditor } from './datasource/components/QueryEditor';
import { DataSource } from './datasource/DataSource';
import type { MaturityOptions, MaturityQuery, MaturitySecureOptions } from './datasource/types';

export const plugin = new DataSourcePlugin<DataSource, MaturityQuery, MaturityOptions, MaturitySecureOptions>(
  DataSource
)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
