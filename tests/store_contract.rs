//! The store contract: every behaviour the app relies on, run against every implementation
//! (SQLite always; PostgreSQL on the server `scripts/with-postgres` starts), each opened
//! through `open_store` as the plugin opens it. A store-specific test (files, pools, TLS)
//! lives beside its implementation or in its own test file; this one holds what both promise.

#[path = "common/postgres.rs"]
mod pg;

use maturity::model::{
    Actual, Direction, Event, EventFilter, EventKind, EventRef, PendingView, Source, Target, Team,
    Verdict, Verification, VersionStep,
};
use maturity::settings::{PathRule, Secret, Storage};
use maturity::store::{open_store, Counts, ListedEvent, ListedEvents, Store, StoreError};
use serde_json::{json, Map};

/// One test per store for each contract check: `mod <check> { fn sqlite(); fn postgres(); }`.
macro_rules! contract {
    ($(fn $name:ident($s:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                fn check($s: &dyn Store) $body

                #[test]
                fn sqlite() {
                    let (_dir, storage) = super::sqlite_storage();
                    check(&*open_store(&storage).expect("open the SQLite store"));
                }

                #[test]
                fn postgres() {
                    if let Some(storage) = super::postgres_storage(stringify!($name)) {
                        check(&*open_store(&storage).expect("open the PostgreSQL store"));
                    }
                }
            }
        )*
    };
}

fn sqlite_storage() -> (tempfile::TempDir, Storage) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sub/dir/m.db");
    (
        dir,
        Storage::Sqlite {
            path,
            rule: PathRule::CommandLine,
        },
    )
}

fn postgres_storage(hint: &str) -> Option<Storage> {
    pg::fresh_database(hint).map(|url| Storage::Postgres {
        url: Secret::new(url),
    })
}

fn team(id: &str) -> Team {
    Team {
        id: id.into(),
        name: id.to_uppercase(),
        dashboards: vec![format!("slo-{id}")],
        members: vec!["alice".into()],
        cadence_days: 7,
        created_at: 1,
    }
}

fn event(id: &str, kind: EventKind, time: i64, team: Option<&str>) -> Event {
    Event {
        id: id.into(),
        kind,
        time,
        time_end: None,
        team: team.map(String::from),
        dashboard_uid: None,
        panel_id: None,
        user: "alice".into(),
        text: "t".into(),
        tags: vec![kind.as_str().into()],
        data: Map::new(),
        source: Source::Api,
        created_at: 0,
        updated_at: 0,
    }
}

fn imported(id: &str, time: i64, text: &str, source: Source) -> Event {
    Event {
        id: id.into(),
        kind: EventKind::Decision,
        time,
        time_end: None,
        team: Some("pay".into()),
        dashboard_uid: Some("slo".into()),
        panel_id: Some(2),
        user: "alice".into(),
        text: text.into(),
        tags: vec!["decision".into()],
        data: Map::new(),
        source,
        created_at: 1,
        updated_at: 1,
    }
}

fn target(id: &str, team: &str) -> Target {
    Target {
        id: id.into(),
        team: team.into(),
        name: "Latency".into(),
        unit: Some("ms".into()),
        direction: Direction::Decrease,
        baseline: Some(10.0),
        target: Some(8.0),
        start_at: 0,
        deadline: Some(100),
        query: None,
        actuals: vec![],
        verification: None,
        created_at: 0,
    }
}

