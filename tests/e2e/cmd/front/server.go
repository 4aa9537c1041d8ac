package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/gtime"

	"datadriven-maturity/e2e"
)

// front answers like Grafana's HTTP API for one datasource of one running plugin.
type front struct {
	plugin      *e2e.Plugin
	ds          *e2e.Datasource
	multiStatus bool
	defaultUser string
	defaultRole string
	static      string
	uiImg       string
	log         *log.Logger
}

// The headers and cookies that choose the acting user. They never reach the plugin.
const (
	userHeader = "X-Harness-User"
	roleHeader = "X-Harness-Role"
	userCookie = "harness_user"
	roleCookie = "harness_role"
)

func (f *front) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/health", f.health)
	mux.HandleFunc("GET /api/datasources/uid/{uid}", f.datasourceInfo)
	mux.HandleFunc("GET /api/datasources/uid/{uid}/health", f.checkHealth)
	mux.HandleFunc("/api/datasources/uid/{uid}/resources", f.resource)
	mux.HandleFunc("/api/datasources/uid/{uid}/resources/{rest...}", f.resource)
	mux.HandleFunc("POST /api/ds/query", f.query)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not found"})
	})
	mux.Handle("/public/build/img/", f.uiImages())
	mux.Handle("/", f.staticFiles())
	return mux
}

// ---- the user ----

