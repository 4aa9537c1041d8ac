package e2e

// Tests of cmd/front, the HTTP front of the browser harness: the command is built, started
// on a free port against a store of its own, and spoken to over real HTTP the way the
// frontend speaks to Grafana.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

var frontBuild struct {
	once sync.Once
	path string
	err  error
}

// frontBinary builds ./cmd/front once per run into the work folder.
func frontBinary(t testing.TB) string {
	t.Helper()
	frontBuild.once.Do(func() {
		out := filepath.Join(workDir, "bin", "front")
		cmd := exec.Command("go", "build", "-o", out, "./cmd/front")
		if b, err := cmd.CombinedOutput(); err != nil {
			frontBuild.err = fmt.Errorf("go build ./cmd/front: %v\n%s", err, b)
			return
		}
		frontBuild.path = out
	})
	if frontBuild.err != nil {
		t.Fatal(frontBuild.err)
	}
	return frontBuild.path
}

// frontProc is one running front (and its plugin process).
type frontProc struct {
	URL     string
	UID     string
	DB      string
	LogPath string

	cmd    *exec.Cmd
	done   chan struct{}
	err    error // cmd.Wait's, once done is closed
	client *http.Client
}

var frontStarts struct {
	mu sync.Mutex
	n  int
}

// startFront starts the front against db (a fresh store when ""), with extra flags.
func startFront(t *testing.T, db string, flags ...string) *frontProc {
	t.Helper()
	if db == "" {
		db = storePath(t, NewUID("front"))
	}
	frontStarts.mu.Lock()
	frontStarts.n++
	n := frontStarts.n
	frontStarts.mu.Unlock()
	f := &frontProc{
		UID:     "maturity",
		DB:      db,
		LogPath: filepath.Join(workDir, fmt.Sprintf("front-%d.log", n)),
		done:    make(chan struct{}),
		client:  &http.Client{Timeout: 60 * time.Second},
	}
	for i := 0; i+1 < len(flags); i++ {
		if flags[i] == "-uid" {
			f.UID = flags[i+1]
		}
	}
	logFile, err := os.Create(f.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-plugin", BinaryPath(), "-addr", "127.0.0.1:0", "-db", db}, flags...)
	f.cmd = exec.Command(frontBinary(t), args...)
	f.cmd.Stderr = logFile
	stdout, err := f.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.cmd.Start(); err != nil {
		t.Fatalf("start the front: %v", err)
	}
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- line
		_, _ = io.Copy(logFile, r) // anything else on stdout goes to the log
	}()
	go func() {
		f.err = f.cmd.Wait()
		_ = logFile.Close()
		close(f.done)
	}()
	t.Cleanup(func() {
		select {
		case <-f.done:
		default:
			f.stop(t)
		}
		if t.Failed() {
			t.Logf("front log (%s):\n%s", f.LogPath, tail(f.LogPath, 30))
		}
	})
	select {
	case line := <-lines:
		const prefix = "front: listening on "
		if !strings.HasPrefix(line, prefix) {
			<-f.done
			t.Fatalf("the front's first line is %q, want %q…\n%s", line, prefix, tail(f.LogPath, 30))
		}
		f.URL = strings.TrimSpace(strings.TrimPrefix(line, prefix))
	case <-time.After(60 * time.Second):
		_ = f.cmd.Process.Kill()
		t.Fatalf("the front did not print its address within 60 s\n%s", tail(f.LogPath, 30))
	}
	return f
}

// stop sends SIGTERM and waits for the front to exit; it returns the exit code.
func (f *frontProc) stop(t testing.TB) int {
	t.Helper()
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.done:
	case <-time.After(30 * time.Second):
		_ = f.cmd.Process.Kill()
		<-f.done
		t.Errorf("the front did not stop within 30 s of SIGTERM")
	}
	var ee *exec.ExitError
	if errors.As(f.err, &ee) {
		return ee.ExitCode()
	}
	if f.err != nil {
		t.Errorf("front: %v", f.err)
		return -1
	}
	return 0
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// httpAnswer is one HTTP answer of the front.
type httpAnswer struct {
	Method, Path string
	Status       int
	Header       http.Header
	Body         []byte
}

