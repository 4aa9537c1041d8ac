package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// One plugin process serves every test, as one Grafana runs one process for all the
// datasource instances of a plugin; each test uses its own datasource uid and store.
var (
	sharedMu     sync.Mutex
	shared       *Plugin
	sharedErr    error
	sharedStarts int
	workDir      string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "maturity-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	workDir = dir
	// Start the plugin once up front, so that a missing or broken binary is one clear
	// message instead of one failure per test.
	sharedMu.Lock()
	shared, sharedErr = startShared()
	sharedMu.Unlock()
	if sharedErr != nil {
		fmt.Fprintf(os.Stderr, "e2e: the plugin could not be started: %v\n", sharedErr)
		_ = os.RemoveAll(workDir)
		os.Exit(1)
	}
	code := m.Run()
	sharedMu.Lock()
	if shared != nil {
		shared.Kill()
	}
	sharedMu.Unlock()
	if code != 0 || os.Getenv("MATURITY_E2E_KEEP") != "" {
		fmt.Fprintf(os.Stderr, "e2e work folder kept (plugin logs, stores): %s\n", workDir)
	} else {
		_ = os.RemoveAll(workDir)
	}
	os.Exit(code)
}

// defaultStorePath is the GF_PLUGIN_DATABASE_PATH given to the process, so that a
// datasource without databasePath never writes outside the test's folder.
func defaultStorePath() string { return filepath.Join(workDir, "gf-plugin-default", "maturity.db") }

// pluginEnv is the environment Grafana gives a backend plugin: its version and the
// [plugin.<id>] keys as GF_PLUGIN_<KEY>.
func pluginEnv() []string { return GrafanaEnv(defaultStorePath()) }

// startShared starts a process for the shared slot (callers hold sharedMu).
func startShared() (*Plugin, error) {
	sharedStarts++
	home := filepath.Join(workDir, "grafana-home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, err
	}
	return StartPlugin(BinaryPath(), StartOptions{
		Env:     pluginEnv(),
		LogPath: filepath.Join(workDir, fmt.Sprintf("plugin-%d.log", sharedStarts)),
		Dir:     home,
	})
}

// sharedPlugin returns the running plugin, starting (or restarting) it when needed, and
// fails the test if the process exits while the test runs.
func sharedPlugin(t testing.TB) *Plugin {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedErr != nil {
		t.Fatalf("the plugin could not be started: %v", sharedErr)
	}
	if shared != nil && shared.Exited() {
		t.Logf("the plugin process had exited; starting a new one")
		shared = nil
	}
	if shared == nil {
		p, err := startShared()
		if err != nil {
			sharedErr = err
			t.Fatalf("the plugin could not be started: %v", err)
		}
		shared = p
	}
	p := shared
	t.Cleanup(func() {
		if p.Exited() {
			t.Errorf("the plugin process exited during this test (SPEC §3: no input makes the process panic or exit)%s", p.logTail(60))
		} else if t.Failed() {
			t.Logf("plugin log tail:%s", p.logTail(20))
		}
	})
	return p
}

// newDatasource makes a datasource in org 1 with its own fresh SQLite file; extra keys
// are merged into jsonData.
func newDatasource(t testing.TB, extra map[string]any) *Datasource {
	t.Helper()
	uid := NewUID("e2e")
	jd := map[string]any{"databasePath": storePath(t, uid)}
	for k, v := range extra {
		jd[k] = v
	}
	ds := &Datasource{
		OrgID:    1,
		ID:       7,
		UID:      uid,
		Name:     "Data-Driven Maturity",
		JSONData: jd,
		Secure:   map[string]string{},
	}
	ds.Touch()
	return ds
}

// storePath is a fresh SQLite path under the run's work folder. Not t.TempDir: the shared
// plugin keeps stores open after a test ends, and the folder goes when the process has.
func storePath(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join(workDir, "stores", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "maturity.db")
}

// newHost is a Grafana with one fresh datasource instance of the shared plugin.
func newHost(t testing.TB, extra map[string]any) *Host {
	t.Helper()
	p := sharedPlugin(t)
	return &Host{T: t, P: p, DS: newDatasource(t, extra)}
}

// ---- small JSON helpers ----

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// requireErrorBody checks SPEC §3's error shape.
func requireErrorBody(t testing.TB, r *Response, status int, code string, field string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: want status %d", r, status)
		return
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Errorf("%s: error body is not a JSON object: %v", r, err)
		return
	}
	if m["error"] != code {
		t.Errorf("%s: want error %q", r, code)
	}
	if msg, _ := m["message"].(string); strings.TrimSpace(msg) == "" {
		t.Errorf("%s: want a human-readable message", r)
	}
	if field != "" && m["field"] != field {
		t.Errorf("%s: want field %q", r, field)
	}
}

// ---- frame helpers ----

func field(f *data.Frame, name string) *data.Field {
	for _, fl := range f.Fields {
		if fl.Name == name {
			return fl
		}
	}
	return nil
}

func fieldNames(f *data.Frame) []string {
	out := make([]string, len(f.Fields))
	for i, fl := range f.Fields {
		out[i] = fmt.Sprintf("%s:%s%s", fl.Name, fl.Type(), labelsSuffix(fl))
	}
	return out
}

func labelsSuffix(fl *data.Field) string {
	if len(fl.Labels) == 0 {
		return ""
	}
	return "{" + fl.Labels.String() + "}"
}

func describe(frames []*data.Frame) string {
	var b strings.Builder
	for i, f := range frames {
		n, _ := f.RowLen()
		fmt.Fprintf(&b, "\n  frame %d %q rows=%d fields=%v", i, f.Name, n, fieldNames(f))
	}
	if len(frames) == 0 {
		b.WriteString(" (no frames)")
	}
	return b.String()
}

func isStringType(ft data.FieldType) bool {
	return ft == data.FieldTypeString || ft == data.FieldTypeNullableString
}

// stringAt reads a string or *string cell ("" for null).
func stringAt(fl *data.Field, i int) string {
	switch v := fl.At(i).(type) {
	case string:
		return v
	case *string:
		if v != nil {
			return *v
		}
	}
	return ""
}

func floatAt(t testing.TB, fl *data.Field, i int) (float64, bool) {
	t.Helper()
	if fl.NilAt(i) {
		return 0, false
	}
	v, err := fl.FloatAt(i)
	if err != nil {
		t.Fatalf("field %s row %d: %v", fl.Name, i, err)
	}
	return v, true
}

// rowsByString maps the value of a string field to the row index.
func rowsByString(f *data.Frame, name string) map[string]int {
	out := map[string]int{}
	fl := field(f, name)
	if fl == nil {
		return out
	}
	for i := 0; i < fl.Len(); i++ {
		out[stringAt(fl, i)] = i
	}
	return out
}
