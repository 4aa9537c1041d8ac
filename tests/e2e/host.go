// This file owns what Grafana sends with each call: the PluginContext (org, user and role,
// datasource instance settings) and the three calls the product uses — CheckHealth,
// CallResource (Path and URL filled as Grafana fills them, streamed answer collected)
// and QueryData (frames decoded with data.UnmarshalArrowFrame).
package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/config"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
)

// Grafana's org roles as the PluginContext carries them.
const (
	RoleViewer = "Viewer"
	RoleEditor = "Editor"
	RoleAdmin  = "Admin"
)

// User builds a Grafana user as Grafana puts it in the PluginContext.
func User(login, role string) *backend.User {
	u := &backend.User{Login: login, Role: role}
	if login != "" {
		u.Name = strings.ToUpper(login[:1]) + login[1:]
		u.Email = login + "@example.com"
	}
	return u
}

// Viewer, Editor and Admin are users with that org role.
func Viewer(login string) *backend.User { return User(login, RoleViewer) }
func Editor(login string) *backend.User { return User(login, RoleEditor) }
func Admin(login string) *backend.User  { return User(login, RoleAdmin) }

// Datasource is one configured instance of the plugin in one Grafana org.
type Datasource struct {
	OrgID    int64
	ID       int64
	UID      string
	Name     string
	JSONData map[string]any
	Secure   map[string]string
	Updated  time.Time
}

// NewUID makes a Grafana-like datasource uid (short, unique per call).
func NewUID(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// Touch marks the settings as saved again (Updated strictly later, to the millisecond),
// which is how the plugin learns to rebuild its cached instance.
func (d *Datasource) Touch() {
	next := time.Now().Truncate(time.Millisecond)
	if !next.After(d.Updated) {
		next = d.Updated.Add(time.Millisecond)
	}
	d.Updated = next
}

// DBPath is jsonData.databasePath ("" when unset).
func (d *Datasource) DBPath() string {
	s, _ := d.JSONData["databasePath"].(string)
	return s
}

// Settings is the DataSourceInstanceSettings Grafana sends for this instance.
func (d *Datasource) Settings() *backend.DataSourceInstanceSettings {
	raw, err := json.Marshal(d.JSONData)
	if err != nil {
		panic(err)
	}
	secure := map[string]string{}
	for k, v := range d.Secure {
		secure[k] = v
	}
	return &backend.DataSourceInstanceSettings{
		ID:                      d.ID,
		UID:                     d.UID,
		Type:                    PluginID,
		Name:                    d.Name,
		JSONData:                raw,
		DecryptedSecureJSONData: secure,
		Updated:                 d.Updated,
	}
}

// PluginContext is what Grafana sends with every call for this datasource; user may be nil
// (Grafana-internal requests, alerting).
func (d *Datasource) PluginContext(user *backend.User) backend.PluginContext {
	return backend.PluginContext{
		OrgID:                      d.OrgID,
		PluginID:                   PluginID,
		PluginVersion:              "0.1.0",
		User:                       user,
		DataSourceInstanceSettings: d.Settings(),
		GrafanaConfig: config.NewGrafanaCfg(map[string]string{
			config.AppURL: "http://localhost:3000/",
		}),
	}
}

// Host is a Grafana talking to one datasource instance of a running plugin.
type Host struct {
	T  testing.TB
	P  *Plugin
	DS *Datasource
	// Timeout bounds each call (default 30 s).
	Timeout time.Duration
}

// With is the same host reporting to another test (a subtest).
func (h *Host) With(t testing.TB) *Host {
	c := *h
	c.T = t
	return &c
}

func (h *Host) ctx() (context.Context, context.CancelFunc) {
	d := h.Timeout
	if d == 0 {
		d = 30 * time.Second
	}
	return context.WithTimeout(context.Background(), d)
}

func (h *Host) fatalf(format string, args ...any) {
	h.T.Helper()
	h.T.Fatalf(format+"%s", append(args, h.P.logTail(30))...)
}

// ---- CheckHealth ----

// CheckHealth asks the plugin to test this datasource (the "Save & test" button).
func (h *Host) CheckHealth(user *backend.User) *backend.CheckHealthResult {
	h.T.Helper()
	ctx, cancel := h.ctx()
	defer cancel()
	res, err := h.P.Health(ctx, h.DS.PluginContext(user))
	if err != nil {
		h.fatalf("%v", err)
	}
	return res
}

// ---- CallResource ----

// Response is a collected CallResource answer.
type Response struct {
	Method, URL string
	Status      int
	Headers     map[string][]string
	Body        []byte
}

func (r *Response) String() string {
	b := string(r.Body)
	if len(b) > 2000 {
		b = b[:2000] + "…"
	}
	return fmt.Sprintf("%s %s → %d %s", r.Method, r.URL, r.Status, b)
}

// Decode unmarshals the body into v, failing the test when it is not JSON.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("%s: body is not the JSON expected (%v)", r, err)
	}
}

