package e2e

// The provisioning files (provisioning/**/*.yaml) and the alert rules of
// provisioning/alerting/maturity.yaml:
//
//   - TestProvisioningFilesParse: every provisioning YAML parses (gopkg.in/yaml.v3) into the
//     shape Grafana reads; the datasource has uid `maturity` and a store under /var/lib/grafana;
//     the dashboards provider points at the shipped copies.
//   - TestAlertRulesStructure: each rule is A (an alertable query of this datasource) → B
//     (server-side reduce, last) → C (server-side threshold), condition C, noDataState OK,
//     execErrState Error, labels and an annotation that says what to do.
//   - TestAlertRulesOnDemoStore: each rule's query runs through the backend as Grafana's
//     scheduler runs it (no user, FromAlert header, the rule's relative time range) and its
//     reduce and threshold are applied here the way Grafana's server-side expressions apply them
//     (a number table is one instance per row labelled by its string fields; wide series one
//     instance per value field): on the demo store the team that let its reviews lapse fires
//     and a healthy team does not, and every rule fires exactly for what the other interfaces
//     say is due.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"gopkg.in/yaml.v3"
)

// ---- Grafana's file-provisioning formats (the parts these files use) ----

type provisionedRuleFile struct {
	APIVersion int                  `yaml:"apiVersion"`
	Groups     []provisionedRuleGrp `yaml:"groups"`
}

type provisionedRuleGrp struct {
	OrgID    int64             `yaml:"orgId"`
	Name     string            `yaml:"name"`
	Folder   string            `yaml:"folder"`
	Interval string            `yaml:"interval"`
	Rules    []provisionedRule `yaml:"rules"`
}

type provisionedRule struct {
	UID          string            `yaml:"uid"`
	Title        string            `yaml:"title"`
	Condition    string            `yaml:"condition"`
	Data         []ruleQuery       `yaml:"data"`
	NoDataState  string            `yaml:"noDataState"`
	ExecErrState string            `yaml:"execErrState"`
	For          string            `yaml:"for"`
	IsPaused     bool              `yaml:"isPaused"`
	Labels       map[string]string `yaml:"labels"`
	Annotations  map[string]string `yaml:"annotations"`
}

type ruleQuery struct {
	RefID             string `yaml:"refId"`
	QueryType         string `yaml:"queryType"`
	RelativeTimeRange struct {
		From int64 `yaml:"from"`
		To   int64 `yaml:"to"`
	} `yaml:"relativeTimeRange"`
	DatasourceUID string         `yaml:"datasourceUid"`
	Model         map[string]any `yaml:"model"`
}

func (r provisionedRule) query(refID string) *ruleQuery {
	for i := range r.Data {
		if r.Data[i].RefID == refID {
			return &r.Data[i]
		}
	}
	return nil
}

