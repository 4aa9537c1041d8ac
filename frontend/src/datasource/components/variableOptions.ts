// The dashboard's template variables as options of a picker (`$name`), as Grafana's own
// editors offer them.
import type { SelectableValue } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';

/** `$name` for every variable of the dashboard (none outside a dashboard). */
export function variableOptions(): Array<SelectableValue<string>> {
  let names: string[] = [];
  try {
    names = getTemplateSrv()
      .getVariables()
      .map((v) => v.name);
  } catch {
    names = [];
  }
  return names.map((name) => ({
    label: `$${name}`,
    value: `$${name}`,
    description: 'Template variable',
    icon: 'dollar-alt',
  }));
}
