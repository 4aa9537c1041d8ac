//! The review agenda use case (`reviewAgenda`, SPEC §4.1, issue 13): load each team's
//! evidence once, [`TEAMS_PER_READ`](super::queries::TEAMS_PER_READ) teams at a time, and
//! hand it to the pure [`engine::agenda`](crate::engine::agenda), whose doc holds the rules
//! and the order.

use super::queries::TeamSelector;
use super::{App, AppResult, Caller};
use crate::engine::agenda::{self, AgendaItem};
use crate::model::EpochMs;

impl App {
    /// `reviewAgenda`: what each selected team should discuss at `at`, most urgent first.
    pub async fn review_agenda(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        at: EpochMs,
    ) -> AppResult<Vec<AgendaItem>> {
        let settings = self.settings().maturity.clone();
        // Two windows back: the level at the last review (up to one window ago) is
        // evaluated over the window before it.
        let from = at.saturating_sub(settings.window_ms().saturating_mul(2));
        let mut items = self
            .per_chunk(
                caller,
                teams,
                (from, at),
                super::queries::whole_evidence,
                move |ev| agenda::agenda(&settings, &ev.teams, &ev.events, &ev.targets, at),
            )
            .await?;
        // Each read answers in order; so does the whole.
        agenda::sort(&mut items);
        Ok(items)
    }
}
