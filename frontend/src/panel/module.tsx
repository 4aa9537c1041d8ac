// The panel plugin's entry: Grafana loads panel/module.js and reads `plugin` for the panel
// and its options.
import { PanelPlugin } from '@grafana/data';

import { MaturityPanel } from './components/MaturityPanel';
import { PanelOptions } from './types';

export const plugin = new PanelPlugin<PanelOptions>(MaturityPanel).setPanelOptions((builder) =>
  builder
    .addTextInput({
      path: 'team',
      name: 'Team',
      description:
        'The team whose ladder to show: an id or a variable such as $team. Empty: the one team of the answer.',
      defaultValue: '$team',
    })
    .addRadio({
      path: 'view',
      name: 'View',
      defaultValue: 'auto',
      settings: {
        options: [
          { value: 'auto', label: 'Auto', description: 'The ladder for one team, a grid for many' },
          { value: 'ladder', label: 'Ladder' },
          { value: 'grid', label: 'Grid' },
        ],
      },
    })
    .addBooleanSwitch({
      path: 'showActions',
      name: 'Review actions',
      description: 'Mark reviewed, record a decision, ask a question, record an outcome',
      defaultValue: true,
    })
);
