package e2e

import (
	"testing"
	"time"
)

const day = 24 * time.Hour

// fixture is a small org with two teams and evidence placed relative to T, the query
// time range's `to`, so that the expected numbers are exact:
//
//   - payments (dashboards slo-payments, members alice and bob, cadence 7 days): reviews at
//     T−10h (on slo-payments) and T−8d, a member's view of slo-payments at T−30h, questions at
//     T−2d and T−3d, decision d-1 at T−5d due at T−2d with no outcome (overdue 2 days),
//     decision d-2 at T−20d due at T−10d with outcome o-2 at T−9d, a metric change at T−4d;
//     target latency (deadline T−20d, never verified) and target conv (verified, met).
//   - growth (dashboard kpi-growth, no members = anyone counts, cadence 14 days): only a view
//     by zed at T−50h and a question at T−1d.
type fixture struct {
	T    time.Time
	From time.Time
}

func seedFixture(t testing.TB, h *Host) fixture {
	t.Helper()
	T := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	f := fixture{T: T, From: T.Add(-14 * day)}
	at := func(d time.Duration) int64 { return ms(T.Add(-d)) }

	h.Must(Admin("admin"), "POST", "teams", map[string]any{
		"id": "payments", "name": "Payments", "dashboards": []string{"slo-payments"}, "members": []string{"alice", "bob"},
	}, Created...)
	h.Must(Admin("admin"), "POST", "teams", map[string]any{
		"id": "growth", "name": "Growth", "dashboards": []string{"kpi-growth"}, "members": []string{}, "cadenceDays": 14,
	}, Created...)

	post := func(login string, ev map[string]any) {
		t.Helper()
		h.Must(Editor(login), "POST", "events", ev, Created...)
	}
	post("alice", map[string]any{"id": "r-1", "kind": "review", "team": "payments", "time": at(10 * time.Hour), "timeEnd": at(9 * time.Hour),
		"dashboardUid": "slo-payments", "text": "weekly review", "tags": []string{"weekly"},
		"data": map[string]any{"attendees": []string{"alice", "bob"}, "dashboards": []string{"slo-payments"}}})
	post("bob", map[string]any{"id": "r-2", "kind": "review", "team": "payments", "time": at(8 * day), "text": "weekly review"})
	post("alice", map[string]any{"id": "v-1", "kind": "view", "dashboardUid": "slo-payments", "time": at(30 * time.Hour), "text": "looked"})
	post("alice", map[string]any{"id": "q-1", "kind": "question", "team": "payments", "time": at(2 * day), "text": "why?"})
	post("bob", map[string]any{"id": "q-2", "kind": "question", "team": "payments", "time": at(3 * day), "text": "where?"})
	post("bob", map[string]any{"id": "d-1", "kind": "decision", "team": "payments", "time": at(5 * day), "text": "retry budget",
		"data": map[string]any{"owner": "bob", "followUpAt": at(2 * day)}})
	post("bob", map[string]any{"id": "d-2", "kind": "decision", "team": "payments", "time": at(20 * day), "text": "cache",
		"data": map[string]any{"owner": "bob", "followUpAt": at(10 * day)}})
	post("bob", map[string]any{"id": "o-2", "kind": "outcome", "team": "payments", "time": at(9 * day), "text": "cache works",
		"data": map[string]any{"decisionId": "d-2", "result": "confirmed"}})
	post("alice", map[string]any{"id": "m-1", "kind": "metric_change", "team": "payments", "time": at(4 * day), "text": "saturation panel",
		"data": map[string]any{"change": "added"}})
	post("zed", map[string]any{"id": "v-2", "kind": "view", "dashboardUid": "kpi-growth", "time": at(50 * time.Hour), "text": "looked"})
	post("zed", map[string]any{"id": "q-3", "kind": "question", "team": "growth", "time": at(day), "text": "which channel?"})

	h.Must(Editor("erin"), "POST", "targets", map[string]any{
		"id": "latency", "team": "payments", "name": "p99 latency", "direction": "decrease", "baseline": 400, "target": 300,
		"startAt": at(80 * day), "deadline": at(20 * day),
		"actuals": []map[string]any{{"time": at(50 * day), "value": 350}},
	}, Created...)
	h.Must(Editor("erin"), "POST", "targets", map[string]any{
		"id": "conv", "team": "payments", "name": "conversion", "direction": "increase", "baseline": 2, "target": 3,
		"startAt": at(60 * day), "deadline": at(6 * day),
		"actuals":      []map[string]any{{"time": at(30 * day), "value": 2.5}, {"time": at(7 * day), "value": 3.1}},
		"verification": map[string]any{"verdict": "met", "learnings": "copy matters", "verifiedAt": at(5 * day)},
	}, Created...)
	return f
}

// query builds a query over the fixture's range.
func (f fixture) query(refID, queryType string, model map[string]any) Query {
	return Query{RefID: refID, QueryType: queryType, From: f.From, To: f.T, Model: model}
}