// normalRole spells a role as Grafana does (Viewer, Editor, Admin, None).
func normalRole(role string) (string, error) {
	for _, r := range []string{e2e.RoleViewer, e2e.RoleEditor, e2e.RoleAdmin, "None"} {
		if strings.EqualFold(strings.TrimSpace(role), r) {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown role %q (Viewer, Editor, Admin or None)", role)
}

// user is the request's acting user: the X-Harness-User / X-Harness-Role headers, else
// the harness_user / harness_role cookies, else the front's defaults. An empty login
// (an empty header, cookie or -user) means a request without a user.
func (f *front) user(r *http.Request) (*backend.User, error) {
	login, role := f.defaultUser, f.defaultRole
	if c, err := r.Cookie(userCookie); err == nil {
		login, _ = url.QueryUnescape(c.Value)
	}
	if c, err := r.Cookie(roleCookie); err == nil {
		role, _ = url.QueryUnescape(c.Value)
	}
	if v, ok := r.Header[userHeader]; ok && len(v) > 0 {
		login = v[0]
	}
	if v, ok := r.Header[roleHeader]; ok && len(v) > 0 {
		role = v[0]
	}
	login = strings.TrimSpace(login)
	if login == "" {
		return nil, nil
	}
	canon, err := normalRole(role)
	if err != nil {
		return nil, err
	}
	return e2e.User(login, canon), nil
}

func describeUser(u *backend.User, err error) string {
	switch {
	case err != nil:
		return "user=?"
	case u == nil:
		return "user=-"
	}
	return fmt.Sprintf("user=%s(%s)", u.Login, u.Role)
}

// ---- Grafana's small endpoints ----

func (f *front) health(w http.ResponseWriter, _ *http.Request) {
	status, db := http.StatusOK, "ok"
	if f.plugin.Exited() {
		status, db = http.StatusServiceUnavailable, "failing"
	}
	writeJSON(w, status, map[string]any{"commit": "harness-front", "database": db, "version": e2e.GrafanaVersion})
}

func (f *front) knownUID(w http.ResponseWriter, r *http.Request) bool {
	if r.PathValue("uid") != f.ds.UID {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Data source not found"})
		return false
	}
	return true
}

// datasourceInfo is GET /api/datasources/uid/<uid> in Grafana's shape.
func (f *front) datasourceInfo(w http.ResponseWriter, r *http.Request) {
	if !f.knownUID(w, r) {
		return
	}
	secureFields := map[string]bool{}
	for k := range f.ds.Secure {
		secureFields[k] = true
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":               f.ds.ID,
		"uid":              f.ds.UID,
		"orgId":            f.ds.OrgID,
		"name":             f.ds.Name,
		"type":             e2e.PluginID,
		"typeName":         "Data-Driven Maturity",
		"typeLogoUrl":      "public/plugins/" + e2e.PluginID + "/img/logo.svg",
		"access":           "proxy",
		"url":              "",
		"user":             "",
		"database":         "",
		"basicAuth":        false,
		"basicAuthUser":    "",
		"withCredentials":  false,
		"isDefault":        true,
		"jsonData":         f.ds.JSONData,
		"secureJsonFields": secureFields,
		"version":          1,
		"readOnly":         true,
	})
}

// checkHealth is GET /api/datasources/uid/<uid>/health: 200 when OK, else 400, as Grafana.
func (f *front) checkHealth(w http.ResponseWriter, r *http.Request) {
	if !f.knownUID(w, r) {
		return
	}
	user, err := f.user(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": err.Error()})
		return
	}
	hr, err := f.plugin.Health(r.Context(), f.ds.PluginContext(user))
	if err != nil {
		f.log.Printf("%v", err)
		writeJSON(w, http.StatusInternalServerError, map[string]any{"message": "Plugin health check failed"})
		return
	}
	payload := map[string]any{"status": hr.Status.String(), "message": hr.Message}
	if len(hr.JSONDetails) > 0 {
		var details any
		if json.Unmarshal(hr.JSONDetails, &details) == nil {
			payload["details"] = details
		}
	}
	status := http.StatusOK
	if hr.Status != backend.HealthStatusOk {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, payload)
}

// ---- CallResource ----

var resourceMethods = map[string]bool{
	http.MethodGet: true, http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true, http.MethodDelete: true,
}

// resourceHeaders are the request's headers as Grafana forwards them to CallResource:
// without cookies and credentials (Grafana's cookie and auth middlewares), Origin and
// Referer, with X-Forwarded-For; and without the harness's own user headers.
func resourceHeaders(r *http.Request) map[string][]string {
	h := r.Header.Clone()
	for _, k := range []string{"Cookie", "Authorization", "Origin", "Referer", userHeader, roleHeader} {
		h.Del(k)
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if prior := r.Header.Values("X-Forwarded-For"); len(prior) > 0 {
			host = strings.Join(prior, ", ") + ", " + host
		}
		h.Set("X-Forwarded-For", host)
	}
	return h
}

// resource is /api/datasources/uid/<uid>/resources/<path>: the plugin's answer (status,
// headers, body parts as they come) is written back, flushed after each part.
func (f *front) resource(w http.ResponseWriter, r *http.Request) {
	if !f.knownUID(w, r) {
		return
	}
	if !resourceMethods[r.Method] {
		w.Header().Set("Allow", "DELETE, GET, PATCH, POST, PUT")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"message": "Method not allowed"})
		return
	}
	user, err := f.user(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": err.Error()})
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Failed for create plugin resource request"})
		return
	}
	reqPath, reqURL := e2e.ResourceTarget(r.PathValue("rest"), r.URL.RawQuery)
	req := &backend.CallResourceRequest{
		PluginContext: f.ds.PluginContext(user),
		Path:          reqPath,
		Method:        r.Method,
		URL:           reqURL,
		Headers:       resourceHeaders(r),
		Body:          body,
	}
	flusher, _ := w.(http.Flusher)
	started := false
	err = f.plugin.StreamResource(r.Context(), req, func(part *backend.CallResourceResponse) error {
		if !started {
			started = true
			for k, vs := range part.Headers {
				// Grafana never passes a plugin's cookies on to the browser.
				if http.CanonicalHeaderKey(k) == "Set-Cookie" {
					continue
				}
				for _, v := range vs {
					w.Header().Add(k, v)
				}
			}
			status := part.Status
			if status < 100 || status > 999 {
				f.log.Printf("%s %s: the plugin answered status %d", req.Method, req.URL, status)
				status = http.StatusInternalServerError
			}
			w.WriteHeader(status)
		}
		if len(part.Body) > 0 {
			if _, err := w.Write(part.Body); err != nil {
				return err
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	})
	if err != nil {
		f.log.Printf("%s /%s: %v", req.Method, req.URL, err)
		if !started {
			writeJSON(w, http.StatusInternalServerError, map[string]any{"message": "Failed to call resource", "error": err.Error()})
			return
		}
		// The status is out already: cut the connection so the client sees a truncated body.
		panic(http.ErrAbortHandler)
	}
}

// ---- QueryData ----

// metricRequest is the body of POST /api/ds/query (Grafana's dtos.MetricRequest).
type metricRequest struct {
	From    string            `json:"from"`
	To      string            `json:"to"`
	Queries []json.RawMessage `json:"queries"`
}

// httpError is a request the front refuses, with Grafana's status and message.
type httpError struct {
	status  int
	message string
}

func (e *httpError) Error() string { return e.message }

// buildQueryRequest turns Grafana's HTTP query request into the QueryDataRequest Grafana's
// query service sends: each query's JSON as given, refId (default "A"), queryType,
// maxDataPoints (default 100), intervalMs (default 1000), the time range parsed by the
// SDK's gtime (Grafana's own parser: epoch ms, now, now-6h, now-7d/d, …) against now, and
// the forwarded headers.
func buildQueryRequest(body []byte, h http.Header, pc backend.PluginContext, uid string, now time.Time) (*backend.QueryDataRequest, error) {
	var mr metricRequest
	if err := json.Unmarshal(body, &mr); err != nil {
		return nil, &httpError{http.StatusBadRequest, "bad request data: " + err.Error()}
	}
	if len(mr.Queries) == 0 {
		return nil, &httpError{http.StatusBadRequest, "No queries found"}
	}
	if mr.From == "" {
		mr.From = "now-6h"
	}
	if mr.To == "" {
		mr.To = "now"
	}
	tr := gtime.TimeRange{From: mr.From, To: mr.To, Now: now}
	from, err := tr.ParseFrom()
	if err != nil {
		return nil, &httpError{http.StatusBadRequest, fmt.Sprintf("bad request data: from %q: %v", mr.From, err)}
	}
	to, err := tr.ParseTo()
	if err != nil {
		return nil, &httpError{http.StatusBadRequest, fmt.Sprintf("bad request data: to %q: %v", mr.To, err)}
	}
	req := &backend.QueryDataRequest{PluginContext: pc, Headers: map[string]string{}}
	for i, raw := range mr.Queries {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var q map[string]any
		if err := dec.Decode(&q); err != nil || q == nil {
			return nil, &httpError{http.StatusBadRequest, fmt.Sprintf("bad request data: query %d is not a JSON object", i)}
		}
		if err := checkDatasource(q, uid); err != nil {
			return nil, err
		}
		model, err := json.Marshal(q) // as Grafana's simplejson: keys sorted, numbers as written
		if err != nil {
			return nil, &httpError{http.StatusBadRequest, "bad request data: " + err.Error()}
		}
		req.Queries = append(req.Queries, backend.DataQuery{
			RefID:         stringOr(q["refId"], "A"),
			QueryType:     stringOr(q["queryType"], ""),
			MaxDataPoints: int64Or(q["maxDataPoints"], 100),
			Interval:      time.Duration(int64Or(q["intervalMs"], 1000)) * time.Millisecond,
			TimeRange:     backend.TimeRange{From: from.UTC(), To: to.UTC()},
			JSON:          model,
		})
	}
	e2e.ForwardQueryHeaders(h, req)
	return req, nil
}

// checkDatasource accepts a query for this datasource (by uid, or none given: the default
// datasource) and refuses others; server-side expressions are not available here.
func checkDatasource(q map[string]any, uid string) error {
	var got, typ string
	switch d := q["datasource"].(type) {
	case map[string]any:
		got = stringOr(d["uid"], "")
		typ = stringOr(d["type"], "")
	case string: // before Grafana 8.3
		got = d
	}
	switch {
	case got == "__expr__" || typ == "__expr__":
		return &httpError{http.StatusBadRequest, "server-side expressions are not available in the harness front"}
	case got == "" || got == uid:
		return nil
	}
	return &httpError{http.StatusNotFound, "Data source not found"}
}

func stringOr(v any, def string) string {
	if s, ok := v.(string); ok {
		return s
	}
	return def
}

func int64Or(v any, def int64) int64 {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i
		}
	}
	return def
}

