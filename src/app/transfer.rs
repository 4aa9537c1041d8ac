//! Export and import of an org's data as NDJSON (`{"type", "value"}` per line), shared by
//! the resource API and the command-line tool. Import is idempotent by id.

use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::{input, new_id, App, AppError, AppResult, Caller, Origin, Role};
use crate::model::OrgId;
use crate::model::{parse_time, EpochMs, Event, Invalid, Source};

/// What an import did, line by line.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ImportReport {
    /// Lines stored.
    pub created: usize,
    /// Lines whose id already existed (left as they were).
    pub skipped: usize,
    /// Lines refused, each with its reason.
    pub rejected: usize,
    /// `{line, reason}` for each rejected line (1-based line numbers).
    pub errors: Vec<ImportError>,
}

/// Why one line was refused.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ImportError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong.
    pub reason: String,
}

fn line_json<T: Serialize>(kind: &str, value: &T) -> AppResult<String> {
    let v = json!({"type": kind, "value": value});
    serde_json::to_string(&v).map_err(|e| AppError::Internal(format!("cannot encode {kind}: {e}")))
}

/// Events read per page of an export: what one export holds in memory at a time is a page
/// and a chunk, whatever the org's size.
pub const EXPORT_PAGE_EVENTS: usize = 2000;

/// An export's bytes, cut into chunks of at most `max` bytes as lines are added (a chunk may
/// end inside a line: the reader joins them).
struct Chunks {
    buf: Vec<u8>,
    max: usize,
    tx: mpsc::Sender<AppResult<Vec<u8>>>,
}

impl Chunks {
    async fn line(&mut self, line: String) -> AppResult<()> {
        self.buf.extend_from_slice(line.as_bytes());
        self.buf.push(b'\n');
        while self.buf.len() >= self.max {
            let rest = self.buf.split_off(self.max);
            let full = std::mem::replace(&mut self.buf, rest);
            self.send(full).await?;
        }
        Ok(())
    }

    async fn send(&self, chunk: Vec<u8>) -> AppResult<()> {
        self.tx
            .send(Ok(chunk))
            .await
            .map_err(|_| AppError::Internal("the export's reader went away".into()))
    }

    async fn finish(mut self) -> AppResult<()> {
        if !self.buf.is_empty() {
            let last = std::mem::take(&mut self.buf);
            self.send(last).await?;
        }
        Ok(())
    }
}

impl App {
    /// `GET /export` as it is sent (issue 11): teams, then targets (with actuals and
    /// verification), then events in time order, one JSON object per line, read a page at a
    /// time and handed over in chunks of at most `max_chunk` bytes. Grafana's gRPC client
    /// refuses messages over 4 MiB, so a large org cannot be one message.
    pub fn export_chunks(
        &self,
        caller: &Caller,
        max_chunk: usize,
    ) -> AppResult<mpsc::Receiver<AppResult<Vec<u8>>>> {
        caller.check_write(Role::Admin, "exporting")?;
        let (tx, rx) = mpsc::channel(2);
        let (app, org) = (self.clone(), caller.org);
        tokio::spawn(async move {
            let out = Chunks {
                buf: Vec::new(),
                max: max_chunk.max(1),
                tx: tx.clone(),
            };
            if let Err(e) = app.write_export(org, out).await {
                let _ = tx.send(Err(e)).await;
            }
        });
        Ok(rx)
    }

    async fn write_export(&self, org: OrgId, mut out: Chunks) -> AppResult<()> {
        let (teams, targets) = self
            .with_store(move |s| Ok((s.list_teams(org)?, s.list_targets(org, &[])?)))
            .await?;
        for t in &teams {
            out.line(line_json("team", t)?).await?;
        }
        drop(teams);
        for t in &targets {
            out.line(line_json("target", t)?).await?;
        }
        drop(targets);
        let mut after: Option<(EpochMs, String)> = None;
        loop {
            let from = after.clone();
            let page = self
                .with_store(move |s| Ok(s.events_after(org, from, EXPORT_PAGE_EVENTS)?))
                .await?;
            let Some(last) = page.last() else { break };
            after = Some((last.time, last.id.clone()));
            let full = page.len() == EXPORT_PAGE_EVENTS;
            for e in &page {
                out.line(line_json("event", e)?).await?;
            }
            if !full {
                break;
            }
        }
        out.finish().await
    }

    /// The whole export as one text (the command-line tool writes it to a file or stdout).
    pub async fn export(&self, caller: &Caller) -> AppResult<String> {
        let mut chunks = self.export_chunks(caller, 1 << 20)?;
        let mut bytes = Vec::new();
        while let Some(chunk) = chunks.recv().await {
            bytes.extend(chunk?);
        }
        String::from_utf8(bytes)
            .map_err(|e| AppError::Internal(format!("the export is not UTF-8: {e}")))
    }

