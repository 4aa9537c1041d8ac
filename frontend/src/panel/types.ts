// The panel's options (set in the panel editor).

/** How the panel lays out what its queries answer. */
export type PanelView = 'auto' | 'ladder' | 'grid';

export interface PanelOptions {
  /** The team to show on the ladder (a team id or a variable such as $team); empty: the one team of the answer. */
  team: string;
  view: PanelView;
  /** Show the review's actions to users the datasource lets write. */
  showActions: boolean;
}
