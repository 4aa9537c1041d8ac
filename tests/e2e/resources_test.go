package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// normalize turns v into what encoding/json makes of its JSON (numbers as float64).
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// expectFields checks obj[key] == want for each pair (JSON equality).
func expectFields(t testing.TB, what string, obj map[string]any, pairs ...any) {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		key := pairs[i].(string)
		want := normalize(pairs[i+1])
		if got := obj[key]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %s = %#v, want %#v (object: %v)", what, key, got, want, obj)
		}
	}
}

// expectEpochMS checks obj[key] is a number of epoch milliseconds equal to want.
func expectEpochMS(t testing.TB, what string, obj map[string]any, key string, want time.Time) {
	t.Helper()
	got, ok := num(obj[key])
	if !ok {
		t.Errorf("%s: %s = %#v, want epoch milliseconds %d", what, key, obj[key], ms(want))
		return
	}
	if int64(got) != ms(want) {
		t.Errorf("%s: %s = %d, want %d (%s)", what, key, int64(got), ms(want), rfc(want))
	}
}

// expectRecentMS checks obj[key] is epoch ms within a minute of now.
func expectRecentMS(t testing.TB, what string, obj map[string]any, key string) {
	t.Helper()
	got, ok := num(obj[key])
	if !ok {
		t.Errorf("%s: %s = %#v, want epoch milliseconds", what, key, obj[key])
		return
	}
	if d := time.Since(time.UnixMilli(int64(got))); d < -time.Minute || d > time.Minute {
		t.Errorf("%s: %s = %d is not about now", what, key, int64(got))
	}
}

func ids(list []map[string]any) []string {
	out := make([]string, 0, len(list))
	for _, m := range list {
		s, _ := m["id"].(string)
		out = append(out, s)
	}
	return out
}

func hasAll(got []string, want ...string) bool {
	set := map[string]bool{}
	for _, g := range got {
		set[g] = true
	}
	for _, w := range want {
		if !set[w] {
			return false
		}
	}
	return true
}

// eventsList reads GET /events?<query> (Viewer).
func eventsList(h *Host, query string) []map[string]any {
	h.T.Helper()
	r := h.Must(Viewer("viewer"), "GET", "events?"+query, nil, 200)
	return r.List(h.T, "events")
}