// Object is the body as a JSON object.
func (r *Response) Object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.Decode(t, &m)
	return m
}

// List is the body as a JSON array. SPEC only says "list", so an object that wraps the
// array under one of keys (or a single array-valued member) is accepted too.
func (r *Response) List(t testing.TB, keys ...string) []map[string]any {
	t.Helper()
	var v any
	r.Decode(t, &v)
	arr, ok := v.([]any)
	if !ok {
		if m, isObj := v.(map[string]any); isObj {
			for _, k := range append(keys, "items", "data", "results") {
				if a, isArr := m[k].([]any); isArr {
					arr, ok = a, true
					break
				}
			}
			if !ok {
				var found []any
				n := 0
				for _, val := range m {
					if a, isArr := val.([]any); isArr {
						found = a
						n++
					}
				}
				if n == 1 {
					arr, ok = found, true
				}
			}
		}
	}
	if !ok {
		t.Fatalf("%s: expected a JSON array", r)
	}
	out := make([]map[string]any, 0, len(arr))
	for i, e := range arr {
		m, isObj := e.(map[string]any)
		if !isObj {
			t.Fatalf("%s: element %d is not an object", r, i)
		}
		out = append(out, m)
	}
	return out
}

// Call performs one CallResource the way Grafana forwards
// /api/datasources/uid/<uid>/resources/<target>: Path without leading slash or query,
// URL = path plus "?query". body is nil, []byte / string (sent as is), or a value sent as JSON.
// A transport failure fails the test.
func (h *Host) Call(user *backend.User, method, target string, body any) *Response {
	h.T.Helper()
	r, err := h.TryCall(user, method, target, body)
	if err != nil {
		h.fatalf("%v", err)
	}
	return r
}

