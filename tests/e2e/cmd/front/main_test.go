package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// The QueryDataRequest built from Grafana's HTTP body: defaults, time ranges in every form
// Grafana accepts, forwarded headers, the datasource checks.
func TestBuildQueryRequest(t *testing.T) {
	now := time.Date(2026, 3, 18, 15, 30, 45, 0, time.UTC)
	pc := backend.PluginContext{OrgID: 1}
	build := func(t *testing.T, body string, h http.Header) (*backend.QueryDataRequest, error) {
		t.Helper()
		if h == nil {
			h = http.Header{}
		}
		return buildQueryRequest([]byte(body), h, pc, "maturity", now)
	}

	t.Run("fields and Grafana's defaults", func(t *testing.T) {
		req, err := build(t, `{"queries":[
			{"refId":"A","datasource":{"uid":"maturity","type":"datadriven-maturity-datasource"},"queryType":"teams","maxDataPoints":500,"intervalMs":60000},
			{"datasource":{"uid":"maturity"},"queryType":"maturity","team":"payments"}],
			"from":"now-7d","to":"now"}`, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(req.Queries) != 2 {
			t.Fatalf("%d queries", len(req.Queries))
		}
		a, b := req.Queries[0], req.Queries[1]
		if a.RefID != "A" || a.QueryType != "teams" || a.MaxDataPoints != 500 || a.Interval != time.Minute {
			t.Errorf("query A: %+v", a)
		}
		if b.RefID != "A" || b.QueryType != "maturity" || b.MaxDataPoints != 100 || b.Interval != time.Second {
			t.Errorf("query B (no refId, maxDataPoints, intervalMs): %+v", b)
		}
		var model map[string]any
		if err := json.Unmarshal(b.JSON, &model); err != nil || model["team"] != "payments" || model["queryType"] != "maturity" {
			t.Errorf("query JSON %s (%v)", b.JSON, err)
		}
		if !a.TimeRange.From.Equal(now.Add(-7*24*time.Hour)) || !a.TimeRange.To.Equal(now) {
			t.Errorf("time range %v → %v", a.TimeRange.From, a.TimeRange.To)
		}
		if req.PluginContext.OrgID != 1 {
			t.Errorf("plugin context not passed")
		}
	})

	t.Run("relative and absolute time ranges", func(t *testing.T) {
		day := 24 * time.Hour
		startOfDay := time.Date(2026, 3, 18, 0, 0, 0, 0, time.UTC)
		cases := []struct {
			from, to         string
			wantFrom, wantTo time.Time
		}{
			{"now-6h", "now", now.Add(-6 * time.Hour), now},
			{"now-2d", "now-1d", now.Add(-2 * day), now.Add(-day)},
			{"now-1w", "now", now.Add(-7 * day), now},
			{"now-1M", "now", now.AddDate(0, -1, 0), now},
			{"now-1y", "now", now.AddDate(-1, 0, 0), now},
			{"now-90m", "now", now.Add(-90 * time.Minute), now},
			{"now/d", "now/d", startOfDay, startOfDay.Add(day - time.Millisecond)},
			{"now-1d/d", "now-1d/d", startOfDay.Add(-day), startOfDay.Add(-time.Millisecond)},
			{"1773000000000", "1773800000000", time.UnixMilli(1773000000000), time.UnixMilli(1773800000000)},
			{"", "", now.Add(-6 * time.Hour), now},
		}
		for _, c := range cases {
			body, _ := json.Marshal(map[string]any{"from": c.from, "to": c.to, "queries": []any{map[string]any{"refId": "A", "queryType": "teams"}}})
			req, err := build(t, string(body), nil)
			if err != nil {
				t.Errorf("%q → %q: %v", c.from, c.to, err)
				continue
			}
			tr := req.Queries[0].TimeRange
			if !tr.From.Equal(c.wantFrom) || !tr.To.Equal(c.wantTo) {
				t.Errorf("%q → %q: got %v → %v, want %v → %v", c.from, c.to, tr.From, tr.To, c.wantFrom, c.wantTo)
			}
			if tr.From.Location() != time.UTC || tr.To.Location() != time.UTC {
				t.Errorf("%q: the range is not in UTC", c.from)
			}
		}
	})

	t.Run("forwarded headers as Grafana spells them", func(t *testing.T) {
		h := http.Header{}
		h.Set("X-Dashboard-Uid", "slo-payments")
		h.Set("X-Panel-Id", "4")
		h.Set("X-Datasource-Uid", "maturity")
		h.Set("X-Grafana-Org-Id", "1")
		h.Set("X-Harness-User", "carol")
		h.Set("Cookie", "grafana_session=secret")
		req, err := build(t, `{"queries":[{"refId":"A","queryType":"teams"}],"from":"now-1h","to":"now"}`, h)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"http_X-Dashboard-Uid":  "slo-payments",
			"http_X-Panel-Id":       "4",
			"http_X-Datasource-Uid": "maturity",
			"http_X-Grafana-Org-Id": "1",
		}
		if len(req.Headers) != len(want) {
			t.Errorf("headers %v, want %v", req.Headers, want)
		}
		for k, v := range want {
			if req.Headers[k] != v {
				t.Errorf("header %s = %q, want %q (all: %v)", k, req.Headers[k], v, req.Headers)
			}
		}
	})

	t.Run("refused requests", func(t *testing.T) {
		cases := []struct {
			body   string
			status int
		}{
			{`not json`, 400},
			{`{"queries":[],"from":"now-1h","to":"now"}`, 400},
			{`{"queries":[{"refId":"A"}],"from":"yesterday-ish","to":"now"}`, 400},
			{`{"queries":[{"refId":"A"}],"from":"now-1h","to":"now+banana"}`, 400},
			{`{"queries":[42],"from":"now-1h","to":"now"}`, 400},
			{`{"queries":[{"refId":"A","datasource":{"uid":"other"}}]}`, 404},
			{`{"queries":[{"refId":"A","datasource":"other"}]}`, 404},
			{`{"queries":[{"refId":"A","datasource":{"type":"__expr__","uid":"__expr__"}}]}`, 400},
		}
		for _, c := range cases {
			_, err := build(t, c.body, nil)
			var he *httpError
			if !errors.As(err, &he) || he.status != c.status {
				t.Errorf("%s: got %v, want status %d", c.body, err, c.status)
			}
		}
	})
}