func (a *httpAnswer) String() string {
	b := string(a.Body)
	if len(b) > 1500 {
		b = b[:1500] + "…"
	}
	return fmt.Sprintf("%s %s → %d %s", a.Method, a.Path, a.Status, b)
}

func (a *httpAnswer) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(a.Body, v); err != nil {
		t.Fatalf("%s: not the JSON expected: %v", a, err)
	}
}

// as is the headers of a user acting through the front.
func as(login, role string) map[string]string {
	return map[string]string{"X-Harness-User": login, "X-Harness-Role": role}
}

// noUser is the headers of a request without a user.
var noUser = map[string]string{"X-Harness-User": ""}

// do sends one HTTP request; body is nil, a string (sent as is) or a value sent as JSON.
func (f *frontProc) do(t testing.TB, method, path string, body any, headers map[string]string) *httpAnswer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, f.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json, text/plain, */*")
	req.Header.Set("X-Grafana-Org-Id", "1")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header[http.CanonicalHeaderKey(k)] = []string{v}
	}
	res, err := f.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return &httpAnswer{Method: method, Path: path, Status: res.StatusCode, Header: res.Header, Body: b}
}

// res calls the plugin's resource API through /api/datasources/uid/<uid>/resources/.
func (f *frontProc) res(t testing.TB, method, target string, body any, headers map[string]string) *httpAnswer {
	t.Helper()
	return f.do(t, method, "/api/datasources/uid/"+f.UID+"/resources/"+target, body, headers)
}

func (f *frontProc) mustRes(t testing.TB, method, target string, body any, headers map[string]string, want ...int) *httpAnswer {
	t.Helper()
	a := f.res(t, method, target, body, headers)
	if !slices.Contains(want, a.Status) {
		t.Fatalf("%s: want status %v", a, want)
	}
	return a
}

// frontQuery is one query as the frontend puts it in POST /api/ds/query.
func (f *frontProc) frontQuery(refID, queryType string, extra map[string]any) map[string]any {
	q := map[string]any{
		"refId":         refID,
		"datasource":    map[string]any{"uid": f.UID, "type": PluginID},
		"queryType":     queryType,
		"maxDataPoints": 1000,
		"intervalMs":    60000,
	}
	for k, v := range extra {
		q[k] = v
	}
	return q
}

// query posts Grafana's request shape and decodes the answer with the SDK.
func (f *frontProc) query(t testing.TB, headers map[string]string, from, to string, queries ...map[string]any) (*httpAnswer, *backend.QueryDataResponse) {
	t.Helper()
	a := f.do(t, "POST", "/api/ds/query", map[string]any{"queries": queries, "from": from, "to": to}, headers)
	if a.Status != 200 && a.Status != 207 && a.Status != 400 {
		t.Fatalf("%s: want 200, 207 or 400", a)
	}
	var qdr backend.QueryDataResponse
	if err := json.Unmarshal(a.Body, &qdr); err != nil {
		t.Fatalf("%s: the SDK cannot decode the answer: %v", a, err)
	}
	if qdr.Responses == nil {
		t.Fatalf("%s: no results", a)
	}
	return a, &qdr
}

// stringsOf reads a string field of a frame.
func stringsOf(t testing.TB, frames data.Frames, name string) []string {
	t.Helper()
	if len(frames) == 0 {
		t.Fatalf("no frames")
	}
	fl := field(frames[0], name)
	if fl == nil {
		t.Fatalf("no field %q in %s", name, describe(frames))
	}
	out := make([]string, fl.Len())
	for i := range out {
		out[i] = stringAt(fl, i)
	}
	return out
}

// The resource API through /api/datasources/uid/<uid>/resources/…, and Grafana's small
// endpoints around it.
func TestFrontResources(t *testing.T) {
	f := startFront(t, "")

	created := f.mustRes(t, "POST", "teams", map[string]any{
		"id": "payments", "name": "Payments", "dashboards": []string{"slo-payments"}, "members": []string{"carol"},
	}, nil, Created...)
	var team map[string]any
	created.decode(t, &team)
	if team["id"] != "payments" {
		t.Errorf("%s: want the created team back", created)
	}
	list := f.mustRes(t, "GET", "teams", nil, nil, 200)
	if ct := list.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want the plugin's application/json", list, ct)
	}
	var teams []map[string]any
	list.decode(t, &teams)
	if len(teams) != 1 || teams[0]["id"] != "payments" || teams[0]["name"] != "Payments" {
		t.Errorf("%s: want the team just created", list)
	}
	f.mustRes(t, "GET", "teams/payments", nil, nil, 200)

	// The query string reaches the plugin (URL), the path without it (Path).
	now := time.Now()
	f.mustRes(t, "POST", "events", []map[string]any{
		{"kind": "note", "team": "payments", "time": ms(now.Add(-time.Hour)), "text": "one"},
		{"kind": "note", "team": "payments", "time": ms(now.Add(-2 * time.Hour)), "text": "two"},
	}, nil, Created...)
	var page []map[string]any
	f.mustRes(t, "GET", "events?team=payments&limit=1", nil, nil, 200).decode(t, &page)
	if len(page) != 1 || page[0]["text"] != "one" {
		t.Errorf("GET events?team=payments&limit=1: %v, want the newest note only", page)
	}

	// The plugin's own errors come back as they are.
	requireFrontError(t, f.res(t, "GET", "teams/nope", nil, nil), 404, "not_found")
	requireFrontError(t, f.res(t, "POST", "teams", map[string]any{"id": "Not A Slug", "name": "x"}, nil), 400, "invalid_argument")

	f.mustRes(t, "DELETE", "teams/payments?cascade=true", nil, nil, 200, 204)
	f.mustRes(t, "GET", "teams/payments", nil, nil, 404)

	// Grafana's answers around the plugin.
	if a := f.do(t, "GET", "/api/datasources/uid/other/resources/teams", nil, nil); a.Status != 404 {
		t.Errorf("%s: want 404 for an unknown datasource", a)
	}
	if a := f.res(t, "TRACE", "teams", nil, nil); a.Status != 405 || a.Header.Get("Allow") == "" {
		t.Errorf("%s: want 405 with Allow, as Grafana", a)
	}
	if a := f.do(t, "GET", "/api/health", nil, nil); a.Status != 200 || !strings.Contains(string(a.Body), `"database":"ok"`) {
		t.Errorf("%s: want ok", a)
	}
	var info map[string]any
	f.do(t, "GET", "/api/datasources/uid/maturity", nil, nil).decode(t, &info)
	jd, _ := info["jsonData"].(map[string]any)
	if info["uid"] != "maturity" || info["type"] != PluginID || info["orgId"] != float64(1) || jd == nil || jd["databasePath"] != f.DB {
		t.Errorf("GET /api/datasources/uid/maturity: %v, want Grafana's datasource JSON with jsonData.databasePath %s", info, f.DB)
	}
	var health map[string]any
	ha := f.do(t, "GET", "/api/datasources/uid/maturity/health", nil, nil)
	ha.decode(t, &health)
	if ha.Status != 200 || health["status"] != "OK" || !strings.Contains(fmt.Sprint(health["message"]), f.DB) {
		t.Errorf("%s: want status OK naming the store", ha)
	}
	if a := f.do(t, "GET", "/api/nothing-here", nil, nil); a.Status != 404 {
		t.Errorf("%s: want 404", a)
	}
}

func requireFrontError(t testing.TB, a *httpAnswer, status int, code string) {
	t.Helper()
	var m map[string]any
	if a.Status != status || json.Unmarshal(a.Body, &m) != nil || m["error"] != code || m["message"] == nil {
		t.Errorf("%s: want %d with {error: %q, message}", a, status, code)
	}
}

// POST /api/ds/query in Grafana's shape, answered with the SDK's JSON of the
// QueryDataResponse and decoded back into frames with the SDK.
func TestFrontQueryData(t *testing.T) {
	f := startFront(t, "")
	for _, id := range []string{"payments", "growth"} {
		f.mustRes(t, "POST", "teams", map[string]any{"id": id, "name": strings.ToUpper(id[:1]) + id[1:]}, nil, Created...)
	}
	a, qdr := f.query(t, nil, "now-7d", "now",
		f.frontQuery("A", "teams", nil),
		f.frontQuery("B", "maturity", nil))
	if a.Status != 200 {
		t.Fatalf("%s: want 200 when every query answers", a)
	}
	if ct := a.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	t.Logf("the teams answer: %s", a.Body)

	A, B := qdr.Responses["A"], qdr.Responses["B"]
	if A.Error != nil || B.Error != nil {
		t.Fatalf("errors: A %v, B %v", A.Error, B.Error)
	}
	got := stringsOf(t, A.Frames, "team")
	sort.Strings(got)
	if !slices.Equal(got, []string{"growth", "payments"}) {
		t.Errorf("teams: %v", got)
	}
	if n, _ := B.Frames[0].RowLen(); n != 2 || field(B.Frames[0], "level") == nil || field(B.Frames[0], "team") == nil {
		t.Errorf("maturity: %s", describe(B.Frames))
	} else if lv := field(B.Frames[0], "level"); !lv.Type().Numeric() {
		t.Errorf("maturity: level is %s, want a number", lv.Type())
	}

	// The raw shape the browser reads.
	var raw struct {
		Results map[string]struct {
			Status int `json:"status"`
			Frames []struct {
				Schema struct {
					Fields []map[string]any `json:"fields"`
				} `json:"schema"`
				Data struct {
					Values []json.RawMessage `json:"values"`
				} `json:"data"`
			} `json:"frames"`
		} `json:"results"`
	}
	a.decode(t, &raw)
	if r := raw.Results["A"]; r.Status != 200 || len(r.Frames) != 1 || len(r.Frames[0].Schema.Fields) != 1 || len(r.Frames[0].Data.Values) != 1 {
		t.Errorf("results.A is not {status: 200, frames: [{schema: {fields: [team]}, data: {values: [[…]]}}]}: %s", a.Body)
	}
}

// A bad query fails on its own refId; the others answer. Grafana answers 400 then (207
// with its datasourceQueryMultiStatus toggle, -multi-status here); the body is the same.
func TestFrontBadQueryOwnRefID(t *testing.T) {
	for _, c := range []struct {
		name   string
		flags  []string
		status int
	}{
		{"Grafana's default", nil, 400},
		{"-multi-status", []string{"-multi-status"}, 207},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := startFront(t, "", c.flags...)
			f.mustRes(t, "POST", "teams", map[string]any{"id": "payments", "name": "Payments"}, nil, Created...)
			a, qdr := f.query(t, nil, "now-1d", "now",
				f.frontQuery("A", "teams", nil),
				f.frontQuery("B", "noSuchQueryType", nil),
				f.frontQuery("C", "maturity", nil))
			if a.Status != c.status {
				t.Errorf("%s: want %d", a, c.status)
			}
			if len(qdr.Responses) != 3 {
				t.Errorf("%s: want three results", a)
			}
			if qdr.Responses["B"].Error == nil || qdr.Responses["B"].Status < 400 {
				t.Errorf("B: want its own error with a 4xx status, got %+v", qdr.Responses["B"])
			}
			for _, ref := range []string{"A", "C"} {
				if r := qdr.Responses[ref]; r.Error != nil || len(r.Frames) == 0 {
					t.Errorf("%s: want an answer despite B: %+v", ref, r)
				}
			}
		})
	}
}

// A panel's query (X-Dashboard-Uid, X-Panel-Id) by a user records a passive view (SPEC §4.4),
// visible through GET /events within a second; without a user it records none.
func TestFrontPassiveView(t *testing.T) {
	f := startFront(t, "")
	f.mustRes(t, "POST", "teams", map[string]any{"id": "payments", "name": "Payments", "dashboards": []string{"slo-payments"}}, nil, Created...)
	panel := func(dashboard string, user map[string]string) map[string]string {
		h := map[string]string{"X-Dashboard-Uid": dashboard, "X-Panel-Id": "2", "X-Datasource-Uid": f.UID}
		for k, v := range user {
			h[k] = v
		}
		return h
	}
	views := func(dashboard string) []map[string]any {
		var list []map[string]any
		f.mustRes(t, "GET", "events?kind=view&dashboardUid="+dashboard, nil, nil, 200).decode(t, &list)
		return list
	}
	waitViews := func(dashboard string, want int, within time.Duration) []map[string]any {
		deadline := time.Now().Add(within)
		for {
			list := views(dashboard)
			if len(list) >= want || time.Now().After(deadline) {
				return list
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	a, qdr := f.query(t, panel("slo-payments", as("carol", "Viewer")), "now-6h", "now", f.frontQuery("A", "teams", nil))
	if a.Status != 200 || qdr.Responses["A"].Error != nil {
		t.Fatalf("%s: the panel's query itself must answer", a)
	}
	list := waitViews("slo-payments", 1, time.Second)
	if len(list) != 1 {
		t.Fatalf("%d views of slo-payments within 1 s of carol's panel query, want 1", len(list))
	}
	expectFields(t, "passive view", list[0], "kind", "view", "user", "carol", "dashboardUid", "slo-payments", "source", "passive")

	// Without a user: nothing. A marker view written after it shows it had its chance.
	f.query(t, panel("dash-nouser", noUser), "now-6h", "now", f.frontQuery("A", "teams", nil))
	f.query(t, panel("dash-marker", as("vera", "Viewer")), "now-6h", "now", f.frontQuery("A", "teams", nil))
	if got := waitViews("dash-marker", 1, 1500*time.Millisecond); len(got) != 1 {
		t.Fatalf("the marker view was not recorded (%d)", len(got))
	}
	if got := views("dash-nouser"); len(got) != 0 {
		t.Errorf("a query without a user recorded %d views: %v", len(got), got)
	}
}

// The acting user comes from X-Harness-User / X-Harness-Role (or the harness cookies) and
// reaches the plugin as the PluginContext user; -settings reaches it as jsonData.
func TestFrontRoles(t *testing.T) {
	f := startFront(t, "")
	f.mustRes(t, "POST", "teams", map[string]any{"id": "payments", "name": "Payments"}, as("erin", "Editor"), Created...)

	requireFrontError(t, f.res(t, "POST", "teams", map[string]any{"id": "viewers", "name": "V"}, as("vera", "Viewer")), 403, "forbidden")
	f.mustRes(t, "GET", "teams", nil, as("vera", "Viewer"), 200)
	requireFrontError(t, f.res(t, "DELETE", "teams/payments", nil, as("erin", "Editor")), 403, "forbidden")
	requireFrontError(t, f.res(t, "GET", "teams", nil, as("nobody", "None")), 403, "forbidden")
	f.mustRes(t, "GET", "teams", nil, noUser, 200)
	requireFrontError(t, f.res(t, "POST", "teams", map[string]any{"id": "anon", "name": "A"}, noUser), 403, "forbidden")
	requireFrontError(t, f.res(t, "POST", "teams", map[string]any{"id": "cookie", "name": "C"},
		map[string]string{"Cookie": "harness_user=vera; harness_role=Viewer"}), 403, "forbidden")
	if a := f.res(t, "GET", "teams", nil, as("vera", "Superuser")); a.Status != 400 {
		t.Errorf("%s: an unknown role is the front's 400", a)
	}

	// A Viewer records a review by default; not with viewersCanAnnotate false (-settings).
	review := map[string]any{"kind": "review", "team": "payments", "time": ms(time.Now()), "text": "weekly"}
	f.mustRes(t, "POST", "events", review, as("vera", "Viewer"), Created...)
	settings := filepath.Join(t.TempDir(), "settings.json")
	if err := os.WriteFile(settings, []byte(`{"viewersCanAnnotate": false}`), 0o644); err != nil {
		t.Fatal(err)
	}
	g := startFront(t, "", "-settings", settings, "-uid", "maturity-strict")
	g.mustRes(t, "POST", "teams", map[string]any{"id": "payments", "name": "Payments"}, nil, Created...)
	requireFrontError(t, g.res(t, "POST", "events", review, as("vera", "Viewer")), 403, "forbidden")
	var info map[string]any
	g.do(t, "GET", "/api/datasources/uid/maturity-strict", nil, nil).decode(t, &info)
	if jd, _ := info["jsonData"].(map[string]any); jd == nil || jd["viewersCanAnnotate"] != false || jd["databasePath"] != g.DB {
		t.Errorf("jsonData %v: want the -settings keys and -db", info["jsonData"])
	}
}

// Grafana's time range forms (now-Nd/w/M/y, rounding, epoch-ms strings) reach the plugin
// as the query's TimeRange: an events query returns only the events inside it.
func TestFrontTimeRanges(t *testing.T) {
	f := startFront(t, "")
	f.mustRes(t, "POST", "teams", map[string]any{"id": "payments", "name": "Payments"}, nil, Created...)
	now := time.Now()
	f.mustRes(t, "POST", "events", []map[string]any{
		{"id": "ev-3d", "kind": "note", "team": "payments", "time": ms(now.Add(-3 * day)), "text": "three days ago"},
		{"id": "ev-10d", "kind": "note", "team": "payments", "time": ms(now.Add(-10 * day)), "text": "ten days ago"},
		{"id": "ev-400d", "kind": "note", "team": "payments", "time": ms(now.Add(-400 * day)), "text": "over a year ago"},
	}, nil, Created...)
	epoch := func(d time.Duration) string { return strconv.FormatInt(ms(now.Add(-d)), 10) }
	cases := []struct {
		from, to string
		want     []string
	}{
		{"now-7d", "now", []string{"ev-3d"}},
		{"now-2w", "now", []string{"ev-10d", "ev-3d"}},
		{"now-2w", "now-5d", []string{"ev-10d"}},
		{"now-1M", "now", []string{"ev-10d", "ev-3d"}},
		{"now-2y", "now", []string{"ev-10d", "ev-3d", "ev-400d"}},
		{"now-1y", "now-6d", []string{"ev-10d"}},
		{"now-4d/d", "now/d", []string{"ev-3d"}},
		{"now-240h", "now", []string{"ev-3d"}},
		{epoch(4 * day), epoch(0), []string{"ev-3d"}},
		{epoch(11 * day), "now-9d", []string{"ev-10d"}},
	}
	for _, c := range cases {
		a, qdr := f.query(t, nil, c.from, c.to, f.frontQuery("A", "events", map[string]any{"team": "payments"}))
		r := qdr.Responses["A"]
		if a.Status != 200 || r.Error != nil {
			t.Errorf("%s → %s: %s", c.from, c.to, a)
			continue
		}
		got := stringsOf(t, r.Frames, "id")
		sort.Strings(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("from %q to %q: events %v, want %v", c.from, c.to, got, c.want)
		}
	}
	if a := f.do(t, "POST", "/api/ds/query", map[string]any{"queries": []any{f.frontQuery("A", "teams", nil)}, "from": "last tuesday", "to": "now"}, nil); a.Status != 400 {
		t.Errorf("%s: an unparsable range is a 400", a)
	}
}

// -static is served at / (index.html for client-side routes), -ui-img under /public/build/img/.
func TestFrontStaticFiles(t *testing.T) {
	static, img := t.TempDir(), t.TempDir()
	write := func(p, s string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(static, "index.html"), "<!doctype html><title>harness</title>")
	write(filepath.Join(static, "harness.js"), "console.log('harness')")
	write(filepath.Join(img, "icons", "unicons", "check.svg"), "<svg/>")
	f := startFront(t, "", "-static", static, "-ui-img", img)
	for _, c := range []struct {
		path, want string
		status     int
	}{
		{"/", "<title>harness</title>", 200},
		{"/harness.js", "console.log", 200},
		{"/teams/payments", "<title>harness</title>", 200},
		{"/public/build/img/icons/unicons/check.svg", "<svg/>", 200},
		{"/missing.js", "", 404},
		{"/public/build/img/icons/unicons/missing.svg", "", 404},
	} {
		a := f.do(t, "GET", c.path, nil, nil)
		if a.Status != c.status || !strings.Contains(string(a.Body), c.want) {
			t.Errorf("%s: want %d with %q", a, c.status, c.want)
		}
	}
}

// SIGTERM stops the front and then the plugin with go-plugin's graceful Kill: a view
// recorded just before is in the store when the next front opens it.
func TestFrontStopsGracefully(t *testing.T) {
	db := storePath(t, NewUID("front-stop"))
	f := startFront(t, db)
	f.mustRes(t, "POST", "teams", map[string]any{"id": "payments", "name": "Payments", "dashboards": []string{"slo-payments"}}, nil, Created...)
	f.query(t, map[string]string{"X-Dashboard-Uid": "slo-payments", "X-Panel-Id": "1", "X-Harness-User": "carol", "X-Harness-Role": "Viewer"},
		"now-1h", "now", f.frontQuery("A", "teams", nil))
	start := time.Now()
	if code := f.stop(t); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	t.Logf("stopped in %s", time.Since(start))
	log := tail(f.LogPath, 200)
	if !strings.Contains(log, "front stopped") || !strings.Contains(log, "plugin process exited") {
		t.Errorf("the log does not show the plugin stopped, then the front:\n%s", tail(f.LogPath, 15))
	}

	g := startFront(t, db)
	var list []map[string]any
	g.mustRes(t, "GET", "events?kind=view&dashboardUid=slo-payments", nil, nil, 200).decode(t, &list)
	if len(list) != 1 {
		t.Errorf("after a graceful stop right behind the query: %d views stored, want 1", len(list))
	}
}

// The demo store of `maturity demo` (eight teams) through the front, as scripts/harness
// serves it. Skipped when the command-line tool is not built.
func TestFrontDemoStore(t *testing.T) {
	cli := os.Getenv("MATURITY_CLI_BIN")
	if cli == "" {
		cli = filepath.Join(filepath.Dir(BinaryPath()), "maturity")
	}
	if _, err := os.Stat(cli); err != nil {
		t.Skipf("no maturity command-line tool at %s (cargo build --release builds it; or set MATURITY_CLI_BIN)", cli)
	}
	db := storePath(t, NewUID("front-demo"))
	if out, err := exec.Command(cli, "--db", db, "demo").CombinedOutput(); err != nil {
		t.Fatalf("maturity demo: %v\n%s", err, out)
	}
	f := startFront(t, db)
	a, qdr := f.query(t, as("vera", "Viewer"), "now-30d", "now",
		f.frontQuery("A", "teams", nil),
		f.frontQuery("B", "maturity", nil))
	if a.Status != 200 {
		t.Fatalf("%s", a)
	}
	if teams := stringsOf(t, qdr.Responses["A"].Frames, "team"); len(teams) != 8 {
		t.Errorf("demo teams: %v, want eight", teams)
	}
	if n, _ := qdr.Responses["B"].Frames[0].RowLen(); n != 8 {
		t.Errorf("demo maturity: %s, want eight rows", describe(qdr.Responses["B"].Frames))
	}
}