contract! {
fn teams_are_scoped_by_org(s) {
    s.create_team(1, &team("payments")).expect("create");
    s.create_team(2, &team("payments"))
        .expect("same id in another org");
    assert!(matches!(
        s.create_team(1, &team("payments")),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.list_teams(1).expect("list").len(), 1);
    assert!(matches!(
        s.get_team(3, "payments"),
        Err(StoreError::NotFound(_))
    ));
    s.delete_team(2, "payments", false).expect("delete");
    assert!(s.get_team(1, "payments").is_ok());
}

fn deleting_a_named_team_needs_cascade(s) {
    s.create_team(1, &team("payments")).expect("create");
    s.insert_events(1, &[event("e1", EventKind::Question, 5, Some("payments"))])
        .expect("insert");
    assert!(matches!(
        s.delete_team(1, "payments", false),
        Err(StoreError::Conflict(_))
    ));
    s.delete_team(1, "payments", true).expect("cascade");
    assert_eq!(s.counts(1).expect("counts"), Counts::default());
}

fn a_batch_with_a_taken_id_writes_nothing(s) {
    s.insert_events(1, &[event("e1", EventKind::Question, 5, Some("p"))])
        .expect("insert");
    let batch = [
        event("e2", EventKind::Question, 6, Some("p")),
        event("e1", EventKind::Review, 7, Some("p")),
    ];
    let err = s.insert_events(1, &batch).expect_err("conflict");
    assert!(err.to_string().contains("e1"));
    assert_eq!(s.counts(1).expect("counts").events, 1);
}

fn events_filter_by_kind_team_dashboard_time_and_tags_newest_first(s) {
    let mut a = event("a", EventKind::Review, 10, Some("p"));
    a.tags = vec!["review".into(), "weekly".into()];
    a.dashboard_uid = Some("d1".into());
    let b = event("b", EventKind::Question, 20, Some("q"));
    let c = event("c", EventKind::Review, 30, Some("p"));
    s.insert_events(1, &[a, b, c]).expect("insert");
    let ids = |f: EventFilter| -> Vec<String> {
        s.list_events(
            1,
            &EventFilter {
                limit: if f.limit == 0 { 100 } else { f.limit },
                ..f
            },
        )
        .expect("list")
        .into_iter()
        .map(|e| e.id)
        .collect()
    };
    assert_eq!(ids(EventFilter::default()), ["c", "b", "a"]);
    assert_eq!(
        ids(EventFilter {
            kinds: vec![EventKind::Review],
            ..Default::default()
        }),
        ["c", "a"]
    );
    assert_eq!(
        ids(EventFilter {
            teams: vec!["q".into()],
            ..Default::default()
        }),
        ["b"]
    );
    assert_eq!(
        ids(EventFilter {
            dashboard_uid: Some("d1".into()),
            ..Default::default()
        }),
        ["a"]
    );
    assert_eq!(
        ids(EventFilter {
            from: Some(20),
            to: Some(30),
            ..Default::default()
        }),
        ["c", "b"]
    );
    assert_eq!(
        ids(EventFilter {
            tags: vec!["weekly".into()],
            ..Default::default()
        }),
        ["a"]
    );
    assert_eq!(
        ids(EventFilter {
            limit: 1,
            offset: 1,
            ..Default::default()
        }),
        ["b"]
    );
}

fn reads_take_lists_of_any_length_in_one_statement(s) {
    // Issue 11: 40,000 dashboards, ids or kinds once made SQLite refuse the statement
    // ("variable number must be between ?1 and ?32766", "Expression tree is too large").
    let mut big = team("p");
    big.dashboards = (0..40_000).map(|i| format!("d{i}")).collect();
    big.dashboards.push("slo-p".into());
    s.create_team(1, &big).expect("team");
    let mut view = event("v1", EventKind::View, 150, None);
    view.dashboard_uid = Some("slo-p".into());
    let mut tagged = event("q1", EventKind::Question, 160, Some("p"));
    tagged.tags = (0..3000).map(|i| format!("t{i}")).collect();
    s.insert_events(1, &[view, tagged]).expect("insert");
    let ev = s.evidence(1, &[], 100, 1000).expect("evidence");
    assert_eq!(ev.events.len(), 2);
    let many_teams: Vec<String> = (0..40_000)
        .map(|i| format!("t{i}"))
        .chain(["p".to_string()])
        .collect();
    assert_eq!(
        s.evidence(1, &many_teams, 100, 1000)
            .expect("ids")
            .teams
            .len(),
        1
    );
    assert!(s.list_targets(1, &many_teams).expect("targets").is_empty());
    let filter = EventFilter {
        kinds: vec![EventKind::Question; 40_000],
        teams: many_teams.clone(),
        tags: (0..3000).map(|i| format!("t{i}")).collect(),
        limit: 10,
        ..Default::default()
    };
    let ids: Vec<String> = s
        .list_events(1, &filter)
        .expect("list")
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, ["q1"]);
    let missing_tag = EventFilter {
        tags: vec!["t1".into(), "nope".into()],
        limit: 10,
        ..Default::default()
    };
    assert!(s.list_events(1, &missing_tag).expect("list").is_empty());
    let far = EventFilter {
        limit: 10,
        offset: u64::MAX,
        ..Default::default()
    };
    assert!(s.list_events(1, &far).expect("far page").is_empty());
}

fn passive_views_keep_one_per_session_bucket(s) {
    let view = |time: i64, bucket: i64| PendingView {
        org: 1,
        user: "alice".into(),
        dashboard_uid: "d1".into(),
        panel_id: Some(2),
        time,
        session_bucket: bucket,
    };
    let mut n = 0;
    let mut ids = || {
        n += 1;
        format!("v{n}")
    };
    let before = s.evidence_versions(1).expect("before");
    let written = s
        .insert_views(&[view(1, 0), view(2, 0), view(3, 1)], &mut ids, 0)
        .expect("views");
    let after = s.evidence_versions(1).expect("after");
    // The second view of bucket 0 is not stored, nor among the views written.
    assert_eq!(written.len(), 1, "{written:?}");
    let ids_written: Vec<&str> = written[0].events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!((written[0].org, ids_written), (1, vec!["v1", "v3"]));
    assert_eq!(written[0].events[1], view(3, 1).to_event("v3".into(), 0));
    // Their step is exactly how they moved the versions: the dashboard's raised.
    assert_eq!(before.advanced(&written[0].step), Some(after.clone()));
    let scopes: Vec<&str> = written[0].step.scopes.iter().map(|(s, _, _)| s.as_str()).collect();
    assert_eq!(scopes, ["dashboard:d1"]);
    assert!(written[0].step.of_scope("dashboard:d1").is_some_and(|(b, a)| a > b));
    // A bucket already stored: nothing written, nothing moved.
    assert_eq!(
        s.insert_views(&[view(4, 1)], &mut ids, 0).expect("again"),
        vec![]
    );
    assert_eq!(s.evidence_versions(1).expect("unmoved"), after);
    // Views of two orgs in one batch: each org's views with its own step, orgs ascending.
    let other = |org: i64, dashboard: &str, bucket: i64| PendingView {
        org,
        dashboard_uid: dashboard.into(),
        ..view(5, bucket)
    };
    let before = (s.evidence_versions(1).expect("1"), s.evidence_versions(2).expect("2"));
    let written = s
        .insert_views(&[other(2, "d2", 7), other(1, "d3", 7), other(2, "d2", 8)], &mut ids, 0)
        .expect("two orgs");
    let orgs: Vec<(i64, usize)> = written.iter().map(|w| (w.org, w.events.len())).collect();
    assert_eq!(orgs, [(1, 1), (2, 2)]);
    assert_eq!(before.0.advanced(&written[0].step), Some(s.evidence_versions(1).expect("1")));
    assert_eq!(before.1.advanced(&written[1].step), Some(s.evidence_versions(2).expect("2")));
    let views = s
        .list_events(
            1,
            &EventFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .expect("list");
    assert!(views
        .iter()
        .all(|v| v.source == Source::Passive && v.kind == EventKind::View));
}

fn targets_keep_actuals_sorted_and_replace_an_actual_at_the_same_time(s) {
    let t = Target {
        id: "t1".into(),
        team: "p".into(),
        name: "Latency".into(),
        unit: Some("ms".into()),
        direction: Direction::Decrease,
        baseline: Some(10.0),
        target: Some(8.0),
        start_at: 0,
        deadline: Some(100),
        query: Some(json!({"expr": "x"})),
        actuals: vec![
            Actual {
                time: 20,
                value: 9.0,
            },
            Actual {
                time: 10,
                value: 9.5,
            },
        ],
        verification: None,
        created_at: 0,
    };
    s.create_target(1, &t).expect("create");
    let version = || s.evidence_versions(1).expect("versions").of_scope("team:p");
    let before = version();
    let written = s
        .add_actuals(
            1,
            "t1",
            &[Actual {
                time: 20,
                value: 8.5,
            }],
        )
        .expect("add");
    let got = s.get_target(1, "t1").expect("get");
    // The write reports the target as it left it and exactly how it moved its team's
    // version (issue 15: kept evidence takes both forward).
    assert_eq!(written.target, got);
    let after = version();
    assert!(after > before, "{before} -> {after}");
    assert_eq!(
        written.step,
        VersionStep {
            scopes: vec![("team:p".into(), before, after)]
        }
    );
    assert_eq!(
        got.actuals,
        vec![
            Actual {
                time: 10,
                value: 9.5
            },
            Actual {
                time: 20,
                value: 8.5
            }
        ]
    );
    assert_eq!(got.query, Some(json!({"expr": "x"})));
    assert!(matches!(
        s.add_actuals(1, "nope", &[]),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.get_target(2, "t1"),
        Err(StoreError::NotFound(_))
    ));
}

fn evidence_holds_old_decisions_with_their_outcomes_and_the_views_of_team_dashboards(s) {
    s.create_team(1, &team("p")).expect("team");
    let old_decision = event("d0", EventKind::Decision, 1, Some("p"));
    let mut outcome = event("o1", EventKind::Outcome, 500, Some("other"));
    outcome.data.insert("decisionId".into(), json!("d0"));
    let old_question = event("q0", EventKind::Question, 2, Some("p"));
    let mut view = event("v1", EventKind::View, 150, None);
    view.dashboard_uid = Some("slo-p".into());
    let mut foreign_view = event("v2", EventKind::View, 150, None);
    foreign_view.dashboard_uid = Some("elsewhere".into());
    let late = event("q9", EventKind::Question, 1000, Some("p"));
    // Rows two reads could both return come once: a view that names the team, and the
    // team's own outcome of its own decision.
    let mut team_view = event("v3", EventKind::View, 160, Some("p"));
    team_view.dashboard_uid = Some("slo-p".into());
    let mut own_outcome = event("o2", EventKind::Outcome, 170, Some("p"));
    own_outcome.data.insert("decisionId".into(), json!("d0"));
    s.insert_events(
        1,
        &[
            old_decision,
            outcome,
            old_question,
            view,
            foreign_view,
            late,
            team_view,
            own_outcome,
        ],
    )
    .expect("insert");
    let ev = s.evidence(1, &[], 100, 1000).expect("evidence");
    let mut ids: Vec<&str> = ev.events.iter().map(|e| e.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["d0", "o1", "o2", "v1", "v3"]);
    assert_eq!(ev.teams.len(), 1);
}

// Each kind comes from its own index (issue 15): every kind inside the window, on the
// team's dashboard, with a user, a source, text and data, reads back exactly as a rule sees
// it (`Event::as_evidence`); before the window only decisions and their outcomes do.
fn evidence_reads_each_kind_inside_the_window_as_the_rules_see_it(s) {
    s.create_team(1, &team("p")).expect("team");
    let mut written = Vec::new();
    for (n, kind) in EventKind::ALL.into_iter().enumerate() {
        for (when, time) in [("before", 50), ("inside", 200 + n as i64), ("after", 1000)] {
            let mut e = event(&format!("{}-{when}", kind.as_str()), kind, time, Some("p"));
            e.dashboard_uid = Some("slo-p".into());
            e.user = format!("user-{n}");
            e.source = if n % 2 == 0 { Source::Api } else { Source::Grafana };
            e.text = format!("text of {}", kind.as_str());
            e.panel_id = Some(4);
            e.time_end = Some(time + 5);
            e.data.insert("note".into(), json!(n));
            if kind == EventKind::Outcome {
                e.data.insert("decisionId".into(), json!("decision-before"));
            }
            if kind == EventKind::Review {
                // Of a review's data only its dashboards are evidence.
                e.data.insert("dashboards".into(), json!(["slo-p", "other"]));
            }
            written.push(e);
        }
    }
    let mut null_dashboards = event("review-null-inside", EventKind::Review, 300, Some("p"));
    null_dashboards.data.insert("dashboards".into(), json!(null));
    null_dashboards.data.insert("attendees".into(), json!(["alice"]));
    written.push(null_dashboards);
    s.insert_events(1, &written).expect("insert");
    let ev = s.evidence(1, &["p".to_string()], 100, 1000).expect("evidence");
    let mut read = ev.events.clone();
    read.sort_by(|a, b| a.id.cmp(&b.id));
    let mut expected: Vec<Event> = written
        .iter()
        .filter(|e| {
            e.id.ends_with("-inside")
                || (e.kind == EventKind::Decision && e.id.ends_with("-before"))
                // Outcomes of a read decision count whatever their time before `to`.
                || (e.kind == EventKind::Outcome && e.id.ends_with("-before"))
        })
        .map(Event::as_evidence)
        .collect();
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(read, expected);
}

// A kept read (issue 15) holds, of every event an evidence read gives, what a rule reads:
// the same events with the same ids, kinds, times, names, decision texts and the `data`
// values a rule reads (SQLite makes them from its rows, PostgreSQL from its events).
fn a_kept_read_holds_what_the_rules_read_of_the_evidence_read(s) {
    s.create_team(1, &team("p")).expect("team");
    let mut other = team("q");
    other.dashboards = vec!["shared".into()];
    s.create_team(1, &other).expect("team");
    let mut written = Vec::new();
    for (n, kind) in EventKind::ALL.into_iter().enumerate() {
        for (when, time) in [("before", 50), ("inside", 200 + n as i64)] {
            let mut e = event(&format!("{}-{when}", kind.as_str()), kind, time, Some("p"));
            e.dashboard_uid = Some(if n % 2 == 0 { "slo-p" } else { "shared" }.into());
            e.user = format!("user-{}", n % 3);
            e.text = format!("text of {} ünïcode", kind.as_str());
            e.data.insert("note".into(), json!(n));
            match kind {
                EventKind::Decision => {
                    e.data.insert("followUpAt".into(), json!(900 + n as i64));
                    e.data
                        .insert("suggestedOutcome".into(), json!({"result": "confirmed"}));
                }
                EventKind::Outcome => {
                    e.data.insert("decisionId".into(), json!("decision-before"));
                    e.data.insert("result".into(), json!("refuted"));
                }
                EventKind::Review => {
                    e.data.insert("dashboards".into(), json!(["slo-p", "shared"]));
                }
                _ => {}
            }
            written.push(e);
        }
    }
    s.insert_events(1, &written).expect("insert");
    let teams = ["p".to_string(), "q".to_string()];
    // What a rule can read of an event.
    fn seen(e: EventRef<'_>) -> String {
        let data: Vec<Option<&serde_json::Value>> =
            ["followUpAt", "suggestedOutcome", "decisionId", "result", "dashboards"]
                .iter()
                .map(|k| e.data().get(k))
                .collect();
        format!(
            "{} {:?} {} {:?} {:?} {} {:?} {:?} {:?} {:?}",
            e.id(),
            e.kind(),
            e.time(),
            e.team(),
            e.dashboard_uid(),
            e.user(),
            e.text(),
            e.follow_up_at(),
            e.decision_id(),
            data
        )
    }
    let whole = s.evidence(1, &teams, 100, 1000).expect("evidence");
    let kept = s.kept_evidence(1, &teams, 100, 1000).expect("kept evidence");
    let mut expected: Vec<String> = whole.events.iter().map(|e| seen(e.into())).collect();
    let mut read: Vec<String> = kept.events.iter().map(|e| seen(e.into())).collect();
    expected.sort();
    read.sort();
    assert!(expected.len() >= 9, "{expected:#?}");
    assert_eq!(read, expected);
    assert!(read.iter().any(|e| e.contains("Some(903)")), "{read:#?}");
    assert_eq!(kept.teams, whole.teams);
    assert_eq!(kept.targets, whole.targets);
    assert_eq!(kept.versions, whole.versions);
}

fn imports_insert_update_and_remove_only_imported_events(s) {
    s.create_team(
        1,
        &Team {
            id: "pay".into(),
            name: "Pay".into(),
            dashboards: vec![],
            members: vec![],
            cadence_days: 7,
            created_at: 0,
        },
    )
    .expect("team");
    s.insert_events(1, &[imported("grafana:9", 50, "posted", Source::Api)])
        .expect("api event");
    let w = s
        .write_imported(
            1,
            &[
                imported("grafana:1", 10, "one", Source::Grafana),
                imported("grafana:2", 20, "two", Source::Grafana),
                imported("grafana:9", 30, "clash", Source::Grafana),
            ],
            &[],
        )
        .expect("write");
    assert_eq!(
        (w.inserted, w.updated, w.refused.clone()),
        (2, 0, vec!["grafana:9".to_string()])
    );
    let mut edited = imported("grafana:1", 11, "one, edited", Source::Grafana);
    edited.tags.push("team:pay".into());
    let w = s
        .write_imported(1, &[edited], &["grafana:2".into(), "grafana:9".into()])
        .expect("write");
    assert_eq!(
        (w.inserted, w.updated, w.removed),
        (0, 1, 1),
        "the API event is not removed"
    );
    let left = s.imported_events(1, "grafana:", 0, 100).expect("read");
    assert_eq!(left.len(), 1);
    assert_eq!((left[0].time, left[0].text.as_str()), (11, "one, edited"));
    assert_eq!(s.get_event(1, "grafana:9").expect("kept").text, "posted");
    assert!(s
        .imported_events(2, "grafana:", 0, 100)
        .expect("org 2")
        .is_empty());
}

fn sync_values_are_per_org_and_clear_with_none(s) {
    s.set_sync_value(1, "ds/a/lastRun", Some(&json!(5)))
        .expect("set");
    s.set_sync_value(1, "ds/a/lastRun", Some(&json!(6)))
        .expect("replace");
    s.set_sync_value(1, "target/t1/lastError", Some(&json!({"message": "x"})))
        .expect("set");
    assert_eq!(
        s.sync_value(1, "ds/a/lastRun").expect("get"),
        Some(json!(6))
    );
    assert_eq!(s.sync_value(2, "ds/a/lastRun").expect("other org"), None);
    assert_eq!(s.sync_values(1, "target/").expect("prefix").len(), 1);
    s.set_sync_value(1, "ds/a/lastRun", None).expect("clear");
    assert_eq!(s.sync_value(1, "ds/a/lastRun").expect("get"), None);
}

fn a_lease_goes_to_one_holder_until_it_expires(s) {
    assert!(s.claim_lease(1, "ds/a/lease", "r1", 100, 200).expect("free"));
    assert!(!s.claim_lease(1, "ds/a/lease", "r2", 150, 250).expect("held"));
    assert!(s.claim_lease(1, "ds/a/lease", "r1", 190, 290).expect("renewed by its holder"));
    assert!(!s.claim_lease(1, "ds/a/lease", "r2", 289, 389).expect("still held"));
    assert!(s.claim_lease(2, "ds/a/lease", "r2", 150, 250).expect("another org"));
    assert!(s.claim_lease(1, "ds/b/lease", "r2", 150, 250).expect("another key"));
    assert!(s.claim_lease(1, "ds/a/lease", "r2", 290, 390).expect("expired"));
    assert!(!s.claim_lease(1, "ds/a/lease", "r1", 300, 400).expect("lost"));
}

fn live_actuals_keep_their_source(s) {
    s.create_team(
        1,
        &Team {
            id: "pay".into(),
            name: "Pay".into(),
            dashboards: vec![],
            members: vec![],
            cadence_days: 7,
            created_at: 0,
        },
    )
    .expect("team");
    s.create_target(
        1,
        &Target {
            id: "t".into(),
            team: "pay".into(),
            name: "T".into(),
            unit: None,
            direction: Direction::Decrease,
            baseline: None,
            target: None,
            start_at: 0,
            deadline: None,
            query: None,
            actuals: vec![Actual {
                time: 1,
                value: 1.0,
            }],
            verification: None,
            created_at: 0,
        },
    )
    .expect("target");
    s.add_actuals_from(
        1,
        "t",
        &[Actual {
            time: 2,
            value: 2.0,
        }],
        Source::Grafana,
    )
    .expect("live");
    assert_eq!(
        s.actual_sources(1, "t").expect("sources"),
        [(1, Source::Api), (2, Source::Grafana)]
    );
    assert_eq!(s.get_target(1, "t").expect("t").actuals.len(), 2);
    assert!(s
        .add_actuals_from(
            1,
            "nope",
            &[Actual {
                time: 2,
                value: 2.0
            }],
            Source::Grafana
        )
        .is_err());
}

fn a_team_is_replaced_keeping_its_creation_and_listed_by_id(s) {
    s.create_team(1, &team("b")).expect("b");
    s.create_team(1, &team("a")).expect("a");
    let mut changed = team("b");
    changed.name = "Bee".into();
    changed.created_at = 999;
    let kept = s.replace_team(1, &changed).expect("replace");
    assert_eq!((kept.name.as_str(), kept.created_at), ("Bee", 1));
    let ids: Vec<String> = s.list_teams(1).expect("list").into_iter().map(|t| t.id).collect();
    assert_eq!(ids, ["a", "b"]);
    assert!(matches!(s.replace_team(1, &team("zz")), Err(StoreError::NotFound(_))));
    assert!(matches!(s.delete_team(1, "zz", false), Err(StoreError::NotFound(_))));
}

fn an_event_reads_back_exactly_as_written_and_can_be_edited_and_deleted(s) {
    let mut e = event("e1", EventKind::Decision, 1_700_000_000_123, Some("p"));
    e.time_end = Some(1_700_000_100_000);
    e.dashboard_uid = Some("d-ü".into());
    e.panel_id = Some(-4);
    e.text = "quotes \" and 'apostrophes', emoji 🚀, NUL-free\nnew line".into();
    e.tags = vec!["decision".into(), "b".into(), "a".into()];
    e.data = json!({"z": 1, "a": {"nested": [1.5, null, "x"]}, "big": 12345678901234567_i64})
        .as_object()
        .cloned()
        .expect("object");
    e.created_at = 5;
    e.updated_at = 6;
    s.insert_events(1, std::slice::from_ref(&e)).expect("insert");
    assert_eq!(s.get_event(1, "e1").expect("get"), e);
    let mut edited = e.clone();
    edited.text = "edited".into();
    edited.updated_at = 7;
    s.update_event(1, &edited).expect("update");
    assert_eq!(s.get_event(1, "e1").expect("get").text, "edited");
    assert!(matches!(s.get_event(2, "e1"), Err(StoreError::NotFound(_))));
    assert!(matches!(s.update_event(2, &edited), Err(StoreError::NotFound(_))));
    s.delete_event(1, "e1").expect("delete");
    assert!(matches!(s.get_event(1, "e1"), Err(StoreError::NotFound(_))));
    assert!(matches!(s.delete_event(1, "e1"), Err(StoreError::NotFound(_))));
}

fn a_visit_hands_over_the_listed_events_field_for_field_in_their_order(s) {
    let mut a = event("a", EventKind::Review, 10, Some("p"));
    a.tags = vec!["weekly".into(), "with \"quotes\", a comma".into(), "ünï".into()];
    a.dashboard_uid = Some("d1".into());
    a.time_end = Some(15);
    a.text = "First line\nsecond line".into();
    let mut b = event("b", EventKind::View, 20, None);
    b.dashboard_uid = Some("d1".into());
    let mut c = event("c", EventKind::Decision, 30, Some("q"));
    c.data = json!({"followUpAt": 99}).as_object().cloned().expect("object");
    s.insert_events(1, &[a, b, c]).expect("insert");
    /// Every field a visit hands over, owned.
    #[derive(Debug, PartialEq)]
    struct Seen(String, EventKind, i64, Option<i64>, Option<String>, Option<String>, String, String, Vec<String>);
    struct Collect(Vec<Seen>);
    impl ListedEvents for Collect {
        fn take(&mut self, e: ListedEvent<'_>) -> Result<(), StoreError> {
            let tags: Vec<String> = serde_json::from_str(e.tags_json).expect("tags are JSON");
            self.0.push(Seen(
                e.id.into(), e.kind, e.time, e.time_end, e.team.map(String::from),
                e.dashboard_uid.map(String::from), e.user.into(), e.text.into(), tags,
            ));
            Ok(())
        }
    }
    let filters = [
        EventFilter { limit: 10, ..Default::default() },
        EventFilter { limit: 10, dashboard_uid: Some("d1".into()), ..Default::default() },
        EventFilter { limit: 1, offset: 1, ..Default::default() },
        EventFilter { limit: 10, tags: vec!["weekly".into()], ..Default::default() },
        EventFilter { limit: 10, teams: vec!["q".into()], from: Some(25), ..Default::default() },
    ];
    for f in filters {
        let listed: Vec<Seen> = s
            .list_events(1, &f)
            .expect("list")
            .into_iter()
            .map(|e| Seen(e.id, e.kind, e.time, e.time_end, e.team, e.dashboard_uid, e.user, e.text, e.tags))
            .collect();
        let mut visited = Collect(Vec::new());
        s.visit_events(1, &f, &mut visited).expect("visit");
        assert!(!listed.is_empty(), "{f:?}");
        assert_eq!(visited.0, listed, "{f:?}");
    }
    // A listener's error stops the listing and is its answer.
    struct Refuse(usize);
    impl ListedEvents for Refuse {
        fn take(&mut self, _: ListedEvent<'_>) -> Result<(), StoreError> {
            self.0 += 1;
            Err(StoreError::Database("refused".into()))
        }
    }
    let mut refuse = Refuse(0);
    let err = s
        .visit_events(1, &EventFilter { limit: 10, ..Default::default() }, &mut refuse)
        .expect_err("refused");
    assert_eq!((err.to_string(), refuse.0), ("database error: refused".to_string(), 1));
}

fn a_listing_without_data_is_the_same_events_with_empty_data(s) {
    let mut e = event("e1", EventKind::Decision, 5, Some("p"));
    e.data = json!({"query": {"expr": "up"}, "direction": "increase"})
        .as_object()
        .cloned()
        .expect("object");
    s.insert_events(1, &[e.clone(), event("e2", EventKind::Question, 6, Some("p"))])
        .expect("insert");
    let full = s
        .list_events(1, &EventFilter { limit: 10, ..Default::default() })
        .expect("full");
    let lean = s
        .list_events(1, &EventFilter { limit: 10, without_data: true, ..Default::default() })
        .expect("lean");
    assert_eq!(full.iter().find(|x| x.id == "e1").expect("e1").data, e.data);
    assert!(lean.iter().all(|x| x.data.is_empty()));
    let strip = |mut x: Event| {
        x.data = Map::new();
        x
    };
    assert_eq!(lean, full.into_iter().map(strip).collect::<Vec<_>>());
}

fn an_insert_reports_exactly_how_it_moved_the_versions(s) {
    s.create_team(1, &team("p")).expect("p");
    s.create_team(1, &team("q")).expect("q");
    // Each insert's step, applied to the versions before it, gives the versions after it:
    // it names every scope the write raised, with the values around the write.
    let insert = |events: &[Event]| -> VersionStep {
        let before = s.evidence_versions(1).expect("before");
        let step = s.insert_events(1, events).expect("insert");
        let after = s.evidence_versions(1).expect("after");
        assert_eq!(before.advanced(&step), Some(after), "{step:?}");
        step
    };
    let mut decision = event("d1", EventKind::Decision, 5, Some("p"));
    decision.dashboard_uid = Some("slo-q".into());
    let step = insert(&[decision]);
    let scopes: Vec<&str> = step.scopes.iter().map(|(s, _, _)| s.as_str()).collect();
    assert_eq!(scopes, ["dashboard:slo-q", "team:p"]);
    assert!(step.scopes.iter().all(|(_, before, after)| after > before));
    let mut outcome = event("o1", EventKind::Outcome, 7, Some("q"));
    outcome.data.insert("decisionId".into(), json!("d1"));
    let step = insert(&[outcome]);
    assert!(step.of_scope("team:p").is_some_and(|(b, a)| a > b), "{step:?}");
    // A decision and its outcome in one batch, and a view: one step for all of them.
    let mut view = event("v1", EventKind::View, 8, None);
    view.dashboard_uid = Some("slo-p".into());
    let mut late = event("o2", EventKind::Outcome, 9, None);
    late.data.insert("decisionId".into(), json!("d2"));
    let step = insert(&[view, event("d2", EventKind::Decision, 8, Some("q")), late]);
    assert!(step.of_scope("dashboard:slo-p").is_some_and(|(b, a)| a > b));
    assert!(step.of_scope("team:q").is_some_and(|(b, a)| a > b));
    assert_eq!(step.of_scope("team:p"), None, "{step:?}");
    // A refused batch moves nothing.
    let before = s.evidence_versions(1).expect("before");
    s.insert_events(1, &[event("e9", EventKind::Question, 1, Some("p")), event("d1", EventKind::Note, 1, Some("p"))])
        .expect_err("taken id");
    assert_eq!(s.evidence_versions(1).expect("after"), before);
}

fn evidence_versions_move_for_exactly_the_teams_a_write_can_change(s) {
    s.create_team(1, &team("p")).expect("p");
    s.create_team(1, &team("q")).expect("q");
    s.create_team(2, &team("p")).expect("p in org 2");
    let (p, q) = (team("p"), team("q"));
    let fingerprints = || {
        let v = s.evidence_versions(1).expect("versions");
        (v.fingerprint(&p), v.fingerprint(&q))
    };
    // Which of p and q a step changed.
    let mut last = fingerprints();
    let mut changed = |what: &str| -> (bool, bool) {
        let now = fingerprints();
        let moved = (now.0 != last.0, now.1 != last.1);
        last = now;
        let _ = what;
        moved
    };
    s.insert_events(1, &[event("d1", EventKind::Decision, 5, Some("p"))]).expect("decision");
    assert_eq!(changed("a decision of p"), (true, false));
    let mut view = event("v1", EventKind::View, 6, None);
    view.dashboard_uid = Some("slo-q".into());
    s.insert_events(1, &[view]).expect("view");
    assert_eq!(changed("a view of q's dashboard"), (false, true));
    let mut outcome = event("o1", EventKind::Outcome, 7, Some("elsewhere"));
    outcome.data.insert("decisionId".into(), json!("d1"));
    s.insert_events(1, &[outcome]).expect("outcome");
    assert_eq!(changed("an outcome of p's decision"), (true, false));
    let session = PendingView {
        org: 1,
        user: "alice".into(),
        dashboard_uid: "slo-p".into(),
        panel_id: None,
        time: 8,
        session_bucket: 8,
    };
    let mut n = 0;
    s.insert_views(std::slice::from_ref(&session), &mut || {
        n += 1;
        format!("pv{n}")
    }, 8)
    .expect("passive view");
    assert_eq!(changed("a passive view of p's dashboard"), (true, false));
    s.insert_events(2, &[event("x", EventKind::Question, 9, Some("q"))]).expect("org 2");
    assert_eq!(changed("a write in another org"), (false, false));
    s.create_target(1, &target("t1", "q")).expect("target");
    assert_eq!(changed("a target of q"), (false, true));
    s.add_actuals(1, "t1", &[Actual { time: 1, value: 2.0 }]).expect("actual");
    assert_eq!(changed("an actual of q's target"), (false, true));
    s.set_verification(
        1,
        "t1",
        &Verification {
            verdict: Verdict::Met,
            actual: None,
            learnings: String::new(),
            verified_at: 10,
            verified_by: "alice".into(),
        },
    )
    .expect("verify");
    assert_eq!(changed("a verification of q's target"), (false, true));
    let mut moved = event("d1", EventKind::Decision, 5, Some("q"));
    moved.text = "now q's".into();
    s.update_event(1, &moved).expect("update");
    assert_eq!(changed("a decision moved from p to q"), (true, true));
    s.delete_event(1, "v1").expect("delete");
    assert_eq!(changed("a view of q's dashboard deleted"), (false, true));
    let mut renamed = team("p");
    renamed.name = "Pee".into();
    s.replace_team(1, &renamed).expect("replace");
    assert_eq!(changed("p's definition"), (true, false));
    let w = s
        .write_imported(1, &[imported("grafana:1", 11, "imported", Source::Grafana)], &[])
        .expect("import");
    assert_eq!(w.inserted, 1);
    // imported() puts the event on team "pay": neither p nor q.
    assert_eq!(changed("an import for another team"), (false, false));
    s.delete_target(1, "t1").expect("delete target");
    assert_eq!(changed("q's target deleted"), (false, true));
    let _ = s.list_events(1, &EventFilter { limit: 5, ..Default::default() }).expect("read");
    assert_eq!(changed("a read"), (false, false));
}

fn existing_ids_are_found_by_kind_and_org(s) {
    s.insert_events(
        1,
        &[
            event("d1", EventKind::Decision, 1, Some("p")),
            event("q1", EventKind::Question, 2, Some("p")),
        ],
    )
    .expect("insert");
    let asked: Vec<String> = ["d1", "q1", "nope"].iter().map(|s| s.to_string()).collect();
    assert_eq!(s.existing_decisions(1, &asked).expect("decisions"), ["d1"]);
    let mut ids = s.existing_event_ids(1, &asked).expect("ids");
    ids.sort();
    assert_eq!(ids, ["d1", "q1"]);
    assert!(s.existing_event_ids(2, &asked).expect("org 2").is_empty());
}

fn export_pages_walk_every_event_once_in_time_then_id_order(s) {
    let events: Vec<Event> = (0..25)
        .map(|i| event(&format!("e{:02}", 24 - i), EventKind::Question, i / 3, Some("p")))
        .collect();
    s.insert_events(1, &events).expect("insert");
    s.insert_events(2, &[event("other", EventKind::Question, 0, None)])
        .expect("org 2");
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s.events_after(1, after.clone(), 4).expect("page");
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 4);
        after = page.last().map(|e| (e.time, e.id.clone()));
        seen.extend(page.into_iter().map(|e| (e.time, e.id)));
    }
    let mut expected: Vec<(i64, String)> = events.iter().map(|e| (e.time, e.id.clone())).collect();
    expected.sort();
    assert_eq!(seen, expected);
    let all: Vec<(i64, String)> = s
        .all_events(1)
        .expect("all")
        .into_iter()
        .map(|e| (e.time, e.id))
        .collect();
    assert_eq!(all, expected);
}