// A representative path through the resource API, as the frontend and Grafana's
// annotation editor use it.
func TestResourceAPI(t *testing.T) {
	h := newHost(t, nil)
	now := time.Now().UTC().Truncate(time.Millisecond)

	t.Run("teams", func(t *testing.T) {
		h := h.With(t)
		r := h.Must(Editor("erin"), "POST", "teams", map[string]any{
			"id": "payments", "name": "Payments", "dashboards": []string{"slo-payments"}, "members": []string{"alice", "bob"},
		}, Created...)
		team := r.Object(t)
		expectFields(t, "POST /teams", team, "id", "payments", "name", "Payments",
			"dashboards", []string{"slo-payments"}, "members", []string{"alice", "bob"}, "cadenceDays", 7)
		expectRecentMS(t, "POST /teams", team, "createdAt")

		r = h.Must(Admin("admin"), "POST", "/teams", map[string]any{
			"id": "growth", "name": "Growth", "dashboards": []string{"kpi-growth"}, "members": []string{}, "cadenceDays": 14,
		}, Created...)
		expectFields(t, "POST /teams growth", r.Object(t), "id", "growth", "cadenceDays", 14, "members", []string{})

		requireErrorBody(t, h.Call(Editor("erin"), "POST", "teams", map[string]any{"id": "payments", "name": "Again"}), 409, "conflict", "")
		requireErrorBody(t, h.Call(Editor("erin"), "POST", "teams", map[string]any{"id": "Bad Id!", "name": "Bad"}), 400, "invalid_argument", "id")
		requireErrorBody(t, h.Call(Viewer("vera"), "POST", "teams", map[string]any{"id": "viewers", "name": "Viewers"}), 403, "forbidden", "")
		requireErrorBody(t, h.Call(nil, "POST", "teams", map[string]any{"id": "nobody", "name": "No user"}), 403, "forbidden", "")

		list := h.Must(Viewer("vera"), "GET", "teams", nil, 200).List(t, "teams")
		if got := ids(list); len(got) != 2 || !hasAll(got, "payments", "growth") {
			t.Errorf("GET /teams ids = %v, want payments and growth", got)
		}
		one := h.Must(Viewer("vera"), "GET", "teams/payments", nil, 200).Object(t)
		expectFields(t, "GET /teams/payments", one, "id", "payments", "dashboards", []string{"slo-payments"})
		requireErrorBody(t, h.Call(Viewer("vera"), "GET", "teams/nope", nil), 404, "not_found", "")
	})

	t.Run("events", func(t *testing.T) {
		h := h.With(t)
		reviewAt := now.Add(-48 * time.Hour)
		r := h.Must(Viewer("alice"), "POST", "events", map[string]any{
			"kind": "review", "team": "payments", "time": rfc(reviewAt), "text": "weekly review",
			"tags": []string{"weekly"}, "dashboardUid": "slo-payments", "user": "mallory",
			"data": map[string]any{"attendees": []string{"alice", "bob"}},
		}, Created...)
		ev := r.Object(t)
		if id, _ := ev["id"].(string); id == "" {
			t.Errorf("POST /events: no id in %v", ev)
		}
		expectFields(t, "POST /events", ev, "kind", "review", "team", "payments", "user", "alice",
			"source", "api", "tags", []string{"weekly"}, "dashboardUid", "slo-payments", "text", "weekly review")
		expectEpochMS(t, "POST /events (RFC 3339 in, epoch ms out)", ev, "time", reviewAt)
		expectRecentMS(t, "POST /events", ev, "createdAt")
		expectRecentMS(t, "POST /events", ev, "updatedAt")
		if d, _ := ev["data"].(map[string]any); d == nil || !reflect.DeepEqual(d["attendees"], normalize([]string{"alice", "bob"})) {
			t.Errorf("POST /events: data = %v, want attendees kept", ev["data"])
		}

		qAt := now.Add(-30 * time.Hour)
		r = h.Must(Viewer("alice"), "POST", "events", map[string]any{
			"id": "q-1", "kind": "question", "team": "payments", "time": ms(qAt), "text": "why did p99 jump?",
		}, Created...)
		q := r.Object(t)
		expectFields(t, "POST /events with id", q, "id", "q-1", "kind", "question", "tags", []string{}, "data", map[string]any{})
		expectEpochMS(t, "POST /events (epoch ms in)", q, "time", qAt)
		requireErrorBody(t, h.Call(Viewer("alice"), "POST", "events", map[string]any{
			"id": "q-1", "kind": "question", "team": "payments", "time": ms(qAt), "text": "again",
		}), 409, "conflict", "")

		// A batch: all or none; an outcome may name a decision earlier in the same batch.
		followUp := now.Add(-2*24*time.Hour + 123*time.Millisecond)
		batch := []map[string]any{
			{"id": "d-1", "kind": "decision", "team": "payments", "time": rfc(now.Add(-5 * 24 * time.Hour)), "text": "add a retry budget",
				"data": map[string]any{"owner": "bob", "expectedEffect": "fewer 5xx", "followUpAt": followUp.Format("2006-01-02T15:04:05.000Z07:00")}},
			{"id": "o-1", "kind": "outcome", "team": "payments", "time": rfc(now.Add(-24 * time.Hour)), "text": "5xx down",
				"data": map[string]any{"decisionId": "d-1", "result": "confirmed"}},
			{"id": "m-1", "kind": "metric_change", "team": "payments", "time": rfc(now.Add(-3 * 24 * time.Hour)), "text": "added saturation panel",
				"data": map[string]any{"change": "added", "reason": "no saturation signal"}},
			{"id": "n-1", "kind": "note", "team": "growth", "time": rfc(now.Add(-4 * time.Hour)), "text": "holiday week", "tags": []string{"calendar"}},
		}
		r = h.Must(Editor("bob"), "POST", "events", batch, Created...)
		var anyBody any
		r.Decode(t, &anyBody)
		d1 := h.Must(Viewer("vera"), "GET", "events/d-1", nil, 200).Object(t)
		expectFields(t, "GET /events/d-1", d1, "kind", "decision", "user", "bob")
		if data, _ := d1["data"].(map[string]any); data == nil {
			t.Errorf("GET /events/d-1: no data: %v", d1)
		} else if got, ok := num(data["followUpAt"]); !ok || int64(got) != ms(followUp) {
			t.Errorf("GET /events/d-1: data.followUpAt = %v, want %d (stored like time, millisecond kept)", data["followUpAt"], ms(followUp))
		}

		requireErrorBody(t, h.Call(Editor("bob"), "POST", "events", []map[string]any{
			{"id": "n-2", "kind": "note", "team": "payments", "time": ms(now), "text": "fine"},
			{"id": "n-3", "kind": "bogus", "team": "payments", "time": ms(now), "text": "not a kind"},
		}), 400, "invalid_argument", "")
		requireErrorBody(t, h.Call(Viewer("vera"), "GET", "events/n-2", nil), 404, "not_found", "")

		requireErrorBody(t, h.Call(Editor("bob"), "POST", "events", map[string]any{
			"kind": "bogus", "team": "payments", "time": ms(now), "text": "x",
		}), 400, "invalid_argument", "kind")
		r = h.Call(Editor("bob"), "POST", "events", map[string]any{
			"kind": "outcome", "team": "payments", "time": ms(now), "text": "x",
			"data": map[string]any{"decisionId": "no-such-decision", "result": "confirmed"},
		})
		requireErrorBody(t, r, 400, "invalid_argument", "")
		if f, _ := r.Object(t)["field"].(string); !strings.Contains(f, "decisionId") {
			t.Errorf("%s: want field naming decisionId", r)
		}
		requireErrorBody(t, h.Call(Viewer("vera"), "POST", "events", map[string]any{
			"kind": "metric_change", "team": "payments", "time": ms(now), "text": "viewers may not",
		}), 403, "forbidden", "")
		requireErrorBody(t, h.Call(nil, "POST", "events", map[string]any{
			"kind": "question", "team": "payments", "time": ms(now), "text": "no user",
		}), 403, "forbidden", "")
		requireErrorBody(t, h.Call(Editor("bob"), "POST", "events", `{"kind": "note", `), 400, "invalid_argument", "")

		all := eventsList(h, "limit=5000")
		if got := ids(all); len(got) != 6 || !hasAll(got, "q-1", "d-1", "o-1", "m-1", "n-1") {
			t.Errorf("GET /events ids = %v, want the 6 recorded", got)
		}
		for i := 1; i < len(all); i++ {
			a, _ := num(all[i-1]["time"])
			b, _ := num(all[i]["time"])
			if a < b {
				t.Errorf("GET /events is not newest first: %v before %v", all[i-1]["id"], all[i]["id"])
			}
		}
		if got := ids(eventsList(h, "kind=decision&team=payments")); !reflect.DeepEqual(got, []string{"d-1"}) {
			t.Errorf("GET /events?kind=decision&team=payments = %v, want [d-1]", got)
		}
		if got := ids(eventsList(h, "team=growth")); !reflect.DeepEqual(got, []string{"n-1"}) {
			t.Errorf("GET /events?team=growth = %v, want [n-1]", got)
		}
		if got := eventsList(h, "dashboardUid=slo-payments"); len(got) != 1 || got[0]["kind"] != "review" {
			t.Errorf("GET /events?dashboardUid=slo-payments = %v, want the review", ids(got))
		}
		if got := ids(eventsList(h, "tags=calendar")); !reflect.DeepEqual(got, []string{"n-1"}) {
			t.Errorf("GET /events?tags=calendar = %v, want [n-1]", got)
		}
		from, to := now.Add(-50*time.Hour), now.Add(-20*time.Hour)
		got := ids(eventsList(h, fmt.Sprintf("from=%d&to=%d", ms(from), ms(to))))
		if len(got) != 3 || !hasAll(got, "q-1", "o-1") {
			t.Errorf("GET /events?from=-50h&to=-20h = %v, want the review, q-1 and o-1", got)
		}
		got = ids(eventsList(h, "from="+url.QueryEscape(rfc(from))+"&to="+url.QueryEscape(rfc(to))))
		if len(got) != 3 {
			t.Errorf("GET /events with RFC 3339 from/to = %v, want 3 events", got)
		}
		page1 := ids(eventsList(h, "limit=2"))
		page2 := ids(eventsList(h, "limit=2&offset=2"))
		if len(page1) != 2 || len(page2) != 2 || hasAll(page1, page2...) {
			t.Errorf("paging: limit=2 → %v, limit=2&offset=2 → %v", page1, page2)
		}
		if len(all) == 6 && (!reflect.DeepEqual(page1, ids(all)[:2]) || !reflect.DeepEqual(page2, ids(all)[2:4])) {
			t.Errorf("paging %v %v does not follow the full list %v", page1, page2, ids(all))
		}
	})

	t.Run("annotations", func(t *testing.T) {
		h := h.With(t)
		start, end := now.Add(-20*time.Hour), now.Add(-19*time.Hour)
		r := h.Must(Viewer("carol"), "POST", "annotations", map[string]any{
			"time": ms(start), "timeEnd": ms(end), "text": "Quarterly review", "tags": []string{"review", "q3"},
			"dashboardUID": "slo-payments", "panelId": 4,
		}, Created...)
		id := fmt.Sprint(r.Object(t)["id"])
		if id == "" || id == "<nil>" {
			t.Fatalf("%s: want the new annotation's id", r)
		}
		ev := h.Must(Viewer("carol"), "GET", "events/"+url.PathEscape(id), nil, 200).Object(t)
		expectFields(t, "annotation as event", ev, "kind", "review", "source", "annotation_api", "user", "carol",
			"dashboardUid", "slo-payments", "panelId", 4, "text", "Quarterly review")
		expectEpochMS(t, "annotation as event", ev, "time", start)
		expectEpochMS(t, "annotation as event", ev, "timeEnd", end)

		kinds := map[string]string{"metric-change": "metric_change", "decision": "decision", "deploy": "note"}
		for tag, kind := range kinds {
			r := h.Must(Editor("erin"), "POST", "annotations", map[string]any{
				"time": ms(now.Add(-time.Hour)), "text": "tagged " + tag, "tags": []string{"ops", tag}, "dashboardUID": "kpi-growth",
			}, Created...)
			id := fmt.Sprint(r.Object(t)["id"])
			ev := h.Must(Viewer("vera"), "GET", "events/"+url.PathEscape(id), nil, 200).Object(t)
			expectFields(t, "annotation tagged "+tag, ev, "kind", kind)
		}

		list := h.Must(Viewer("vera"), "GET", "annotations?dashboardUID=slo-payments", nil, 200).List(t, "annotations")
		var found map[string]any
		for _, a := range list {
			if a["text"] == "Quarterly review" {
				found = a
			}
		}
		if found == nil {
			t.Fatalf("GET /annotations?dashboardUID=slo-payments: the annotation is missing: %v", list)
		}
		expectFields(t, "GET /annotations", found, "dashboardUID", "slo-payments", "panelId", 4)
		expectEpochMS(t, "GET /annotations", found, "time", start)
		expectEpochMS(t, "GET /annotations", found, "timeEnd", end)
		if tags, _ := found["tags"].([]any); len(tags) == 0 || tags[0] != "review" {
			t.Errorf("GET /annotations: tags = %v, want [review q3]", found["tags"])
		}
		for _, a := range list {
			if a["dashboardUID"] != "slo-payments" {
				t.Errorf("GET /annotations?dashboardUID=slo-payments returned %v", a)
			}
		}
	})

	t.Run("targets", func(t *testing.T) {
		h := h.With(t)
		day := 24 * time.Hour
		verifiedAt := now.Add(-15 * day)
		r := h.Must(Editor("erin"), "POST", "targets", map[string]any{
			"id": "latency-q1", "team": "payments", "name": "p99 latency", "unit": "ms", "direction": "decrease",
			"baseline": 400, "target": 300, "startAt": rfc(now.Add(-90 * day)), "deadline": rfc(now.Add(-20 * day)),
			"actuals":      []map[string]any{{"time": rfc(now.Add(-60 * day)), "value": 350}, {"time": ms(now.Add(-25 * day)), "value": 290}},
			"verification": map[string]any{"learnings": "the cache did it", "verifiedAt": rfc(verifiedAt)},
		}, Created...)
		expectFields(t, "POST /targets", r.Object(t), "id", "latency-q1", "team", "payments")

		tg := h.Must(Viewer("vera"), "GET", "targets/latency-q1", nil, 200).Object(t)
		expectFields(t, "GET /targets/latency-q1", tg, "name", "p99 latency", "direction", "decrease",
			"baseline", 400, "target", 300, "status", "met", "unit", "ms")
		if a, _ := tg["actuals"].([]any); len(a) != 2 {
			t.Errorf("GET /targets/latency-q1: actuals = %v, want 2", tg["actuals"])
		}
		if v, _ := tg["verification"].(map[string]any); v == nil {
			t.Errorf("GET /targets/latency-q1: no verification: %v", tg)
		} else {
			expectFields(t, "verification", v, "verdict", "met", "verifiedBy", "erin", "learnings", "the cache did it")
			expectEpochMS(t, "verification", v, "verifiedAt", verifiedAt)
		}

		r = h.Must(Editor("erin"), "POST", "targets", map[string]any{
			"id": "signup", "team": "payments", "name": "signup drop-off", "direction": "decrease",
			"baseline": 10, "target": 8, "startAt": rfc(now.Add(-80 * day)), "deadline": rfc(now.Add(-10 * day)),
			"actuals":      []map[string]any{{"time": rfc(now.Add(-12 * day)), "value": 9.5}},
			"verification": map[string]any{"learnings": "", "verifiedAt": rfc(now.Add(-5 * day))},
		}, Created...)
		tg = h.Must(Viewer("vera"), "GET", "targets/signup", nil, 200).Object(t)
		expectFields(t, "missed target", tg, "status", "missed")
		if v, _ := tg["verification"].(map[string]any); v != nil {
			expectFields(t, "missed verification", v, "verdict", "missed", "learnings", "")
		}

		h.Must(Editor("erin"), "POST", "targets", map[string]any{
			"id": "checkout", "team": "payments", "name": "Checkout revamp", "direction": "increase",
		}, Created...)
		tg = h.Must(Viewer("vera"), "GET", "targets/checkout", nil, 200).Object(t)
		expectFields(t, "undefined target", tg, "status", "undefined")
		expectRecentMS(t, "undefined target (startAt defaults to creation)", tg, "startAt")

		h.Must(Editor("erin"), "POST", "targets", map[string]any{
			"id": "conversion", "team": "growth", "name": "conversion", "direction": "increase",
			"baseline": 0, "target": 100, "startAt": rfc(now.Add(-10 * day)), "deadline": rfc(now.Add(10 * day)),
			"actuals": []map[string]any{{"time": rfc(now.Add(-9 * day)), "value": 5}, {"time": rfc(now.Add(-1 * day)), "value": 60}},
		}, Created...)
		tg = h.Must(Viewer("vera"), "GET", "targets/conversion", nil, 200).Object(t)
		expectFields(t, "on-track target", tg, "status", "on_track")
		if p, ok := num(tg["projectedHitAt"]); !ok || int64(p) < ms(now.Add(-day)) {
			t.Errorf("on-track target: projectedHitAt = %v, want a time after the last actual", tg["projectedHitAt"])
		}

		if got := ids(h.Must(Viewer("vera"), "GET", "targets?team=payments", nil, 200).List(t, "targets")); len(got) != 3 {
			t.Errorf("GET /targets?team=payments = %v, want 3", got)
		}
		if got := ids(h.Must(Viewer("vera"), "GET", "targets?status=met", nil, 200).List(t, "targets")); !reflect.DeepEqual(got, []string{"latency-q1"}) {
			t.Errorf("GET /targets?status=met = %v, want [latency-q1]", got)
		}
		requireErrorBody(t, h.Call(Viewer("vera"), "POST", "targets", map[string]any{
			"team": "payments", "name": "viewer's", "direction": "increase",
		}), 403, "forbidden", "")
		requireErrorBody(t, h.Call(Editor("erin"), "POST", "targets", map[string]any{
			"team": "payments", "name": "sideways", "direction": "sideways",
		}), 400, "invalid_argument", "direction")
		requireErrorBody(t, h.Call(Viewer("vera"), "GET", "targets/nope", nil), 404, "not_found", "")
	})

	t.Run("export", func(t *testing.T) {
		h := h.With(t)
		requireErrorBody(t, h.Call(Editor("erin"), "GET", "export", nil), 403, "forbidden", "")
		r := h.Must(Admin("admin"), "GET", "export", nil, 200)
		counts := map[string]int{}
		sc := bufio.NewScanner(bytes.NewReader(r.Body))
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			var rec struct {
				Type  string         `json:"type"`
				Value map[string]any `json:"value"`
			}
			if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Value == nil {
				t.Errorf("GET /export line %d is not {type, value}: %q (%v)", n, line, err)
				continue
			}
			counts[rec.Type]++
			if rec.Type == "target" && rec.Value["id"] == "latency-q1" {
				if a, _ := rec.Value["actuals"].([]any); len(a) != 2 || rec.Value["verification"] == nil {
					t.Errorf("GET /export: target without its actuals and verification: %v", rec.Value)
				}
			}
		}
		want := map[string]int{"team": 2, "target": 4, "event": 10}
		if !reflect.DeepEqual(counts, want) {
			t.Errorf("GET /export line counts %v, want %v", counts, want)
		}
	})

	t.Run("import into a fresh store, then again", func(t *testing.T) {
		h := h.With(t)
		export := h.Must(Admin("admin"), "GET", "export", nil, 200).Body
		fresh := &Host{T: t, P: h.P, DS: newDatasource(t, nil)}
		requireErrorBody(t, fresh.Call(Editor("erin"), "POST", "import", export), 403, "forbidden", "")

		ans := fresh.Must(Admin("admin"), "POST", "import", export, 200).Object(t)
		expectFields(t, "first import", ans, "created", 16, "skipped", 0)
		if got := fresh.Must(Viewer("vera"), "GET", "teams", nil, 200).List(t, "teams"); len(got) != 2 {
			t.Errorf("after import: %d teams, want 2", len(got))
		}
		if got := eventsList(fresh, "limit=5000"); len(got) != 10 {
			t.Errorf("after import: %d events, want 10", len(got))
		}
		if got := fresh.Must(Viewer("vera"), "GET", "targets", nil, 200).List(t, "targets"); len(got) != 4 {
			t.Errorf("after import: %d targets, want 4", len(got))
		}
		tg := fresh.Must(Viewer("vera"), "GET", "targets/latency-q1", nil, 200).Object(t)
		if a, _ := tg["actuals"].([]any); len(a) != 2 || tg["verification"] == nil {
			t.Errorf("after import: latency-q1 lost its actuals or verification: %v", tg)
		}
		ev := fresh.Must(Viewer("vera"), "GET", "events/d-1", nil, 200).Object(t)
		expectFields(t, "imported d-1", ev, "user", "bob", "kind", "decision")

		again := fresh.Must(Admin("admin"), "POST", "import", export, 200).Object(t)
		expectFields(t, "second import (idempotent by id)", again, "created", 0, "skipped", 16)
		if got := eventsList(fresh, "limit=5000"); len(got) != 10 {
			t.Errorf("after a second import: %d events, want still 10", len(got))
		}

		bad := fresh.Must(Admin("admin"), "POST", "import", "{\"type\":\"team\",\"value\":{\"id\":\"Bad Id!\",\"name\":\"x\"}}\nnot json\n", 200).Object(t)
		expectFields(t, "import of bad lines", bad, "created", 0)
		if n, ok := num(bad["rejected"]); ok && n != 2 {
			t.Errorf("import of 2 bad lines: rejected = %v, want 2", bad["rejected"])
		} else if arr, isArr := bad["rejected"].([]any); !ok && (!isArr || len(arr) != 2) {
			t.Errorf("import of 2 bad lines: rejected = %v, want 2 (with reasons)", bad["rejected"])
		}
	})

	t.Run("errors", func(t *testing.T) {
		h := h.With(t)
		requireErrorBody(t, h.Call(Viewer("vera"), "GET", "no-such-endpoint", nil), 404, "not_found", "")
		big := strings.Repeat("x", 1<<20+10)
		requireErrorBody(t, h.Call(Editor("erin"), "POST", "events", map[string]any{
			"kind": "note", "team": "payments", "time": ms(now), "text": big,
		}), 413, "too_large", "")
		requireErrorBody(t, h.Call(User("nobody", "None"), "GET", "teams", nil), 403, "forbidden", "")
	})

	t.Run("another org sees nothing of this one", func(t *testing.T) {
		other := *h.DS
		other.OrgID = 2
		other.UID = NewUID("org2")
		h2 := &Host{T: t, P: h.P, DS: &other}
		if got := h2.Must(Admin("admin"), "GET", "teams", nil, 200).List(t, "teams"); len(got) != 0 {
			t.Errorf("org 2 sees teams of org 1: %v", ids(got))
		}
		if got := h2.Must(Admin("admin"), "GET", "events?limit=5000", nil, 200).List(t, "events"); len(got) != 0 {
			t.Errorf("org 2 sees events of org 1: %v", ids(got))
		}
		requireErrorBody(t, h2.Call(Viewer("vera"), "GET", "events/q-1", nil), 404, "not_found", "")
		h2.Must(Admin("admin"), "POST", "teams", map[string]any{"id": "payments", "name": "Org 2 payments"}, Created...)
		if got := h.With(t).Must(Viewer("vera"), "GET", "teams/payments", nil, 200).Object(t); got["name"] != "Payments" {
			t.Errorf("org 2's team replaced org 1's: %v", got)
		}
	})
}