    /// `POST /import`: takes the lines of an export; ids that exist are skipped; each bad
    /// line is rejected with its reason and the others still go in.
    pub async fn import(&self, caller: &Caller, body: &str) -> AppResult<ImportReport> {
        caller.check_write(Role::Admin, "importing")?;
        let mut report = ImportReport::default();
        let mut pending_events: Vec<(usize, Event)> = Vec::new();
        for (i, line) in body.lines().enumerate() {
            let n = i + 1;
            if line.trim().is_empty() {
                continue;
            }
            let outcome = match self.import_line(caller, line, &mut pending_events, n).await {
                Ok(Some(())) => Ok(true),
                Ok(None) => Ok(false),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(true) => report.created += 1,
                Ok(false) => {}
                Err(AppError::Conflict(_)) => report.skipped += 1,
                Err(AppError::Internal(m)) => return Err(AppError::Internal(m)),
                Err(e) => {
                    report.rejected += 1;
                    report.errors.push(ImportError {
                        line: n,
                        reason: e.to_string(),
                    });
                }
            }
            if pending_events.len() >= 1000 {
                self.flush_imported_events(caller, &mut pending_events, &mut report)
                    .await?;
            }
        }
        self.flush_imported_events(caller, &mut pending_events, &mut report)
            .await?;
        Ok(report)
    }

    /// Stores a team or target line at once; queues an event line (events are written in
    /// batches). `Ok(None)` means queued.
    async fn import_line(
        &self,
        caller: &Caller,
        line: &str,
        pending: &mut Vec<(usize, Event)>,
        n: usize,
    ) -> AppResult<Option<()>> {
        let v: Value = serde_json::from_str(line)
            .map_err(|e| Invalid::new("line", format!("not JSON: {e}")))?;
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let value = v
            .get("value")
            .ok_or_else(|| Invalid::new("value", "every line needs {\"type\", \"value\"}"))?;
        match kind.as_str() {
            // Teams and targets go through the same use cases as the API (import needs
            // Admin, which covers their Editor); a taken id answers Conflict: skipped.
            "team" => {
                self.create_team_from(caller, value, Origin::Import).await?;
                Ok(Some(()))
            }
            "target" => {
                self.create_target_from(caller, value, Origin::Import)
                    .await?;
                Ok(Some(()))
            }
            "event" => {
                let e = self.imported_event(caller, value)?;
                pending.push((n, e));
                Ok(None)
            }
            other => Err(Invalid::new(
                "type",
                format!("unknown type {other:?}; one of team, target, event"),
            )
            .into()),
        }
    }

    /// An exported event keeps its author, source and times.
    fn imported_event(&self, caller: &Caller, value: &Value) -> AppResult<Event> {
        let i = input::event(value, "")?;
        let o = input::object("value", value)?;
        let now = self.now();
        let source = match input::opt_string(o, "source", "source")? {
            Some(s) => Source::parse(&s)
                .ok_or_else(|| Invalid::new("source", format!("unknown source {s:?}")))?,
            None => Source::Api,
        };
        let time_of = |key: &str| -> Result<Option<i64>, Invalid> {
            o.get(key)
                .filter(|v| !v.is_null())
                .map(|v| parse_time(key, v))
                .transpose()
        };
        Ok(Event {
            id: i.id.unwrap_or_else(|| new_id("ev")),
            kind: i.kind,
            time: i.time.unwrap_or(now),
            time_end: i.time_end,
            team: i.team,
            dashboard_uid: i.dashboard_uid,
            panel_id: i.panel_id,
            user: input::opt_string(o, "user", "user")?
                .unwrap_or_else(|| caller.login().to_string()),
            text: i.text,
            tags: i.tags,
            data: i.data,
            source,
            created_at: time_of("createdAt")?.unwrap_or(now),
            updated_at: time_of("updatedAt")?.unwrap_or(now),
        })
    }

    /// Writes queued events: those whose id exists are skipped; the rest go in one
    /// transaction, or one by one when some line is refused, so one bad line costs only itself.
    async fn flush_imported_events(
        &self,
        caller: &Caller,
        pending: &mut Vec<(usize, Event)>,
        report: &mut ImportReport,
    ) -> AppResult<()> {
        if pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(pending);
        let org = caller.org;
        let results = self
            .with_store(move |s| {
                let ids: Vec<String> = batch.iter().map(|(_, e)| e.id.clone()).collect();
                let existing: std::collections::HashSet<String> =
                    s.existing_event_ids(org, &ids)?.into_iter().collect();
                let fresh: Vec<(usize, Event)> = batch
                    .into_iter()
                    .filter(|(_, e)| !existing.contains(&e.id))
                    .collect();
                let skipped = ids.len() - fresh.len();
                let events: Vec<Event> = fresh.iter().map(|(_, e)| e.clone()).collect();
                let unchecked = super::Decisions::Unchecked;
                if super::insert_checked(s, org, &events, true, unchecked).is_ok() {
                    return Ok((skipped, fresh.len(), Vec::new()));
                }
                let mut created = 0;
                let mut errors = Vec::new();
                for (line, e) in fresh {
                    match super::insert_checked(s, org, std::slice::from_ref(&e), false, unchecked)
                    {
                        Ok(_) => created += 1,
                        Err(AppError::Internal(m)) => return Err(AppError::Internal(m)),
                        Err(err) => errors.push(ImportError {
                            line,
                            reason: err.to_string(),
                        }),
                    }
                }
                Ok((skipped, created, errors))
            })
            .await;
        let (skipped, created, errors) = results.map_err(|e| match e {
            AppError::Internal(m) => AppError::Internal(m),
            other => AppError::Internal(other.to_string()),
        })?;
        report.skipped += skipped;
        report.created += created;
        report.rejected += errors.len();
        report.errors.extend(errors);
        report.errors.sort_by_key(|e| e.line);
        Ok(())
    }
}