fn targets_are_edited_verified_listed_by_team_and_deleted_with_their_actuals(s) {
    s.create_target(1, &target("t1", "p")).expect("t1");
    s.create_target(1, &target("t2", "q")).expect("t2");
    assert!(matches!(s.create_target(1, &target("t1", "p")), Err(StoreError::Conflict(_))));
    let mut edited = target("t1", "p");
    edited.name = "Renamed".into();
    edited.query = Some(json!({"expr": "up", "refId": "A"}));
    s.update_target(1, &edited).expect("update");
    s.add_actuals(1, "t1", &[Actual { time: 5, value: 7.5 }]).expect("actuals");
    let v = Verification {
        verdict: Verdict::Met,
        actual: Some(7.5),
        learnings: "ship smaller".into(),
        verified_at: 100,
        verified_by: "alice".into(),
    };
    s.set_verification(1, "t1", &v).expect("verify");
    let got = s.get_target(1, "t1").expect("get");
    assert_eq!(got.name, "Renamed");
    assert_eq!(got.query, Some(json!({"expr": "up", "refId": "A"})));
    assert_eq!(got.verification, Some(v));
    assert_eq!(got.actuals, [Actual { time: 5, value: 7.5 }]);
    let of_q: Vec<String> = s
        .list_targets(1, &["q".to_string()])
        .expect("of q")
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(of_q, ["t2"]);
    assert_eq!(s.list_targets(1, &[]).expect("all").len(), 2);
    s.delete_target(1, "t1").expect("delete");
    assert!(matches!(s.get_target(1, "t1"), Err(StoreError::NotFound(_))));
    s.create_target(1, &target("t1", "p")).expect("again");
    assert!(s.get_target(1, "t1").expect("fresh").actuals.is_empty(), "actuals went with it");
    assert_eq!(s.counts(1).expect("counts"), Counts { teams: 0, events: 0, targets: 2 });
}
}