// The plugin caches its instance per (org, uid) and must rebuild it when the settings'
// Updated time changes (here: the store moves).
func TestSettingsChangeRebuildsInstance(t *testing.T) {
	h := newHost(t, nil)
	h.Must(Admin("admin"), "POST", "teams", map[string]any{"id": "payments", "name": "Payments"}, Created...)
	first := h.DS.DBPath()

	h.DS.JSONData["databasePath"] = storePath(t, h.DS.UID+"-moved")
	h.DS.Touch()
	if got := h.Must(Viewer("vera"), "GET", "teams", nil, 200).List(t, "teams"); len(got) != 0 {
		t.Errorf("after moving the store (Updated changed), GET /teams = %v, want the new empty store", ids(got))
	}
	if res := h.CheckHealth(Admin("admin")); !strings.Contains(res.Message, h.DS.DBPath()) {
		t.Errorf("CheckHealth after the change names %q, want %s", res.Message, h.DS.DBPath())
	}

	h.DS.JSONData["databasePath"] = first
	h.DS.Touch()
	if got := ids(h.Must(Viewer("vera"), "GET", "teams", nil, 200).List(t, "teams")); !reflect.DeepEqual(got, []string{"payments"}) {
		t.Errorf("back on the first store, GET /teams = %v, want [payments]", got)
	}
}