// query is POST /api/ds/query. The answer is json.Marshal of the SDK's QueryDataResponse,
// as Grafana writes it: 200 when no query failed, else 400 (Grafana's default) or 207
// with -multi-status (Grafana's datasourceQueryMultiStatus toggle); the body is the same.
func (f *front) query(w http.ResponseWriter, r *http.Request) {
	user, err := f.user(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": err.Error()})
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "bad request data"})
		return
	}
	req, err := buildQueryRequest(body, r.Header, f.ds.PluginContext(user), f.ds.UID, time.Now())
	if err != nil {
		var he *httpError
		if errors.As(err, &he) {
			writeJSON(w, he.status, map[string]any{"message": he.message})
		} else {
			writeJSON(w, http.StatusInternalServerError, map[string]any{"message": err.Error()})
		}
		return
	}
	resp, err := f.plugin.Query(r.Context(), req)
	if err != nil {
		f.log.Printf("QueryData: %v", err)
		writeJSON(w, http.StatusInternalServerError, map[string]any{"message": "Query data error", "error": err.Error()})
		return
	}
	status := http.StatusOK
	for _, dr := range resp.Responses {
		if dr.Error != nil {
			status = http.StatusBadRequest
			if f.multiStatus {
				status = http.StatusMultiStatus
			}
		}
	}
	out, err := json.Marshal(resp)
	if err != nil {
		f.log.Printf("QueryData: marshal the answer: %v", err)
		writeJSON(w, http.StatusInternalServerError, map[string]any{"message": "Query data error", "error": err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// ---- static files ----

// staticFiles serves -static at /: files as they are, index.html for / and for any
// extension-less path that is not a file (client-side routes).
func (f *front) staticFiles() http.Handler {
	if f.static == "" {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintf(w, "Data-Driven Maturity harness front (no -static folder given).\n\n"+
				"POST /api/ds/query\n/api/datasources/uid/%s/resources/<path>\nGET /api/datasources/uid/%s\n",
				f.ds.UID, f.ds.UID)
		})
	}
	files := http.FileServer(http.Dir(f.static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		index := filepath.Join(f.static, "index.html")
		if _, err := os.Stat(index); err != nil {
			http.Error(w, fmt.Sprintf("no harness page in %s yet (build it: cd frontend && npm run build:harness)", f.static), http.StatusNotFound)
			return
		}
		clean := path.Clean("/" + r.URL.Path)
		if clean != "/" && path.Ext(clean) == "" {
			if st, err := os.Stat(filepath.Join(f.static, filepath.FromSlash(clean))); err != nil || st.IsDir() {
				w.Header().Set("Cache-Control", "no-store")
				http.ServeFile(w, r, index)
				return
			}
		}
		if clean == "/" {
			w.Header().Set("Cache-Control", "no-store")
		}
		files.ServeHTTP(w, r)
	})
}

func (f *front) uiImages() http.Handler {
	if f.uiImg == "" {
		return http.NotFoundHandler()
	}
	return http.StripPrefix("/public/build/img/", http.FileServer(http.Dir(f.uiImg)))
}

// ---- plumbing ----

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"message":"internal error"}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// recorder remembers the status and size of an answer and keeps streaming (Flush) working.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Flush() {
	if fl, ok := r.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logged writes one line per request to stderr: method, path, status, size, time, user.
func (f *front) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		who := describeUser(f.user(r))
		defer func() {
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			v := recover()
			note := ""
			if v != nil {
				note = " (aborted)"
			}
			f.log.Printf("%s %s %d %dB %s %s%s", r.Method, r.URL.RequestURI(), status, rec.bytes,
				time.Since(start).Round(time.Microsecond), who, note)
			if v != nil {
				panic(v) // net/http closes the connection (http.ErrAbortHandler) or logs the panic
			}
		}()
		next.ServeHTTP(rec, r)
	})
}