// readYAML decodes a provisioning file, refusing keys the target type does not know when
// strict (a typo Grafana would silently ignore).
func readYAML(t testing.TB, path string, v any, strict bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(strict)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func loadAlertRules(t testing.TB) []provisionedRule {
	t.Helper()
	var file provisionedRuleFile
	readYAML(t, repoPath("provisioning", "alerting", "maturity.yaml"), &file, true)
	if file.APIVersion != 1 || len(file.Groups) == 0 {
		t.Fatalf("provisioning/alerting/maturity.yaml: apiVersion %d, %d groups; want apiVersion 1 and groups", file.APIVersion, len(file.Groups))
	}
	var rules []provisionedRule
	for _, g := range file.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules
}

// shippedRules are the rules the product ships, by uid: the query type of A.
var shippedRules = map[string]string{
	"ddm-review-lapsed":        "reviewLapse",
	"ddm-verification-due":     "verificationDue",
	"ddm-follow-ups-overdue":   "followUpsOverdue",
	"ddm-maturity-below-floor": "maturity",
}

// provisioningRoot is where Grafana's image reads provisioning from; the repository's
// provisioning/ folder is mounted there.
const provisioningRoot = "/etc/grafana/provisioning/"

func TestProvisioningFilesParse(t *testing.T) {
	var files []string
	err := filepath.WalkDir(repoPath("provisioning"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, path := range files {
		kind := filepath.Base(filepath.Dir(path))
		kinds[kind]++
		t.Run(strings.TrimPrefix(path, repoPath()+string(filepath.Separator)), func(t *testing.T) {
			var doc map[string]any
			readYAML(t, path, &doc, false)
			if doc["apiVersion"] != 1 {
				t.Errorf("apiVersion %v, want 1", doc["apiVersion"])
			}
			switch kind {
			case "datasources":
				var f struct {
					APIVersion  int `yaml:"apiVersion"`
					Datasources []struct {
						Name      string         `yaml:"name"`
						Type      string         `yaml:"type"`
						UID       string         `yaml:"uid"`
						Access    string         `yaml:"access"`
						IsDefault bool           `yaml:"isDefault"`
						Editable  *bool          `yaml:"editable"`
						JSONData  map[string]any `yaml:"jsonData"`
					} `yaml:"datasources"`
				}
				readYAML(t, path, &f, true)
				if len(f.Datasources) == 0 {
					t.Errorf("no datasources")
				}
				for _, ds := range f.Datasources {
					if ds.Name == "" || ds.Type == "" || ds.UID == "" {
						t.Errorf("datasource %+v: want name, type and uid", ds)
					}
					if ds.Type != PluginID {
						continue
					}
					if ds.UID != provisionedUID {
						t.Errorf("datasource %q: uid %q, want %q (the dashboard copies and alert rules use it)", ds.Name, ds.UID, provisionedUID)
					}
					db, _ := ds.JSONData["databasePath"].(string)
					if !strings.HasPrefix(db, "/var/lib/grafana/") || strings.HasPrefix(db, "/var/lib/grafana/plugins/") {
						t.Errorf("datasource %q: databasePath %q, want a file in Grafana's data folder /var/lib/grafana, outside the plugins folder an upgrade replaces", ds.Name, db)
					}
				}
			case "dashboards":
				var f struct {
					APIVersion int `yaml:"apiVersion"`
					Providers  []struct {
						Name                  string `yaml:"name"`
						OrgID                 int64  `yaml:"orgId"`
						Type                  string `yaml:"type"`
						Folder                string `yaml:"folder"`
						FolderUID             string `yaml:"folderUid"`
						DisableDeletion       bool   `yaml:"disableDeletion"`
						AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
						UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
						Options               struct {
							Path                      string `yaml:"path"`
							FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
						} `yaml:"options"`
					} `yaml:"providers"`
				}
				readYAML(t, path, &f, true)
				if len(f.Providers) == 0 {
					t.Fatalf("no providers")
				}
				for _, p := range f.Providers {
					if p.Type != "file" || p.Name == "" || p.Folder == "" {
						t.Errorf("provider %+v: want a named file provider with a folder", p)
					}
					rel, ok := strings.CutPrefix(p.Options.Path, provisioningRoot)
					if !ok {
						t.Errorf("provider %q: path %q is not under %s, where the repository's provisioning/ is mounted", p.Name, p.Options.Path, provisioningRoot)
						continue
					}
					copies, _ := filepath.Glob(repoPath("provisioning", filepath.FromSlash(rel), "*.json"))
					if len(copies) != len(shippedDashboards) {
						t.Errorf("provider %q: %s holds %d dashboards (provisioning/%s), want the %d shipped ones", p.Name, p.Options.Path, len(copies), rel, len(shippedDashboards))
					}
				}
			case "alerting":
				loadAlertRules(t)
			default:
				t.Errorf("a provisioning file of an unknown kind %q", kind)
			}
		})
	}
	for _, k := range []string{"datasources", "dashboards", "alerting"} {
		if kinds[k] == 0 {
			t.Errorf("no provisioning/%s/*.yaml", k)
		}
	}
}

func TestAlertRulesStructure(t *testing.T) {
	schema := loadQuerySchema(t)
	rules := loadAlertRules(t)
	panelsOf := map[string]map[float64]bool{}
	for _, d := range loadDashboards(t) {
		ids := map[float64]bool{}
		for _, p := range allPanels(d.m) {
			id, _ := p["id"].(float64)
			ids[id] = true
		}
		panelsOf[d.uid()] = ids
	}
	seen := map[string]bool{}
	for _, r := range rules {
		t.Run(r.UID, func(t *testing.T) {
			if seen[r.UID] {
				t.Errorf("uid used twice")
			}
			seen[r.UID] = true
			want, ok := shippedRules[r.UID]
			if !ok {
				t.Errorf("a rule this test does not know: add it to shippedRules and to TestAlertRulesOnDemoStore")
			}
			if r.Title == "" || r.Condition != "C" || len(r.Data) != 3 {
				t.Errorf("title %q, condition %q, %d queries: want a title, condition C and the queries A, B, C", r.Title, r.Condition, len(r.Data))
			}
			if r.NoDataState != "OK" || r.ExecErrState != "Error" {
				t.Errorf("noDataState %q, execErrState %q: want OK (nothing is due) and Error", r.NoDataState, r.ExecErrState)
			}
			if _, err := time.ParseDuration(r.For); err != nil {
				t.Errorf("for %q: %v", r.For, err)
			}
			if r.UID == "ddm-review-lapsed" && r.For != "1h" {
				t.Errorf("for %q: a lapsed review fires after an hour (1h)", r.For)
			}
			if r.Labels["severity"] == "" || r.Labels["product"] != "data-driven-maturity" {
				t.Errorf("labels %v: want severity and product=data-driven-maturity", r.Labels)
			}
			for _, k := range []string{"summary", "description"} {
				if strings.TrimSpace(r.Annotations[k]) == "" {
					t.Errorf("no %s annotation", k)
				}
				if _, err := parseAlertTemplate(r.Annotations[k]); err != nil {
					t.Errorf("annotation %s: %v", k, err)
				}
			}
			if uid := r.Annotations["__dashboardUid__"]; uid != "" {
				var id float64
				_, err := fmt.Sscan(r.Annotations["__panelId__"], &id)
				if panelsOf[uid] == nil || err != nil || !panelsOf[uid][id] {
					t.Errorf("__dashboardUid__ %q / __panelId__ %q: no such shipped dashboard and panel", uid, r.Annotations["__panelId__"])
				}
			}

			a, b, c := r.query("A"), r.query("B"), r.query("C")
			if a == nil || b == nil || c == nil {
				t.Fatalf("want the queries A, B and C")
			}
			// A: this datasource, an alertable query over a relative time range ending now.
			if a.DatasourceUID != provisionedUID {
				t.Errorf("A: datasourceUid %q, want %q", a.DatasourceUID, provisionedUID)
			}
			if a.RelativeTimeRange.From <= 0 || a.RelativeTimeRange.To != 0 {
				t.Errorf("A: relativeTimeRange %+v: want a range ending now (the evaluation instant is its end)", a.RelativeTimeRange)
			}
			qt, _ := a.Model["queryType"].(string)
			if qt != want || a.QueryType != qt {
				t.Errorf("A: queryType %q (model %q), want %q in both", a.QueryType, qt, want)
			}
			if !schema.alertable[qt] {
				t.Errorf("A: %q is not an alertable query type (x-alertable in query.schema.json)", qt)
			}
			if a.Model["refId"] != "A" {
				t.Errorf("A: model.refId %v", a.Model["refId"])
			}
			if ds, _ := a.Model["datasource"].(map[string]any); ds["uid"] != provisionedUID || ds["type"] != PluginID {
				t.Errorf("A: model.datasource %v", a.Model["datasource"])
			}
			schema.checkTarget(t, "A", jsonRoundTrip(t, a.Model))
			if r.UID == "ddm-review-lapsed" && a.Model["measure"] != "hoursOverdue" {
				t.Errorf("A: measure %v, want hoursOverdue (one threshold for every cadence)", a.Model["measure"])
			}
			// B: reduce A to its last value; C: threshold on B. Both server-side expressions.
			for _, q := range []*ruleQuery{b, c} {
				ds, _ := q.Model["datasource"].(map[string]any)
				if q.DatasourceUID != "__expr__" || ds["uid"] != "__expr__" || ds["type"] != "__expr__" || q.Model["refId"] != q.RefID {
					t.Errorf("%s: datasourceUid %q, model %v: want the server-side expressions __expr__", q.RefID, q.DatasourceUID, q.Model)
				}
			}
			if b.Model["type"] != "reduce" || b.Model["expression"] != "A" || b.Model["reducer"] != "last" {
				t.Errorf("B: %v, want type reduce, expression A, reducer last", b.Model)
			}
			if _, _, err := thresholdOf(c.Model); err != nil || c.Model["type"] != "threshold" || c.Model["expression"] != "B" {
				t.Errorf("C: %v (%v), want type threshold on expression B with one evaluator", c.Model, err)
			}
		})
	}
	for uid := range shippedRules {
		if !seen[uid] {
			t.Errorf("rule %s is missing", uid)
		}
	}
}

func jsonRoundTrip(t testing.TB, v any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// ---- Grafana's server-side expressions, as far as these rules use them ----

// sseNumber is one alert instance: its labels and value.
type sseNumber struct {
	labels data.Labels
	value  float64
}

// sseConvert turns a datasource answer into the values Grafana's expression engine works on
// (pkg/expr/converter.go): no frame or an empty number table is no data; one frame of string
// fields and exactly one number field is a number set, one number per row labelled by the
// strings; wide time series are one series per value field (reduced here to their values).
func sseConvert(frames []*data.Frame, reduce func([]float64) float64) ([]sseNumber, bool, error) {
	if len(frames) == 0 {
		return nil, true, nil
	}
	if len(frames) == 1 {
		f := frames[0]
		if len(f.Fields) == 0 {
			return nil, true, nil
		}
		if f.TimeSeriesSchema().Type == data.TimeSeriesTypeNot {
			numeric, other := 0, 0
			for _, fl := range f.Fields {
				switch {
				case fl.Type().Numeric():
					numeric++
				case isStringType(fl.Type()):
				default:
					other++
				}
			}
			if numeric != 1 || other != 0 {
				return nil, false, fmt.Errorf("frame %q is a table, not a number table (fields %v): Grafana cannot reduce it", f.Name, fieldNames(f))
			}
			rows, err := f.RowLen()
			if err != nil {
				return nil, false, err
			}
			if rows == 0 {
				return nil, true, nil
			}
			var out []sseNumber
			for i := 0; i < rows; i++ {
				labels := data.Labels{}
				var v float64 = math.NaN()
				for _, fl := range f.Fields {
					if isStringType(fl.Type()) {
						labels[fl.Name] = stringAt(fl, i)
					} else if x, err := fl.NullableFloatAt(i); err == nil && x != nil {
						v = *x
					}
				}
				// reduce of a number is the number itself
				out = append(out, sseNumber{labels: labels, value: v})
			}
			return out, false, nil
		}
	}
	var out []sseNumber
	for _, f := range frames {
		s := f.TimeSeriesSchema()
		if s.Type != data.TimeSeriesTypeWide {
			return nil, false, fmt.Errorf("frame %q is %s: Grafana reduces number tables and wide series only", f.Name, s.Type)
		}
		for _, vi := range s.ValueIndices {
			fl := f.Fields[vi]
			var points []float64
			for i := 0; i < fl.Len(); i++ {
				x, err := fl.NullableFloatAt(i)
				if err != nil || x == nil {
					points = append(points, math.NaN())
				} else {
					points = append(points, *x)
				}
			}
			labels := data.Labels{}
			for k, v := range fl.Labels {
				labels[k] = v
			}
			out = append(out, sseNumber{labels: labels, value: reduce(points)})
		}
	}
	if len(out) == 0 {
		return nil, true, nil
	}
	return out, false, nil
}

// reduceLast is the reducer `last` in strict mode: the last point, NaN when it is null or
// the series is empty.
func reduceLast(points []float64) float64 {
	if len(points) == 0 {
		return math.NaN()
	}
	return points[len(points)-1]
}

// thresholdOf reads the evaluator of a threshold expression.
func thresholdOf(model map[string]any) (string, float64, error) {
	conds, _ := model["conditions"].([]any)
	if len(conds) != 1 {
		return "", 0, errors.New("want exactly one condition")
	}
	ev, _ := conds[0].(map[string]any)["evaluator"].(map[string]any)
	typ, _ := ev["type"].(string)
	params, _ := ev["params"].([]any)
	if len(params) != 1 {
		return "", 0, fmt.Errorf("evaluator %v: want one param", ev)
	}
	var p float64
	switch x := params[0].(type) {
	case int:
		p = float64(x)
	case float64:
		p = x
	default:
		return "", 0, fmt.Errorf("param %v is not a number", params[0])
	}
	switch typ {
	case "gt", "lt":
	default:
		return "", 0, fmt.Errorf("evaluator type %q (this test applies gt and lt)", typ)
	}
	return typ, p, nil
}

// instance is one evaluated alert instance.
type instance struct {
	labels data.Labels
	b      float64 // the reduced value
	firing bool
}

// evaluateRule runs A through the backend as Grafana's scheduler does and applies B and C.
// noData is true when A answered nothing (the rule's noDataState applies).
func evaluateRule(t *testing.T, h *Host, r provisionedRule, now time.Time) (instances []instance, noData bool) {
	t.Helper()
	a, b, c := r.query("A"), r.query("B"), r.query("C")
	if a == nil || b == nil || c == nil {
		t.Fatalf("%s: want the queries A, B and C", r.UID)
	}
	model := jsonRoundTrip(t, a.Model)
	iv := time.Second
	if ms, ok := model["intervalMs"].(float64); ok && ms > 0 {
		iv = time.Duration(ms) * time.Millisecond
	}
	maxDP := int64(43200)
	if v, ok := model["maxDataPoints"].(float64); ok && v > 0 {
		maxDP = int64(v)
	}
	raw, err := json.Marshal(model)
	if err != nil {
		t.Fatal(err)
	}
	q := Query{
		RefID:         "A",
		QueryType:     a.QueryType,
		From:          now.Add(-time.Duration(a.RelativeTimeRange.From) * time.Second),
		To:            now.Add(-time.Duration(a.RelativeTimeRange.To) * time.Second),
		Interval:      iv,
		MaxDataPoints: maxDP,
		RawJSON:       raw,
	}
	// Grafana's alerting asks without a user and marks the request as coming from an alert.
	res := h.QueryData(nil, map[string]string{"FromAlert": "true"}, q)["A"]
	if res == nil {
		t.FailNow()
	}
	if res.Error != "" {
		t.Fatalf("%s: A (%s) answered an error, which is execErrState %s: %s", r.UID, raw, r.ExecErrState, res.Error)
	}
	if b.Model["reducer"] != "last" {
		t.Fatalf("%s: B reducer %v: this test applies `last`", r.UID, b.Model["reducer"])
	}
	nums, noData, err := sseConvert(res.Frames, reduceLast)
	if err != nil {
		t.Fatalf("%s: Grafana's expressions would fail on A's answer: %v%s", r.UID, err, describe(res.Frames))
	}
	typ, param, err := thresholdOf(jsonRoundTrip(t, c.Model))
	if err != nil {
		t.Fatalf("%s: C: %v", r.UID, err)
	}
	seen := map[string]bool{}
	for _, n := range nums {
		key := n.labels.String()
		if seen[key] {
			t.Errorf("%s: two instances with the labels %s: Grafana refuses results it cannot tell apart", r.UID, key)
		}
		seen[key] = true
		fire := false
		switch typ {
		case "gt":
			fire = n.value > param
		case "lt":
			fire = n.value < param
		}
		instances = append(instances, instance{labels: n.labels, b: n.value, firing: fire})
	}
	return instances, noData
}

// ---- annotation templates, as Grafana expands them ----

type tmplValue struct {
	Labels data.Labels
	Value  float64
}

func (v tmplValue) String() string { return fmt.Sprint(v.Value) }

type tmplData struct {
	Labels map[string]string
	Values map[string]tmplValue
	Value  string
}

// Grafana prepends these to every annotation template.
const tmplPrefix = `{{- $labels := .Labels -}}{{- $values := .Values -}}{{- $value := .Value -}}`

func parseAlertTemplate(text string) (*template.Template, error) {
	return template.New("annotation").Option("missingkey=zero").Funcs(template.FuncMap{
		"humanize": func(v any) string { return fmt.Sprint(v) },
	}).Parse(tmplPrefix + text)
}

func expandAnnotation(t testing.TB, text string, in instance) string {
	t.Helper()
	tmpl, err := parseAlertTemplate(text)
	if err != nil {
		t.Fatalf("template: %v", err)
	}
	var b strings.Builder
	d := tmplData{
		Labels: in.labels,
		Values: map[string]tmplValue{"B": {Labels: in.labels, Value: in.b}, "C": {Labels: in.labels, Value: 1}},
		Value:  fmt.Sprint(in.b),
	}
	if err := tmpl.Execute(&b, d); err != nil {
		t.Fatalf("template %q: %v", text, err)
	}
	return b.String()
}

// ---- the rules on the demo store ----

func firingBy(instances []instance, label string) map[string]bool {
	out := map[string]bool{}
	for _, in := range instances {
		if in.firing {
			out[in.labels[label]] = true
		}
	}
	return out
}

func setOf(xs ...string) map[string]bool {
	out := map[string]bool{}
	for _, x := range xs {
		out[x] = true
	}
	return out
}

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func TestAlertRulesOnDemoStore(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	h := demoStore(t, now)
	teams := demoTeams(t, h)
	cadence := map[string]float64{}
	for _, tm := range teams {
		cadence[tm.ID] = tm.CadenceDays
	}
	rules := map[string]provisionedRule{}
	for _, r := range loadAlertRules(t) {
		rules[r.UID] = r
	}
	// tableRows runs one query of the datasource at now (as a dashboard panel would) and
	// returns its rows as maps of field name → value.
	tableRows := func(t *testing.T, queryType string, model map[string]any) []map[string]any {
		t.Helper()
		r := h.Query1(Viewer("vera"), Query{RefID: "X", QueryType: queryType, From: now.Add(-time.Hour), To: now, Model: model})
		if r.Error != "" {
			t.Fatalf("%s: %s", queryType, r.Error)
		}
		var out []map[string]any
		for _, f := range r.Frames {
			for i := 0; i < rowLen(t, f); i++ {
				row := map[string]any{}
				for _, fl := range f.Fields {
					if isStringType(fl.Type()) {
						row[fl.Name] = stringAt(fl, i)
					} else if fl.Type().Numeric() {
						v, _ := floatAt(t, fl, i)
						row[fl.Name] = v
					}
				}
				out = append(out, row)
			}
		}
		return out
	}

	run := func(t *testing.T, uid string) []instance {
		t.Helper()
		r, ok := rules[uid]
		if !ok {
			t.Fatalf("no rule %s in provisioning/alerting/maturity.yaml", uid)
		}
		instances, noData := evaluateRule(t, h, r, now)
		if noData {
			t.Logf("%s: no data (noDataState %s)", uid, r.NoDataState)
		}
		sort.Slice(instances, func(i, j int) bool { return instances[i].labels.String() < instances[j].labels.String() })
		for _, in := range instances {
			if !in.firing {
				continue
			}
			summary := expandAnnotation(t, r.Annotations["summary"], in)
			desc := expandAnnotation(t, r.Annotations["description"], in)
			if strings.Contains(summary+desc, "<no value>") || strings.Contains(summary+desc, "{{") {
				t.Errorf("%s %s: the annotation does not expand: %q / %q", uid, in.labels, summary, desc)
			}
			t.Logf("fires (after %s): %s  B=%.1f  %s", r.For, in.labels, in.b, summary)
		}
		return instances
	}

	t.Run("review lapsed", func(t *testing.T) {
		instances := run(t, "ddm-review-lapsed")
		// What the dashboards show: hours since the last review against each team's cadence.
		want := map[string]bool{}
		for _, row := range tableRows(t, "reviewLapse", map[string]any{"measure": "hoursSinceReview"}) {
			team, _ := row["team"].(string)
			if hours, _ := row["hours_since_review"].(float64); hours > cadence[team]*24 {
				want[team] = true
			}
		}
		got := firingBy(instances, "team")
		if !sameSet(got, want) {
			t.Errorf("fires for %v, want the teams whose last review is older than their cadence: %v", sortedKeys(got), sortedKeys(want))
		}
		// The demo's story: growth reviewed in 5 of 12 weeks and lapsed; checkout reviews weekly.
		if !got["growth"] {
			t.Errorf("the lapsed demo team growth does not fire (firing: %v)", sortedKeys(got))
		}
		if got["checkout"] {
			t.Errorf("the healthy demo team checkout fires")
		}
		if len(instances) != len(teams) {
			t.Errorf("%d instances, want one per team (%d)", len(instances), len(teams))
		}
	})

	t.Run("verification due", func(t *testing.T) {
		instances := run(t, "ddm-verification-due")
		want := map[string]bool{}
		for _, row := range tableRows(t, "targets", nil) {
			if row["status"] == "due" {
				want[row["name"].(string)] = true
			}
		}
		if got := firingBy(instances, "target"); !sameSet(got, want) {
			t.Errorf("fires for targets %v, want those the targets query says are due: %v", sortedKeys(got), sortedKeys(want))
		}
		teamsFiring := firingBy(instances, "team")
		// The demo's identity team let "Login success rate to 99%" pass its deadline unverified.
		if !teamsFiring["identity"] || teamsFiring["checkout"] {
			t.Errorf("fires for teams %v, want identity and not checkout", sortedKeys(teamsFiring))
		}
	})

	t.Run("follow-ups overdue", func(t *testing.T) {
		instances := run(t, "ddm-follow-ups-overdue")
		want := map[string]bool{}
		for _, row := range tableRows(t, "followUps", nil) {
			if row["status"] == "overdue" {
				want[row["id"].(string)] = true
			}
		}
		got := firingBy(instances, "decision")
		if !sameSet(got, want) {
			t.Errorf("fires for decisions %v, want those the followUps query says are overdue: %v", sortedKeys(got), sortedKeys(want))
		}
		teamsFiring := firingBy(instances, "team")
		// platform follows every decision up in the demo.
		if len(got) == 0 || teamsFiring["platform"] {
			t.Errorf("fires for teams %v, want some and not platform", sortedKeys(teamsFiring))
		}
	})

	t.Run("maturity below the floor", func(t *testing.T) {
		instances := run(t, "ddm-maturity-below-floor")
		_, floor, err := thresholdOf(jsonRoundTrip(t, rules["ddm-maturity-below-floor"].query("C").Model))
		if err != nil {
			t.Fatal(err)
		}
		// GET /maturity: the same evaluation through the resource API.
		var levels []struct {
			Team  string  `json:"team"`
			Level float64 `json:"level"`
		}
		h.Must(Viewer("vera"), "GET", "maturity", nil, 200).Decode(t, &levels)
		want := map[string]bool{}
		for _, l := range levels {
			if l.Level < floor {
				want[l.Team] = true
			}
		}
		got := firingBy(instances, "team")
		if !sameSet(got, want) {
			t.Errorf("fires for %v, want the teams GET /maturity puts below %v: %v", sortedKeys(got), floor, sortedKeys(want))
		}
		if !got["onboarding"] || got["checkout"] || got["growth"] {
			t.Errorf("fires for %v, want onboarding (level 0) and neither checkout (7) nor growth (3)", sortedKeys(got))
		}
	})

	t.Run("a store without teams is no data", func(t *testing.T) {
		empty := newHost(t, nil)
		for _, r := range loadAlertRules(t) {
			instances, noData := evaluateRule(t, empty, r, now)
			if !noData || len(instances) != 0 {
				t.Errorf("%s: %d instances on an empty store, want no data (noDataState %s)", r.UID, len(instances), r.NoDataState)
			}
		}
	})
}
