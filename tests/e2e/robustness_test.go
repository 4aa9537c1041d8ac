package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// SPEC §3: no input makes the process panic or exit. Odd requests get a 4xx with the error
// shape (or a plain answer), never a 5xx, and the process keeps serving.
func TestOddInputsNeverCrash(t *testing.T) {
	h := newHost(t, nil)
	h.Must(Admin("admin"), "POST", "teams", map[string]any{"id": "payments", "name": "Payments"}, Created...)
	now := time.Now()
	batch := make([]map[string]any, 1001)
	for i := range batch {
		batch[i] = map[string]any{"kind": "note", "team": "payments", "time": ms(now), "text": "n"}
	}
	cases := []struct {
		method, target string
		body           any
		wantError      bool // a 4xx is required (otherwise 2xx or 4xx will do)
	}{
		{"GET", "events?limit=-1", nil, false},
		{"GET", "events?limit=abc", nil, true},
		{"GET", "events?limit=99999999999999999999", nil, false},
		{"GET", "events?from=not-a-time", nil, true},
		{"GET", "events?from=9999999999999999&to=-5", nil, false},
		{"GET", "maturity?at=yesterday", nil, true},
		{"GET", "teams/../../etc/passwd", nil, true},
		{"GET", "teams/%ZZ", nil, true},
		{"GET", "", nil, false},
		{"TRACE", "teams", nil, true},
		{"PUT", "teams", map[string]any{"id": "x"}, true},
		{"POST", "events", "null", true},
		{"POST", "events", `"a string"`, true},
		{"POST", "events", `[]`, false},
		{"POST", "events", `{"kind": "note", "team": "payments", "time": 1e30, "text": "far"}`, true},
		{"POST", "events", `{"kind": "note", "team": "payments", "time": "2026-13-45T99:00:00Z", "text": "bad date"}`, true},
		{"POST", "events", map[string]any{"kind": "note", "team": "payments", "time": ms(now), "text": "nul \x00 and 🦀 and \u202e"}, false},
		{"POST", "events", map[string]any{"kind": "note", "team": "no-such-team", "time": ms(now), "text": "x"}, false},
		{"POST", "events", map[string]any{"kind": "note", "team": "payments", "time": ms(now), "text": "x", "tags": "not-an-array"}, true},
		{"POST", "events", map[string]any{"kind": "note", "team": "payments", "time": ms(now), "text": "x", "id": strings.Repeat("i", 65)}, true},
		{"POST", "events", batch, true},
		{"POST", "teams", map[string]any{"id": "c1", "name": "c", "cadenceDays": -1}, true},
		{"POST", "teams", map[string]any{"id": "c2", "name": "c", "cadenceDays": 1e308}, true},
		{"POST", "teams", map[string]any{"id": strings.Repeat("a", 64), "name": "long"}, true},
		{"POST", "targets", map[string]any{"team": "payments", "name": "t", "direction": "increase", "baseline": "ten"}, true},
		{"POST", "targets", map[string]any{"team": "payments", "name": "t", "direction": "increase", "actuals": []any{map[string]any{"time": "x", "value": 1}}}, true},
		{"POST", "targets/nope/actuals", map[string]any{"time": ms(now), "value": 1}, true},
		{"POST", "targets/nope/verification", map[string]any{"learnings": ""}, true},
		{"PATCH", "events/nope", map[string]any{"text": "x"}, true},
		{"DELETE", "teams/nope", nil, true},
		{"POST", "import", "not ndjson at all\n{}\n[]\n", false},
	}
	for _, c := range cases {
		user := Admin("admin")
		r, err := h.TryCall(user, c.method, c.target, c.body)
		if err != nil {
			t.Errorf("%s %s: %v", c.method, c.target, err)
			continue
		}
		switch {
		case r.Status >= 500:
			t.Errorf("%s: a server error for a client's mistake", r)
		case r.Status >= 400:
			var m map[string]any
			if json.Unmarshal(r.Body, &m) != nil || m["error"] == nil || m["message"] == nil {
				t.Errorf("%s: a 4xx without the {error, message} shape", r)
			}
		case c.wantError:
			t.Errorf("%s: want a 4xx error", r)
		}
		if h.P.Exited() {
			t.Fatalf("%s %s: the plugin process exited%s", c.method, c.target, h.P.logTail(40))
		}
	}

	// Queries with odd time ranges and fields answer (or fail on their refId) without harm.
	year := 365 * 24 * time.Hour
	odd := []Query{
		{RefID: "reversed", QueryType: "reviewActivity", From: now, To: now.Add(-year)},
		{RefID: "century", QueryType: "maturityHistory", From: now.Add(-100 * year), To: now},
		{RefID: "epoch", QueryType: "reviewActivity", From: time.UnixMilli(0), To: now},
		{RefID: "future", QueryType: "reviewLapse", From: now, To: now.Add(10 * year)},
		{RefID: "wrongTypes", QueryType: "events", Model: map[string]any{"team": 42, "kinds": "review", "limit": -3}},
		{RefID: "nested", QueryType: "events", Model: map[string]any{"team": []any{[]any{"payments"}}}},
	}
	for i := range odd {
		if odd[i].From.IsZero() {
			odd[i].From, odd[i].To = now.Add(-time.Hour), now
		}
	}
	h.Timeout = 2 * time.Minute
	res := h.QueryData(Viewer("vera"), nil, odd...)
	for _, q := range odd {
		if r := res[q.RefID]; r != nil {
			t.Logf("refId %s: error=%q frames=%d", q.RefID, r.Error, len(r.Frames))
		}
	}
	if h.P.Exited() {
		t.Fatalf("the plugin process exited on odd queries%s", h.P.logTail(40))
	}
}
