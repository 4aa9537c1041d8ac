// The settings page writes what Grafana stores: secrets only into secureJsonData (never
// jsonData, never shown back once set), settings under their jsonData keys, thresholds under
// jsonData.maturity with empty meaning the default, and the backend's checks shown in place.
import { DataSourceSettings } from '@grafana/data';
import { fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React, { useState } from 'react';

import type { MaturityOptions, MaturitySecureOptions } from '../types';
import { ConfigEditor } from './ConfigEditor';

type Settings = DataSourceSettings<MaturityOptions, MaturitySecureOptions>;

function setup(jsonData: MaturityOptions = {}, secureJsonFields: Record<string, boolean> = {}) {
  const seen: Settings[] = [];
  function Host() {
    const [options, setOptions] = useState({ jsonData, secureJsonFields, secureJsonData: {} } as unknown as Settings);
    return (
      <ConfigEditor
        options={options}
        onOptionsChange={(o) => {
          seen.push(o);
          setOptions(o);
        }}
      />
    );
  }
  render(<Host />);
  return { last: () => seen[seen.length - 1], seen };
}

describe('ConfigEditor', () => {
  it('writes the service account token to secureJsonData only', async () => {
    const user = userEvent.setup();
    const { last, seen } = setup();
    await user.type(document.getElementById('config-serviceAccountToken')!, 'glsa_abc');
    expect(last().secureJsonData).toEqual({ serviceAccountToken: 'glsa_abc' });
    for (const o of seen) {
      expect(JSON.stringify(o.jsonData)).not.toContain('glsa');
    }
  });

  it('shows a token that is set as configured, never its value, and resets it', async () => {
    const user = userEvent.setup();
    const { last } = setup({}, { serviceAccountToken: true });
    const input = document.getElementById('config-serviceAccountToken') as HTMLInputElement;
    expect(input.value).toBe('configured');
    expect(input).toBeDisabled();
    await user.click(screen.getAllByRole('button', { name: 'Reset' })[0]);
    expect(last().secureJsonFields).toMatchObject({ serviceAccountToken: false });
    expect(last().secureJsonData).toMatchObject({ serviceAccountToken: '' });
  });

  it('keeps the PostgreSQL URL secret too, and switches the store', async () => {
    const user = userEvent.setup();
    const { last } = setup();
    await user.click(screen.getByText('PostgreSQL'));
    expect(last().jsonData.storage).toBe('postgres');
    await user.type(document.getElementById('config-postgresUrl')!, 'postgres://u:pw@h/db');
    expect(last().secureJsonData).toMatchObject({ postgresUrl: 'postgres://u:pw@h/db' });
    expect(JSON.stringify(last().jsonData)).not.toContain('pw@');
  });

  it('stores thresholds as numbers under jsonData.maturity, and an emptied field falls back to the default', async () => {
    const user = userEvent.setup();
    const { last } = setup();
    const ratio = document.getElementById('config-reviewRatio') as HTMLInputElement;
    expect(ratio.placeholder).toBe('0.75');
    await user.type(ratio, '0.5');
    fireEvent.blur(ratio);
    expect(last().jsonData.maturity).toEqual({ reviewRatio: 0.5 });
    await user.clear(ratio);
    fireEvent.blur(ratio);
    expect(last().jsonData.maturity).toBeUndefined();
  });

  it("shows the backend's complaint next to a bad value", async () => {
    const user = userEvent.setup();
    setup({ maturity: { windowWeeks: 2 } });
    const block = document.getElementById('config-adjustmentBlockDays') as HTMLInputElement;
    await user.type(block, '30');
    fireEvent.blur(block);
    expect(
      await screen.findAllByText(
        /is 30 days, longer than the 2-week window \(14 days\): the window would hold no block/
      )
    ).not.toHaveLength(0);
  });

  it('writes viewersCanAnnotate and viewSessionMinutes under their own keys', async () => {
    const user = userEvent.setup();
    const { last } = setup();
    await user.click(document.getElementById('config-viewersCanAnnotate')!);
    expect(last().jsonData.viewersCanAnnotate).toBe(false);
    const minutes = document.getElementById('config-viewSessionMinutes') as HTMLInputElement;
    await user.type(minutes, '0');
    fireEvent.blur(minutes);
    expect(last().jsonData.viewSessionMinutes).toBe(0);
    expect(await screen.findAllByText(/must be a whole number of minutes from 1 to 10080, got 0/)).not.toHaveLength(0);
  });
});