// The acting user: headers over cookies over the defaults; an empty login is no user.
func TestUserSelection(t *testing.T) {
	f := &front{defaultUser: "admin", defaultRole: "Admin"}
	cases := []struct {
		name        string
		set         func(r *http.Request)
		login, role string
		none, bad   bool
	}{
		{"defaults", func(*http.Request) {}, "admin", "Admin", false, false},
		{"headers", func(r *http.Request) { r.Header.Set(userHeader, "vera"); r.Header.Set(roleHeader, "viewer") }, "vera", "Viewer", false, false},
		{"role only", func(r *http.Request) { r.Header.Set(roleHeader, "Editor") }, "admin", "Editor", false, false},
		{"role None", func(r *http.Request) { r.Header.Set(userHeader, "nobody"); r.Header.Set(roleHeader, "None") }, "nobody", "None", false, false},
		{"empty user header", func(r *http.Request) { r.Header[userHeader] = []string{""} }, "", "", true, false},
		{"cookies", func(r *http.Request) {
			r.AddCookie(&http.Cookie{Name: userCookie, Value: "erin"})
			r.AddCookie(&http.Cookie{Name: roleCookie, Value: "Editor"})
		}, "erin", "Editor", false, false},
		{"header beats cookie", func(r *http.Request) {
			r.AddCookie(&http.Cookie{Name: userCookie, Value: "erin"})
			r.Header.Set(userHeader, "vera")
		}, "vera", "Admin", false, false},
		{"unknown role", func(r *http.Request) { r.Header.Set(roleHeader, "Superuser") }, "", "", false, true},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/api/health", nil)
		c.set(r)
		u, err := f.user(r)
		switch {
		case c.bad:
			if err == nil {
				t.Errorf("%s: want an error, got %+v", c.name, u)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.none:
			if u != nil {
				t.Errorf("%s: want no user, got %+v", c.name, u)
			}
		case u == nil || u.Login != c.login || u.Role != c.role:
			t.Errorf("%s: got %+v, want %s (%s)", c.name, u, c.login, c.role)
		}
	}
}