// With jsonData.viewersCanAnnotate false, recording evidence needs an Editor.
func TestViewersCannotAnnotateWhenSwitchedOff(t *testing.T) {
	h := newHost(t, map[string]any{"viewersCanAnnotate": false})
	h.Must(Admin("admin"), "POST", "teams", map[string]any{"id": "payments", "name": "Payments"}, Created...)
	now := time.Now()
	review := map[string]any{"kind": "review", "team": "payments", "time": ms(now), "text": "weekly"}
	requireErrorBody(t, h.Call(Viewer("vera"), "POST", "events", review), 403, "forbidden", "")
	requireErrorBody(t, h.Call(Viewer("vera"), "POST", "annotations", map[string]any{
		"time": ms(now), "text": "review", "tags": []string{"review"}, "dashboardUID": "slo-payments",
	}), 403, "forbidden", "")
	h.Must(Editor("erin"), "POST", "events", review, Created...)

	// Switching it back on (settings saved again) lets viewers record again.
	h.DS.JSONData["viewersCanAnnotate"] = true
	h.DS.Touch()
	h.Must(Viewer("vera"), "POST", "events", review, Created...)
}

// Grafana sends a dashboard's requests in parallel; the first ones to reach a new
// datasource must all be answered from one instance (SPEC: built once).
func TestParallelFirstRequests(t *testing.T) {
	h := newHost(t, nil)
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan string, 2*n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			team := fmt.Sprintf("team-%02d", i)
			r, err := h.TryCall(Admin("admin"), "POST", "teams", map[string]any{"id": team, "name": team})
			switch {
			case err != nil:
				errs <- err.Error()
			case r.Status != 200 && r.Status != 201:
				errs <- r.String()
			}
			if r, err := h.TryCall(Viewer("vera"), "GET", "teams", nil); err != nil {
				errs <- err.Error()
			} else if r.Status != 200 {
				errs <- r.String()
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got := h.Must(Viewer("vera"), "GET", "teams", nil, 200).List(t, "teams"); len(got) != n {
		t.Errorf("after %d parallel creates: %d teams", n, len(got))
	}
}