// TryCall is Call returning transport failures instead of failing the test, so it may run
// on goroutines other than the test's.
func (h *Host) TryCall(user *backend.User, method, target string, body any) (*Response, error) {
	target = strings.TrimPrefix(target, "/")
	path, rawQuery, _ := strings.Cut(target, "?")
	u := url.URL{Path: path, RawQuery: rawQuery}
	fullURL := u.String()
	if rawQuery == "" {
		fullURL = path
	}

	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			return nil, fmt.Errorf("marshal body: %w", err)
		}
	}
	headers := map[string][]string{
		"Accept":           {"application/json, text/plain, */*"},
		"Accept-Encoding":  {"gzip, deflate"},
		"User-Agent":       {"Grafana/" + GrafanaVersion + " e2e"},
		"X-Grafana-Org-Id": {fmt.Sprint(h.DS.OrgID)},
	}
	if raw != nil {
		headers["Content-Type"] = []string{"application/json"}
	}
	req := &backend.CallResourceRequest{
		PluginContext: h.DS.PluginContext(user),
		Path:          path,
		Method:        method,
		URL:           fullURL,
		Headers:       headers,
		Body:          raw,
	}
	ctx, cancel := h.ctx()
	defer cancel()
	resp := &Response{Method: method, URL: fullURL, Headers: map[string][]string{}}
	first := true
	err := h.P.StreamResource(ctx, req, func(part *backend.CallResourceResponse) error {
		if first {
			resp.Status = part.Status
			for k, v := range part.Headers {
				resp.Headers[k] = v
			}
			first = false
		}
		resp.Body = append(resp.Body, part.Body...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// Must performs Call and fails the test unless the status is one of want.
func (h *Host) Must(user *backend.User, method, target string, body any, want ...int) *Response {
	h.T.Helper()
	r := h.Call(user, method, target, body)
	for _, w := range want {
		if r.Status == w {
			return r
		}
	}
	h.T.Fatalf("%s: want status %v", r, want)
	return r
}

// Created is the status set of a successful create (SPEC names no code: 200 or 201).
var Created = []int{200, 201}

// ---- QueryData ----

// Query is one query of a QueryData request as the frontend builds it.
type Query struct {
	RefID         string
	QueryType     string
	From, To      time.Time
	Interval      time.Duration
	MaxDataPoints int64
	// Model holds the query's own fields (queryType is added); RawJSON, when set, is sent
	// as the query JSON verbatim instead.
	Model   map[string]any
	RawJSON []byte
}

// Result is one refId's answer.
type Result struct {
	RefID  string
	Error  string
	Status int
	Frames []*data.Frame
}

// QueryData sends the queries with the request headers Grafana forwards and decodes
// every frame with the Go SDK. Every refId asked must come back.
func (h *Host) QueryData(user *backend.User, headers map[string]string, queries ...Query) map[string]*Result {
	h.T.Helper()
	req := &backend.QueryDataRequest{
		PluginContext: h.DS.PluginContext(user),
		Headers:       map[string]string{},
	}
	for k, v := range headers {
		req.Headers[k] = v
	}
	for _, q := range queries {
		interval := q.Interval
		if interval == 0 {
			interval = time.Minute
		}
		maxDP := q.MaxDataPoints
		if maxDP == 0 {
			maxDP = 1000
		}
		raw := q.RawJSON
		if raw == nil {
			m := map[string]any{
				"refId":         q.RefID,
				"datasource":    map[string]any{"type": PluginID, "uid": h.DS.UID},
				"intervalMs":    interval.Milliseconds(),
				"maxDataPoints": maxDP,
			}
			if q.QueryType != "" {
				m["queryType"] = q.QueryType
			}
			for k, v := range q.Model {
				m[k] = v
			}
			var err error
			if raw, err = json.Marshal(m); err != nil {
				h.T.Fatalf("marshal query %s: %v", q.RefID, err)
			}
		}
		req.Queries = append(req.Queries, backend.DataQuery{
			RefID:         q.RefID,
			QueryType:     q.QueryType,
			MaxDataPoints: maxDP,
			Interval:      interval,
			TimeRange:     backend.TimeRange{From: q.From, To: q.To},
			JSON:          raw,
		})
	}
	ctx, cancel := h.ctx()
	defer cancel()
	res, err := h.P.Data.QueryData(ctx, backend.ToProto().QueryDataRequest(req))
	if err != nil {
		h.fatalf("QueryData: gRPC error (the whole request failed): %v", err)
	}
	out := map[string]*Result{}
	for refID, dr := range res.Responses {
		r := &Result{RefID: refID, Error: dr.Error, Status: int(dr.Status)}
		for i, b := range dr.Frames {
			var f *data.Frame
			var err error
			switch dr.Format {
			case pluginv2.DataFrameFormat_JSON:
				err = json.Unmarshal(b, &f)
			default:
				f, err = data.UnmarshalArrowFrame(b)
			}
			if err != nil {
				h.T.Errorf("refId %s frame %d: the Go SDK cannot decode it: %v", refID, i, err)
				continue
			}
			r.Frames = append(r.Frames, f)
		}
		out[refID] = r
		if os.Getenv("MATURITY_E2E_DUMP") != "" {
			h.T.Logf("refId %s error=%q%s", refID, r.Error, dumpFrames(r.Frames))
		}
	}
	for _, q := range queries {
		if _, ok := out[q.RefID]; !ok {
			h.T.Errorf("QueryData: no response for refId %s (got %d responses)", q.RefID, len(out))
		}
	}
	return out
}

// Query1 sends one query and returns its result.
func (h *Host) Query1(user *backend.User, q Query) *Result {
	h.T.Helper()
	if q.RefID == "" {
		q.RefID = "A"
	}
	r := h.QueryData(user, nil, q)[q.RefID]
	if r == nil {
		h.T.FailNow()
	}
	return r
}

// dumpFrames renders frames as tables (MATURITY_E2E_DUMP=1 logs every QueryData answer).
func dumpFrames(frames []*data.Frame) string {
	var b strings.Builder
	for i, f := range frames {
		table, err := f.StringTable(-1, -1)
		if err != nil {
			table = err.Error()
		}
		fmt.Fprintf(&b, "\nframe %d:\n%s", i, table)
	}
	return b.String()
}