/// Four handles on one store, as four plugin processes (or replicas) would hold, writing at
/// once: no write fails, none is lost, and views seen by every handle are stored once.
fn handles_writing_at_once(storage: &Storage) {
    let first = open_store(storage).expect("open");
    first.create_team(1, &team("p")).expect("team");
    first.create_target(1, &target("t1", "p")).expect("target");
    let threads: Vec<_> = (0..4)
        .map(|w: i64| {
            let storage = storage.clone();
            std::thread::spawn(move || {
                let s = open_store(&storage).expect("open");
                let mut n = 0;
                for i in 0..50 {
                    let mut p = team("p");
                    p.members = vec![format!("m{w}-{i}")];
                    s.replace_team(1, &p).expect("replace");
                    s.add_actuals(
                        1,
                        "t1",
                        &[Actual {
                            time: w * 1000 + i,
                            value: 1.0,
                        }],
                    )
                    .expect("actuals");
                    s.insert_events(
                        1,
                        &[event(
                            &format!("w{w}-{i}"),
                            EventKind::Question,
                            i,
                            Some("p"),
                        )],
                    )
                    .expect("event");
                    // Every handle sees the same 10 sessions of one viewer.
                    let view = PendingView {
                        org: 1,
                        user: "viewer".into(),
                        dashboard_uid: "slo-p".into(),
                        panel_id: None,
                        time: i,
                        session_bucket: i % 10,
                    };
                    let mut ids = || {
                        n += 1;
                        format!("view-{w}-{n}")
                    };
                    s.insert_views(&[view], &mut ids, 0).expect("views");
                    assert!(matches!(
                        s.delete_team(1, "absent", false),
                        Err(StoreError::NotFound(_))
                    ));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("writer");
    }
    assert_eq!(first.get_target(1, "t1").expect("t").actuals.len(), 200);
    let views = first
        .list_events(
            1,
            &EventFilter {
                kinds: vec![EventKind::View],
                limit: 1000,
                ..Default::default()
            },
        )
        .expect("views");
    assert_eq!(
        views.len(),
        10,
        "one view per session bucket across handles"
    );
    assert_eq!(first.counts(1).expect("counts").events, 200 + 10);
}

#[test]
fn handles_writing_at_once_sqlite() {
    let (_dir, storage) = sqlite_storage();
    handles_writing_at_once(&storage);
}

#[test]
fn handles_writing_at_once_postgres() {
    if let Some(storage) = postgres_storage("handles_writing_at_once") {
        handles_writing_at_once(&storage);
    }
}

/// Eight handles claiming one free lease at the same instant: exactly one gets it. The
/// handles are opened first, so that no thread can fail before the barrier and leave the
/// others waiting at it.
fn one_of_many_claims_wins(storage: &Storage) {
    let handles: Vec<_> = (0..8).map(|_| open_store(storage).expect("open")).collect();
    for round in 0..5 {
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
        let threads: Vec<_> = handles
            .iter()
            .enumerate()
            .map(|(w, s)| {
                let (s, barrier) = (s.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    s.claim_lease(1, &format!("lease-{round}"), &format!("r{w}"), 0, 100)
                        .expect("claim")
                })
            })
            .collect();
        let won = threads
            .into_iter()
            .map(|t| t.join().expect("claimer"))
            .filter(|w| *w)
            .count();
        assert_eq!(won, 1, "round {round}");
    }
}

#[test]
fn one_of_many_claims_wins_sqlite() {
    let (_dir, storage) = sqlite_storage();
    one_of_many_claims_wins(&storage);
}

#[test]
fn one_of_many_claims_wins_postgres() {
    if let Some(storage) = postgres_storage("one_of_many_claims_wins") {
        one_of_many_claims_wins(&storage);
    }
}

/// Eight handles opening a store that does not exist yet at the same moment, as plugin
/// processes of several Grafana instances (or the plugin and the tool) starting together:
/// every one of them opens it, none takes it for another application's.
fn eight_open_a_new_store_at_once(
    fresh: impl Fn(u32) -> Option<(Option<tempfile::TempDir>, Storage)>,
) {
    for round in 0..10 {
        let Some((_dir, storage)) = fresh(round) else {
            return;
        };
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (storage, barrier) = (storage.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    open_store(&storage).map(|_| ()).map_err(|e| e.to_string())
                })
            })
            .collect();
        for t in threads {
            if let Err(e) = t.join().expect("opener") {
                panic!("round {round}: {e}");
            }
        }
    }
}

