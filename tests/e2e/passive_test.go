package e2e

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// waitForEvents polls GET /events?<query> until at least want events are there or the
// timeout passes (SPEC §4.4: pending views are written within 500 ms), and returns the list.
func waitForEvents(h *Host, query string, want int, timeout time.Duration) []map[string]any {
	h.T.Helper()
	deadline := time.Now().Add(timeout)
	for {
		list := eventsList(h, query)
		if len(list) >= want || time.Now().After(deadline) {
			return list
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Panels of a team's dashboard query the datasource with Grafana's forwarded headers; the
// plugin records each (org, user, dashboard) at most once per session as a `view`.
func TestPassiveViews(t *testing.T) {
	h := newHost(t, nil)
	h.Must(Admin("admin"), "POST", "teams", map[string]any{
		"id": "payments", "name": "Payments", "dashboards": []string{"slo-payments"}, "members": []string{"carol", "dave"},
	}, Created...)
	now := time.Now()
	panel := func(dashboard string, extra ...string) map[string]string {
		hd := map[string]string{"http_X-Dashboard-Uid": dashboard, "http_X-Panel-Id": "2"}
		for i := 0; i+1 < len(extra); i += 2 {
			hd[extra[i]] = extra[i+1]
		}
		return hd
	}
	ask := func(t *testing.T, user *backend.User, headers map[string]string) {
		t.Helper()
		r := h.With(t).QueryData(user, headers, Query{RefID: "A", QueryType: "teams", From: now.Add(-6 * time.Hour), To: now})["A"]
		if r == nil || r.Error != "" {
			t.Fatalf("the panel's query itself must answer: %+v", r)
		}
	}
	const wait = 1500 * time.Millisecond
	markers := 0
	// flushed sends a request that must record a view and waits for it, so that requests
	// sent before it have had their chance to be written too.
	flushed := func(t *testing.T) {
		t.Helper()
		markers++
		dash := fmt.Sprintf("marker-%d", markers)
		ask(t, Viewer("marker"), panel(dash))
		if got := waitForEvents(h.With(t), "kind=view&dashboardUid="+dash, 1, wait); len(got) != 1 {
			t.Fatalf("the marker view on %s was not recorded within %s (got %d)", dash, wait, len(got))
		}
	}
	session := func(t time.Time) int64 { return t.UnixMilli() / (30 * 60 * 1000) }

	var firstAt time.Time
	t.Run("a user's dashboard query records a view", func(t *testing.T) {
		firstAt = time.Now()
		ask(t, Viewer("carol"), panel("slo-payments"))
		views := waitForEvents(h.With(t), "kind=view&dashboardUid=slo-payments", 1, wait)
		if len(views) != 1 {
			t.Fatalf("after one dashboard query: %d views on slo-payments within %s, want 1", len(views), wait)
		}
		v := views[0]
		expectFields(t, "passive view", v, "kind", "view", "user", "carol", "dashboardUid", "slo-payments", "source", "passive")
		expectRecentMS(t, "passive view", v, "time")
	})

	t.Run("the same user in the same session records one view", func(t *testing.T) {
		ask(t, Viewer("carol"), panel("slo-payments"))
		ask(t, Viewer("carol"), panel("slo-payments"))
		flushed(t)
		if session(firstAt) != session(time.Now()) {
			t.Skip("the requests straddled a session boundary; the deduplication cannot be checked this run")
		}
		views := eventsList(h.With(t), "kind=view&dashboardUid=slo-payments")
		if len(views) != 1 {
			t.Errorf("three queries by carol in one session: %d views, want 1", len(views))
		}
	})

	t.Run("another user is another view", func(t *testing.T) {
		ask(t, Viewer("dave"), panel("slo-payments"))
		views := waitForEvents(h.With(t), "kind=view&dashboardUid=slo-payments", 2, wait)
		if len(views) != 2 {
			t.Errorf("carol and dave: %d views, want 2", len(views))
		}
	})

	t.Run("a query from alerting records none", func(t *testing.T) {
		ask(t, Viewer("erin"), panel("dash-alert", "FromAlert", "true"))
		ask(t, nil, panel("dash-alert", "FromAlert", "true"))
		flushed(t)
		if got := eventsList(h.With(t), "kind=view&dashboardUid=dash-alert"); len(got) != 0 {
			t.Errorf("FromAlert: true recorded %d views: %v", len(got), got)
		}
	})

	t.Run("a user with an empty login records none", func(t *testing.T) {
		ask(t, Viewer(""), panel("dash-anon"))
		flushed(t)
		if got := eventsList(h.With(t), "kind=view&dashboardUid=dash-anon"); len(got) != 0 {
			t.Errorf("an empty login recorded %d views: %v", len(got), got)
		}
	})

	t.Run("a request without a user records none", func(t *testing.T) {
		ask(t, nil, panel("dash-nouser"))
		flushed(t)
		if got := eventsList(h.With(t), "kind=view&dashboardUid=dash-nouser"); len(got) != 0 {
			t.Errorf("a request without a user recorded %d views: %v", len(got), got)
		}
	})

	t.Run("a query without a dashboard records none", func(t *testing.T) {
		before := len(eventsList(h.With(t), "kind=view&limit=5000"))
		ask(t, Viewer("carol"), nil)
		flushed(t)
		if after := len(eventsList(h.With(t), "kind=view&limit=5000")); after != before+1 {
			t.Errorf("a query without X-Dashboard-Uid: view count went %d → %d, want only the marker", before, after)
		}
	})
}

// Grafana stops a plugin with go-plugin's Kill (the controller's Shutdown first); views
// still pending then are written before the process ends (SPEC §4.4).
func TestStopFlushesPendingViews(t *testing.T) {
	p, err := StartPlugin(BinaryPath(), StartOptions{
		Env:     pluginEnv(),
		LogPath: filepath.Join(workDir, "plugin-stop-test.log"),
	})
	if err != nil {
		t.Fatalf("start a second process: %v", err)
	}
	ds := newDatasource(t, nil)
	h := &Host{T: t, P: p, DS: ds}
	now := time.Now()
	r := h.QueryData(Viewer("carol"), map[string]string{"http_X-Dashboard-Uid": "slo-payments", "http_X-Panel-Id": "1"},
		Query{RefID: "A", QueryType: "teams", From: now.Add(-time.Hour), To: now})["A"]
	if r == nil || r.Error != "" {
		t.Fatalf("query: %+v", r)
	}
	stopped := time.Now()
	p.Kill()
	if !p.Exited() {
		t.Fatalf("the process did not exit on Kill")
	}
	t.Logf("stopped in %s", time.Since(stopped))

	h.P = sharedPlugin(t)
	if got := eventsList(h, "kind=view&dashboardUid=slo-payments"); len(got) != 1 {
		t.Errorf("after a graceful stop right behind the query: %d views stored, want 1%s", len(got), p.logTail(20))
	}
}
