// Boots the harness: reads the datasource as Grafana would describe it, installs the Grafana
// services the module calls, and renders the page inside Grafana's theme.
import { createTheme } from '@grafana/data';
import { GlobalStyles, ThemeContext } from '@grafana/ui';
import React from 'react';
import { createRoot } from 'react-dom/client';

import { DataSource } from '../src/datasource/DataSource';
import type { MaturityOptions } from '../src/datasource/types';
import { App } from './App';
import { installServices, instanceSettings, teamVariable } from './services';

async function boot() {
  const params = new URLSearchParams(window.location.search);
  const theme = createTheme({ colors: { mode: params.get('theme') === 'light' ? 'light' : 'dark' } });
  const team = params.getAll('team');
  if (team.length) {
    teamVariable.current = { value: team, text: team };
  }
  const res = await fetch('/api/datasources/uid/maturity');
  const info = (await res.json()) as { jsonData?: MaturityOptions };
  const settings = instanceSettings(info.jsonData ?? {});
  installServices(settings);
  const ds = new DataSource(settings);
  const root = createRoot(document.getElementById('root')!);
  root.render(
    <ThemeContext.Provider value={theme}>
      <GlobalStyles />
      <App ds={ds} jsonData={info.jsonData ?? {}} />
    </ThemeContext.Provider>
  );
}

boot().catch((e) => {
  document.body.textContent = `The harness could not start: ${e?.message ?? e}`;
});