#[test]
fn eight_open_a_new_store_at_once_sqlite() {
    eight_open_a_new_store_at_once(|_| {
        let (dir, storage) = sqlite_storage();
        Some((Some(dir), storage))
    });
}

#[test]
fn eight_open_a_new_store_at_once_postgres() {
    eight_open_a_new_store_at_once(|round| {
        postgres_storage(&format!("eight_open_{round}")).map(|s| (None, s))
    });
}

/// Four handles inserting events of one team and passive views of its dashboard at once:
/// each write's step on a scope starts where another's ended, so the steps chain from the
/// first version to the last without a gap or an overlap (a step that took in another
/// writer's raise would make a kept evidence miss that writer's events).
fn concurrent_inserts_report_steps_that_chain(
    open: impl Fn() -> Option<Box<dyn Fn() -> std::sync::Arc<dyn Store>>>,
) {
    let Some(open) = open() else { return };
    let first = open();
    first.create_team(1, &team("p")).expect("p");
    let start = first.evidence_versions(1).expect("versions");
    let threads: Vec<_> = (0..4)
        .map(|w| {
            let store = open();
            std::thread::spawn(move || {
                let (mut team_steps, mut dashboard_steps) = (Vec::new(), Vec::new());
                for i in 0..25 {
                    let id = format!("w{w}-{i}");
                    let mut e = event(&id, EventKind::Question, i, Some("p"));
                    e.dashboard_uid = Some("slo-p".into());
                    let step = store.insert_events(1, &[e]).expect("insert");
                    team_steps.push(step.of_scope("team:p").expect("team:p raised"));
                    dashboard_steps.push(step.of_scope("dashboard:slo-p").expect("raised"));
                    // A passive view of the team's dashboard, in a session of its own.
                    let view = PendingView {
                        org: 1,
                        user: format!("viewer-{w}"),
                        dashboard_uid: "slo-p".into(),
                        panel_id: None,
                        time: i,
                        session_bucket: i,
                    };
                    let written = store
                        .insert_views(&[view], &mut || format!("{id}-view"), 0)
                        .expect("view");
                    dashboard_steps.push(
                        written[0]
                            .step
                            .of_scope("dashboard:slo-p")
                            .expect("view raised"),
                    );
                }
                (team_steps, dashboard_steps)
            })
        })
        .collect();
    let (mut team_steps, mut dashboard_steps) = (Vec::new(), Vec::new());
    for t in threads {
        let (team, dashboard) = t.join().expect("writer");
        team_steps.extend(team);
        dashboard_steps.extend(dashboard);
    }
    let end = first.evidence_versions(1).expect("versions");
    for (scope, mut steps) in [("team:p", team_steps), ("dashboard:slo-p", dashboard_steps)] {
        steps.sort_unstable();
        let mut at = start.of_scope(scope);
        for (before, after) in &steps {
            assert_eq!(*before, at, "{scope}: steps {steps:?}");
            assert!(after > before);
            at = *after;
        }
        assert_eq!(at, end.of_scope(scope), "{scope}");
    }
}

#[test]
fn concurrent_inserts_report_steps_that_chain_sqlite() {
    let (dir, storage) = sqlite_storage();
    concurrent_inserts_report_steps_that_chain(|| {
        let storage = storage.clone();
        Some(Box::new(move || open_store(&storage).expect("open")))
    });
    drop(dir);
}

#[test]
fn concurrent_inserts_report_steps_that_chain_postgres() {
    concurrent_inserts_report_steps_that_chain(|| {
        let storage = postgres_storage("steps_chain")?;
        Some(Box::new(move || open_store(&storage).expect("open")))
    });
}
