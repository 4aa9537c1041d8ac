package e2e

// The dashboards the plugin ships (dashboards/*.json, listed in plugin.json `includes`) and their
// provisioned copies (provisioning/dashboards/maturity/*.json):
//
//   - TestDashboardsStructure: the rules a dashboard must follow to import on any instance and
//     to be answered by this backend, checked without Grafana: `__inputs`/`__requires`, stable
//     uids, gridPos, datasource refs (`${DS_MATURITY}`, or TestData through the `testdata`
//     variable), every target's refId and queryType known to the query schema
//     (frontend/src/datasource/query.schema.json) with only the schema's fields and values,
//     variables that exist, annotation layers of annotation-shaped query types.
//   - TestDashboardQueries: on the demo store, every panel query and annotation query of every
//     dashboard, resolved as Grafana and the datasource's frontend resolve them (`$team` All →
//     `$__all`, multi-value → a list of ids, repeated panels once per value,
//     `${__dashboard.uid}`), sent as Grafana sends them (one QueryData per panel, the dashboard
//     and panel headers, a signed-in viewer), answers without error, decodes with the Go SDK,
//     is non-empty where the demo has data, and has the fields the panel's transformations name.
//   - TestProvisionedDashboards: each provisioned copy is its source with the datasource fixed
//     to the provisioned uid `maturity` (MATURITY_UPDATE_PROVISIONING=1 rewrites the copies).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/gtime"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// repoPath is a path below the repository root (the suite runs in tests/e2e).
func repoPath(elem ...string) string {
	return filepath.Join(append([]string{"..", ".."}, elem...)...)
}

const (
	dsInputName     = "DS_MATURITY"
	dsInputRef      = "${DS_MATURITY}"
	testdataType    = "grafana-testdata-datasource"
	testdataVarRef  = "${testdata}"
	provisionedUID  = "maturity"
	provisionedDir  = "maturity" // provisioning/dashboards/<this>/
	updateCopiesEnv = "MATURITY_UPDATE_PROVISIONING"
)

// shippedDashboards are the dashboards of dashboards/: file, stable uid and title (the name in
// plugin.json includes).
var shippedDashboards = []struct{ file, uid, title string }{
	{"team-maturity.json", "ddm-team-maturity", "Team maturity"},
	{"review-cadence.json", "ddm-review-cadence", "Review cadence"},
	{"targets.json", "ddm-targets", "Targets"},
	{"service-levels-example.json", "ddm-example-service-levels", "Service levels (example)"},
	{"weekly-review.json", "ddm-weekly-review", "Weekly review"},
}

// panelTypes are the panels the dashboards may use: Grafana's built-in ones and the panel this
// plugin ships (panel/plugin.json).
var panelTypes = map[string]bool{"stat": true, "bargauge": true, "table": true, "timeseries": true, "text": true, "row": true, "datadriven-maturity-panel": true}

// grafanaQueryKeys are the keys Grafana itself puts in a query; the backend ignores them.
var grafanaQueryKeys = map[string]bool{
	"refId": true, "datasource": true, "hide": true, "queryType": true, "key": true,
	"intervalMs": true, "maxDataPoints": true, "datasourceId": true,
}

// annotationQueryTypes are the query types the frontend lets an annotation layer use
// (frontend/src/datasource/DataSource.ts ANNOTATION_QUERY_TYPES): annotation-shaped frames.
var annotationQueryTypes = map[string]bool{"events": true, "levelChanges": true}

// builtinVariables are Grafana's global variables a dashboard may reference.
var builtinVariables = map[string]bool{
	"__dashboard": true, "__all": true, "__from": true, "__to": true, "__interval": true,
	"__interval_ms": true, "__rate_interval": true, "__range": true, "__user": true, "__org": true,
	"__timezone": true, "__field": true, "__series": true, "__value": true, "__data": true,
}

type dashboardFile struct {
	file string
	raw  []byte
	m    map[string]any
}

func (d dashboardFile) uid() string   { s, _ := d.m["uid"].(string); return s }
func (d dashboardFile) title() string { s, _ := d.m["title"].(string); return s }

func loadDashboards(t testing.TB) []dashboardFile {
	t.Helper()
	files, err := filepath.Glob(repoPath("dashboards", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var out []dashboardFile
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: not a JSON object: %v", f, err)
		}
		got = append(got, filepath.Base(f))
		out = append(out, dashboardFile{file: filepath.Base(f), raw: raw, m: m})
	}
	var want []string
	for _, s := range shippedDashboards {
		want = append(want, s.file)
	}
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("dashboards/*.json: %v, want %v (add a new dashboard to shippedDashboards, plugin.json includes and dashboards/README.md)", got, want)
	}
	return out
}

// ---- small JSON accessors ----

func jObj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func jArr(v any) []any          { a, _ := v.([]any); return a }
func jStr(v any) string         { s, _ := v.(string); return s }

// allPanels is every panel of the dashboard, rows' own panels (collapsed rows) included.
func allPanels(d map[string]any) []map[string]any {
	var out []map[string]any
	for _, p := range jArr(d["panels"]) {
		pm := jObj(p)
		out = append(out, pm)
		for _, q := range jArr(pm["panels"]) {
			out = append(out, jObj(q))
		}
	}
	return out
}

func panelLabel(p map[string]any) string {
	return fmt.Sprintf("panel %v %q", p["id"], jStr(p["title"]))
}

// ---- the query schema ----

type querySchema struct {
	defs      map[string]any
	types     map[string]map[string]any // queryType → properties
	alertable map[string]bool           // queryType → x-alertable
}

func loadQuerySchema(t testing.TB) querySchema {
	t.Helper()
	raw, err := os.ReadFile(repoPath("frontend", "src", "datasource", "query.schema.json"))
	if err != nil {
		t.Fatalf("the query schema: %v", err)
	}
	var root map[string]any
	if err := json.Unmarshal(raw, &root); err != nil {
		t.Fatalf("the query schema: %v", err)
	}
	s := querySchema{defs: jObj(root["definitions"]), types: map[string]map[string]any{}, alertable: map[string]bool{}}
	for _, alt := range jArr(root["oneOf"]) {
		def := s.resolve(jObj(alt))
		props := jObj(def["properties"])
		qt := jStr(jObj(props["queryType"])["const"])
		if qt == "" {
			t.Fatalf("the query schema: %v has no queryType const", alt)
		}
		s.types[qt] = props
		s.alertable[qt] = def["x-alertable"] == true
	}
	if len(s.types) == 0 {
		t.Fatal("the query schema names no query type")
	}
	return s
}

func (s querySchema) resolve(p map[string]any) map[string]any {
	for i := 0; i < 8; i++ {
		ref := jStr(p["$ref"])
		if ref == "" {
			return p
		}
		p = jObj(s.defs[strings.TrimPrefix(ref, "#/definitions/")])
	}
	return p
}

// check reports why v is not a value of the property schema p ("" when it is). Strings that
// reference a template variable are not checked against enums (Grafana replaces them first).
func (s querySchema) check(p map[string]any, v any) string {
	p = s.resolve(p)
	if alts := jArr(p["anyOf"]); len(alts) > 0 {
		var why []string
		for _, a := range alts {
			w := s.check(jObj(a), v)
			if w == "" {
				return ""
			}
			why = append(why, w)
		}
		return strings.Join(why, "; or ")
	}
	if c, ok := p["const"]; ok && !reflect.DeepEqual(c, v) {
		return fmt.Sprintf("%v is not %v", v, c)
	}
	switch jStr(p["type"]) {
	case "string":
		str, ok := v.(string)
		if !ok {
			return fmt.Sprintf("%v is not a string", v)
		}
		if enum := jArr(p["enum"]); len(enum) > 0 && !strings.Contains(str, "$") {
			for _, e := range enum {
				if e == str {
					return ""
				}
			}
			return fmt.Sprintf("%q is not one of %v", str, enum)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Sprintf("%v is not a boolean", v)
		}
	case "integer", "number":
		f, ok := v.(float64)
		if !ok {
			return fmt.Sprintf("%v is not a number", v)
		}
		if jStr(p["type"]) == "integer" && f != float64(int64(f)) {
			return fmt.Sprintf("%v is not an integer", v)
		}
		if lo, ok := p["minimum"].(float64); ok && f < lo {
			return fmt.Sprintf("%v is below %v", v, lo)
		}
		if hi, ok := p["maximum"].(float64); ok && f > hi {
			return fmt.Sprintf("%v is above %v", v, hi)
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return fmt.Sprintf("%v is not an array", v)
		}
		items := jObj(p["items"])
		for i, e := range arr {
			if w := s.check(items, e); w != "" {
				return fmt.Sprintf("item %d: %s", i, w)
			}
		}
	}
	return ""
}

// checkTarget checks one target of this datasource against the schema.
func (s querySchema) checkTarget(t testing.TB, where string, q map[string]any) {
	t.Helper()
	qt := jStr(q["queryType"])
	props, ok := s.types[qt]
	if !ok {
		t.Errorf("%s: queryType %q is not a query type of query.schema.json (%v)", where, qt, sortedKeys(s.types))
		return
	}
	for k, v := range q {
		if grafanaQueryKeys[k] {
			continue
		}
		p, ok := props[k]
		if !ok {
			t.Errorf("%s: field %q is not a field of the %s query (query.schema.json: %v)", where, k, qt, sortedKeys(props))
			continue
		}
		if why := s.check(jObj(p), v); why != "" {
			t.Errorf("%s: field %q of the %s query: %s", where, k, qt, why)
		}
	}
}

// ---- variable references ----

var varRefRe = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?:[.:][^}]*)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)(?::[^\]]*)?\]\]`)

// varRefs are the variable names referenced in the strings of v.
func varRefs(v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		for _, m := range varRefRe.FindAllStringSubmatch(x, -1) {
			out = append(out, m[1]+m[2]+m[3])
		}
	case []any:
		for _, e := range x {
			out = append(out, varRefs(e)...)
		}
	case map[string]any:
		for _, e := range x {
			out = append(out, varRefs(e)...)
		}
	}
	return out
}

func isMaturityRef(ds map[string]any) bool {
	return jStr(ds["type"]) == PluginID && jStr(ds["uid"]) == dsInputRef
}

func isTestdataRef(ds map[string]any) bool {
	return jStr(ds["type"]) == testdataType && jStr(ds["uid"]) == testdataVarRef
}

func cargoVersion(t testing.TB) string {
	t.Helper()
	raw, err := os.ReadFile(repoPath("Cargo.toml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^version\s*=\s*"([^"]+)"`).FindSubmatch(raw)
	if m == nil {
		t.Fatal("Cargo.toml: no version")
	}
	return string(m[1])
}

func TestDashboardsStructure(t *testing.T) {
	schema := loadQuerySchema(t)
	dashboards := loadDashboards(t)
	version := cargoVersion(t)

	// plugin.json lists every dashboard, and every include exists.
	rawPlugin, err := os.ReadFile(repoPath("plugin.json"))
	if err != nil {
		t.Fatal(err)
	}
	var plugin map[string]any
	if err := json.Unmarshal(rawPlugin, &plugin); err != nil {
		t.Fatalf("plugin.json: %v", err)
	}
	includes := map[string]map[string]any{}
	for _, inc := range jArr(plugin["includes"]) {
		im := jObj(inc)
		path := jStr(im["path"])
		includes[path] = im
		if _, err := os.Stat(repoPath(filepath.FromSlash(path))); err != nil {
			t.Errorf("plugin.json includes %q: %v", path, err)
		}
	}
	info := jObj(plugin["info"])
	for _, l := range jArr(info["links"]) {
		if u := jStr(jObj(l)["url"]); !strings.HasPrefix(u, "https://") {
			t.Errorf("plugin.json info.links: %q is not an absolute https URL (Grafana's catalog cannot follow relative links)", u)
		}
	}
	for _, s := range jArr(info["screenshots"]) {
		path := jStr(jObj(s)["path"])
		if strings.HasPrefix(path, "/") || strings.Contains(path, "..") || jStr(jObj(s)["name"]) == "" {
			t.Errorf("plugin.json info.screenshots: %v: want a name and a path relative to the plugin folder", s)
		}
		if _, err := os.Stat(repoPath(filepath.FromSlash(path))); err != nil {
			t.Errorf("plugin.json info.screenshots %q: %v", path, err)
		}
	}

	uids := map[string]string{}
	for _, d := range dashboards {
		want := shippedDashboards[indexOfDashboard(d.file)]
		t.Run(d.file, func(t *testing.T) {
			m := d.m
			if d.uid() != want.uid {
				t.Errorf("uid %q, want the stable %q (links, alert rules and imports rely on it)", d.uid(), want.uid)
			}
			if other, dup := uids[d.uid()]; dup {
				t.Errorf("uid %q also used by %s", d.uid(), other)
			}
			uids[d.uid()] = d.file
			if len(d.uid()) > 40 {
				t.Errorf("uid %q is longer than Grafana's 40 characters", d.uid())
			}
			if d.title() != want.title {
				t.Errorf("title %q, want %q", d.title(), want.title)
			}
			inc := includes["dashboards/"+d.file]
			if inc == nil {
				t.Errorf("plugin.json includes no dashboard with path %q", "dashboards/"+d.file)
			} else if jStr(inc["type"]) != "dashboard" || jStr(inc["name"]) != d.title() || inc["addToNav"] != false {
				t.Errorf("plugin.json include %v: want type dashboard, name %q, addToNav false", inc, d.title())
			}
			if v, _ := m["schemaVersion"].(float64); v < 39 || v > 42 {
				t.Errorf("schemaVersion %v: want one of Grafana 11/12 (39 to 42)", m["schemaVersion"])
			}
			if m["id"] != nil {
				t.Errorf("id %v: an importable dashboard has id null", m["id"])
			}
			for _, k := range []string{"time", "templating", "annotations", "panels", "tags"} {
				if m[k] == nil {
					t.Errorf("no %q", k)
				}
			}

			// __inputs: exactly the datasource input. Grafana's "Import" of a plugin's dashboard
			// answers every datasource input with the plugin's datasource (input name "*"), so a
			// second datasource input would point at this datasource too.
			inputs := jArr(m["__inputs"])
			if len(inputs) != 1 {
				t.Errorf("__inputs %v: want exactly the %s input", inputs, dsInputName)
			} else {
				in := jObj(inputs[0])
				if jStr(in["name"]) != dsInputName || jStr(in["type"]) != "datasource" || jStr(in["pluginId"]) != PluginID || jStr(in["label"]) == "" {
					t.Errorf("__inputs[0] %v: want name %s, type datasource, pluginId %s and a label", in, dsInputName, PluginID)
				}
			}
			if !bytes.Contains(d.raw, []byte(dsInputRef)) {
				t.Errorf("the dashboard never uses %s", dsInputRef)
			}

			// __requires: Grafana, this datasource at the crate's version, every panel type used.
			reqs := map[string]map[string]any{}
			for _, r := range jArr(m["__requires"]) {
				rm := jObj(r)
				reqs[jStr(rm["type"])+"/"+jStr(rm["id"])] = rm
			}
			if reqs["grafana/grafana"] == nil {
				t.Errorf("__requires names no Grafana version")
			}
			if r := reqs["datasource/"+PluginID]; r == nil || jStr(r["version"]) != version {
				t.Errorf("__requires %v: want datasource %s version %s (Cargo.toml)", r, PluginID, version)
			}

			variables := map[string]map[string]any{}
			for _, v := range jArr(jObj(m["templating"])["list"]) {
				vm := jObj(v)
				name := jStr(vm["name"])
				if name == "" || variables[name] != nil {
					t.Errorf("variable %v: no name, or a name used twice", vm)
				}
				variables[name] = vm
				switch jStr(vm["type"]) {
				case "query":
					if !isMaturityRef(jObj(vm["datasource"])) {
						t.Errorf("variable %s: datasource %v, want {type: %s, uid: %s}", name, vm["datasource"], PluginID, dsInputRef)
					}
					q := jObj(vm["query"])
					if kind := jStr(q["variable"]); kind != "teams" && kind != "dashboards" {
						t.Errorf("variable %s: query %v, want the frontend's {variable: teams|dashboards}", name, vm["query"])
					}
					for k := range q {
						if k != "variable" && k != "team" && k != "refId" {
							t.Errorf("variable %s: query key %q is not one of the frontend's variable query (variable, team)", name, k)
						}
					}
				case "datasource":
					if jStr(vm["query"]) != testdataType || name != "testdata" {
						t.Errorf("variable %s: a datasource variable is only the example's `testdata` (query %s)", name, testdataType)
					}
				default:
					t.Errorf("variable %s: type %q", name, vm["type"])
				}
				if vm["includeAll"] == true {
					if vm["multi"] != true {
						t.Errorf("variable %s: includeAll without multi", name)
					}
					if av := jStr(vm["allValue"]); av != "" {
						t.Errorf("variable %s: allValue %q; leave it unset so that All reaches the backend as $__all (every team, also teams added later)", name, av)
					}
				}
			}
			requireVars := func(where string, v any) {
				t.Helper()
				for _, name := range varRefs(v) {
					if name == dsInputName || builtinVariables[name] {
						continue
					}
					if variables[name] == nil {
						t.Errorf("%s: references $%s, which is no variable of the dashboard", where, name)
					}
				}
			}
			for name, vm := range variables {
				requireVars("variable "+name, vm["query"])
			}

			// Annotations: the built-in layer, or this datasource with an annotation-shaped query.
			for _, a := range jArr(jObj(m["annotations"])["list"]) {
				am := jObj(a)
				where := fmt.Sprintf("annotation %q", jStr(am["name"]))
				ds := jObj(am["datasource"])
				if am["builtIn"] != nil {
					if jStr(ds["type"]) != "grafana" {
						t.Errorf("%s: built-in layer with datasource %v", where, ds)
					}
					continue
				}
				if !isMaturityRef(ds) {
					t.Errorf("%s: datasource %v, want {type: %s, uid: %s}", where, ds, PluginID, dsInputRef)
					continue
				}
				if jStr(am["iconColor"]) == "" || am["enable"] == nil {
					t.Errorf("%s: want iconColor and enable", where)
				}
				tg := jObj(am["target"])
				if tg == nil {
					t.Errorf("%s: no target (the frontend's annotation support reads the query from `target`)", where)
					continue
				}
				if jStr(tg["refId"]) == "" {
					t.Errorf("%s: target without refId", where)
				}
				if !annotationQueryTypes[jStr(tg["queryType"])] {
					t.Errorf("%s: queryType %q is not annotation-shaped (%v)", where, tg["queryType"], sortedKeys(annotationQueryTypes))
				}
				schema.checkTarget(t, where, tg)
				requireVars(where, tg)
				panelIDs := map[float64]bool{}
				for _, p := range allPanels(m) {
					id, _ := p["id"].(float64)
					panelIDs[id] = true
				}
				for _, id := range jArr(jObj(am["filter"])["ids"]) {
					if f, _ := id.(float64); !panelIDs[f] {
						t.Errorf("%s: filter names panel %v, which does not exist", where, id)
					}
				}
			}

			// Panels.
			ids := map[float64]bool{}
			type rect struct{ x, y, w, h float64 }
			var rects []rect
			var rectOwners []string
			for _, p := range allPanels(m) {
				where := panelLabel(p)
				typ := jStr(p["type"])
				if !panelTypes[typ] {
					t.Errorf("%s: type %q is not one of Grafana's built-in panels used here %v", where, typ, sortedKeys(panelTypes))
				}
				id, ok := p["id"].(float64)
				if !ok || ids[id] {
					t.Errorf("%s: no id, or an id used twice", where)
				}
				ids[id] = true
				if jStr(p["title"]) == "" {
					t.Errorf("%s: no title", where)
				}
				gp := jObj(p["gridPos"])
				x, xok := gp["x"].(float64)
				y, yok := gp["y"].(float64)
				w, wok := gp["w"].(float64)
				h, hok := gp["h"].(float64)
				if !xok || !yok || !wok || !hok || w <= 0 || h <= 0 || x < 0 || y < 0 || x+w > 24 {
					t.Errorf("%s: gridPos %v: want x, y, w, h inside Grafana's 24 columns", where, p["gridPos"])
				} else {
					r := rect{x, y, w, h}
					for i, o := range rects {
						if r.x < o.x+o.w && o.x < r.x+r.w && r.y < o.y+o.h && o.y < r.y+r.h {
							t.Errorf("%s: gridPos %v overlaps %s", where, p["gridPos"], rectOwners[i])
						}
					}
					rects = append(rects, r)
					rectOwners = append(rectOwners, where)
				}
				requireVars(where+" title", p["title"])
				if rep := jStr(p["repeat"]); rep != "" {
					if v := variables[rep]; v == nil || v["multi"] != true {
						t.Errorf("%s: repeats over %q, which is no multi-value variable", where, rep)
					}
				}
				if typ == "row" || typ == "text" {
					if len(jArr(p["targets"])) > 0 {
						t.Errorf("%s: a %s panel has no queries", where, typ)
					}
					continue
				}
				if fcfg := jObj(p["fieldConfig"]); fcfg == nil || jObj(fcfg["defaults"]) == nil || fcfg["overrides"] == nil {
					t.Errorf("%s: fieldConfig needs defaults and overrides", where)
				}
				pds := jObj(p["datasource"])
				if !isMaturityRef(pds) && !isTestdataRef(pds) {
					t.Errorf("%s: datasource %v, want {type: %s, uid: %s} or {type: %s, uid: %s}", where, pds, PluginID, dsInputRef, testdataType, testdataVarRef)
				}
				if isTestdataRef(pds) && variables["testdata"] == nil {
					t.Errorf("%s: uses %s but the dashboard has no `testdata` variable", where, testdataVarRef)
				}
				targets := jArr(p["targets"])
				if len(targets) == 0 {
					t.Errorf("%s: no targets", where)
				}
				refIDs := map[string]bool{}
				for _, tg := range targets {
					tm := jObj(tg)
					ref := jStr(tm["refId"])
					tw := fmt.Sprintf("%s target %s", where, ref)
					if ref == "" || refIDs[ref] {
						t.Errorf("%s: no refId, or a refId used twice", tw)
					}
					refIDs[ref] = true
					tds := jObj(tm["datasource"])
					if tds == nil {
						tds = pds
					}
					if !reflect.DeepEqual(tds, pds) {
						t.Errorf("%s: datasource %v differs from the panel's %v (no mixed panels)", tw, tds, pds)
					}
					requireVars(tw, tm)
					if isMaturityRef(tds) {
						schema.checkTarget(t, tw, tm)
					} else if jStr(tm["scenarioId"]) == "" {
						t.Errorf("%s: a TestData target needs a scenarioId", tw)
					}
				}
			}
		})
	}
}

func indexOfDashboard(file string) int {
	for i, s := range shippedDashboards {
		if s.file == file {
			return i
		}
	}
	return 0
}

// ---- resolving a dashboard as Grafana and the datasource's frontend do ----

// demoTeam is a team of the demo store as GET /teams answers it.
type demoTeam struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Dashboards  []string `json:"dashboards"`
	CadenceDays float64  `json:"cadenceDays"`
}

// demoStore writes the demo data set (`maturity demo`, seed 1) into a fresh store with its
// "now" at now, and returns a host of the shared plugin on it.
func demoStore(t *testing.T, now time.Time) *Host {
	t.Helper()
	cli := cliBinary(t)
	db := storePath(t, NewUID("demo"))
	out, err := exec.Command(cli, "--db", db, "demo", "--seed", "1", "--now", now.UTC().Format(time.RFC3339)).CombinedOutput()
	if err != nil {
		t.Fatalf("%s demo: %v\n%s", cli, err, out)
	}
	return newHost(t, map[string]any{"databasePath": db})
}

// cliBinary is the `maturity` command-line tool: MATURITY_CLI_BIN, else next to the plugin
// binary, else cargo's release build.
func cliBinary(t testing.TB) string {
	t.Helper()
	candidates := []string{os.Getenv("MATURITY_CLI_BIN"), filepath.Join(filepath.Dir(BinaryPath()), "maturity"), repoPath("target", "release", "maturity")}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c
		}
	}
	t.Fatalf("no `maturity` command-line tool (looked at %v): `cargo build --release` builds it, or set MATURITY_CLI_BIN", candidates)
	return ""
}

func demoTeams(t testing.TB, h *Host) []demoTeam {
	t.Helper()
	var teams []demoTeam
	h.Must(Viewer("vera"), "GET", "teams", nil, 200).Decode(t, &teams)
	if len(teams) == 0 {
		t.Fatal("the demo store has no team")
	}
	return teams
}

// varState is the current value of the dashboard's variables: the values and whether All is
// selected.
type varState struct {
	values map[string][]string
	all    map[string]bool
}

func (s varState) with(name, value string) varState {
	c := varState{values: map[string][]string{}, all: map[string]bool{}}
	for k, v := range s.values {
		c.values[k] = v
	}
	for k, v := range s.all {
		c.all[k] = v
	}
	c.values[name] = []string{value}
	c.all[name] = false
	return c
}

var wholeVarRe = regexp.MustCompile(`^\s*(?:\$([A-Za-z0-9_]+)|\$\{([A-Za-z0-9_]+)(?::[\w-]+)?\}|\[\[([A-Za-z0-9_]+)(?::[\w-]+)?\]\])\s*$`)

// replaceVars is Grafana's templateSrv.replace for a single value per variable (a multi-value
// variable in a plain string takes Grafana's default glob format {a,b}).
func replaceVars(s string, dashUID string, st varState) string {
	return varRefRe.ReplaceAllStringFunc(s, func(ref string) string {
		m := varRefRe.FindStringSubmatch(ref)
		name := m[1] + m[2] + m[3]
		if name == "__dashboard" {
			return dashUID
		}
		vals, ok := st.values[name]
		if !ok {
			return ref
		}
		if len(vals) == 1 {
			return vals[0]
		}
		return "{" + strings.Join(vals, ",") + "}"
	})
}

// resolveQuery is the frontend's interpolateQuery (frontend/src/datasource/interpolate.ts):
// `team` becomes one id, a list of ids, or `$__all` when its variable is set to All;
// dashboardUid and targetId are replaced; tags and kinds are interpolated as lists.
func resolveQuery(q map[string]any, dashUID string, st varState) map[string]any {
	out := map[string]any{}
	for k, v := range q {
		out[k] = v
	}
	list := func(item string) []string {
		m := wholeVarRe.FindStringSubmatch(item)
		if m == nil {
			return []string{replaceVars(item, dashUID, st)}
		}
		name := m[1] + m[2] + m[3]
		if vals, ok := st.values[name]; ok {
			return vals
		}
		return []string{replaceVars(item, dashUID, st)}
	}
	var items []string
	switch team := q["team"].(type) {
	case string:
		items = []string{team}
	case []any:
		for _, e := range team {
			items = append(items, jStr(e))
		}
	}
	if items != nil {
		var ids []string
		all := false
		for _, item := range items {
			if m := wholeVarRe.FindStringSubmatch(item); m != nil && st.all[m[1]+m[2]+m[3]] {
				all = true
				break
			}
			for _, id := range list(item) {
				if id = strings.TrimSpace(id); id != "" && indexOf(ids, id) < 0 {
					ids = append(ids, id)
				}
			}
		}
		switch {
		case all || indexOf(ids, "$__all") >= 0:
			out["team"] = "$__all"
		case len(ids) == 0:
			delete(out, "team")
		case len(ids) == 1:
			out["team"] = ids[0]
		default:
			out["team"] = ids
		}
	}
	for _, k := range []string{"dashboardUid", "targetId"} {
		if s, ok := q[k].(string); ok {
			out[k] = replaceVars(s, dashUID, st)
		}
	}
	for _, k := range []string{"tags", "kinds"} {
		if arr, ok := q[k].([]any); ok {
			var vals []any
			for _, e := range arr {
				for _, v := range list(jStr(e)) {
					if v != "" {
						vals = append(vals, v)
					}
				}
			}
			out[k] = vals
		}
	}
	return out
}

// incomplete is the frontend's missingPart: queries it holds back instead of sending.
func incomplete(q map[string]any) bool {
	if jStr(q["queryType"]) == "targetSeries" && jStr(q["targetId"]) == "" {
		switch team := q["team"].(type) {
		case string:
			return team == ""
		case []any:
			return len(team) == 0
		case []string:
			return len(team) == 0
		default:
			return true
		}
	}
	return false
}

// dashboardRange is the dashboard's time range (or the panel's relative time) against now.
func dashboardRange(t testing.TB, d map[string]any, p map[string]any, now time.Time) (time.Time, time.Time) {
	t.Helper()
	tm := jObj(d["time"])
	from, to := jStr(tm["from"]), jStr(tm["to"])
	if rel := jStr(p["timeFrom"]); rel != "" {
		from, to = "now-"+rel, "now"
	}
	tr := gtime.TimeRange{From: from, To: to, Now: now}
	f, err := tr.ParseFrom()
	if err != nil {
		t.Fatalf("time.from %q: %v", from, err)
	}
	u, err := tr.ParseTo()
	if err != nil {
		t.Fatalf("time.to %q: %v", to, err)
	}
	return f, u
}

// grafanaInterval is roughly the interval Grafana gives a panel of about 1,000 pixels: the range
// over its max data points, at least a second.
func grafanaInterval(from, to time.Time, maxDataPoints int64) time.Duration {
	iv := to.Sub(from) / time.Duration(maxDataPoints)
	if iv < time.Second {
		iv = time.Second
	}
	return iv.Truncate(time.Second)
}

// dashQuery turns a resolved target into the QueryData query Grafana sends.
func dashQuery(t testing.TB, model map[string]any, from, to time.Time, dsUID string) Query {
	t.Helper()
	maxDP := int64(1000)
	if v, ok := model["maxDataPoints"].(float64); ok && v > 0 {
		maxDP = int64(v)
	}
	iv := grafanaInterval(from, to, maxDP)
	m := map[string]any{}
	for k, v := range model {
		m[k] = v
	}
	m["datasource"] = map[string]any{"type": PluginID, "uid": dsUID}
	m["intervalMs"] = iv.Milliseconds()
	m["maxDataPoints"] = maxDP
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return Query{RefID: jStr(model["refId"]), QueryType: jStr(model["queryType"]), From: from, To: to, Interval: iv, MaxDataPoints: maxDP, RawJSON: raw}
}

// frameRows counts the rows of the frames that hold more than time (a wide series of no team
// is only its time steps: no data).
func frameRows(t testing.TB, frames []*data.Frame) int {
	t.Helper()
	n := 0
	for _, f := range frames {
		for _, fl := range f.Fields {
			if !fl.Type().Time() {
				n += rowLen(t, f)
				break
			}
		}
	}
	return n
}

// mayBeEmpty are the queries whose answer is empty on the demo store by design, and why.
// The key is "<dashboard uid>/<panel title or annotation name>".
var mayBeEmpty = map[string]string{
	"ddm-example-service-levels/Reviews and decisions": "the demo records no evidence on the example dashboard's own uid; the layer shows what a team records there",
}

// selection is one state of the dashboard's variables a test run uses.
type selection struct {
	name string
	// team: nil = All.
	team []string
	// requireData: every query of the dashboard must answer rows (unless mayBeEmpty).
	requireData bool
}

func TestDashboardQueries(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	h := demoStore(t, now)
	teams := demoTeams(t, h)
	teamIDs := make([]string, len(teams))
	for i, tm := range teams {
		teamIDs[i] = tm.ID
	}
	dashboardsOf := func(ids []string) []string {
		var out []string
		for _, tm := range teams {
			if indexOf(ids, tm.ID) >= 0 {
				for _, d := range tm.Dashboards {
					if indexOf(out, d) < 0 {
						out = append(out, d)
					}
				}
			}
		}
		return out
	}
	// growth lapsed its reviews in the demo; payments and identity are two teams of a
	// multi-value selection.
	selections := []selection{
		{name: "All", team: nil, requireData: true},
		{name: "one team", team: []string{"growth"}},
		{name: "two teams", team: []string{"payments", "identity"}},
	}
	for _, sel := range selections {
		for _, id := range sel.team {
			if indexOf(teamIDs, id) < 0 {
				t.Fatalf("the demo has no team %q (teams: %v)", id, teamIDs)
			}
		}
	}

	for _, d := range loadDashboards(t) {
		t.Run(d.file, func(t *testing.T) {
			variables := map[string]map[string]any{}
			for _, v := range jArr(jObj(d.m["templating"])["list"]) {
				variables[jStr(jObj(v)["name"])] = jObj(v)
			}
			for _, sel := range selections {
				t.Run(sel.name, func(t *testing.T) {
					st := varState{values: map[string][]string{}, all: map[string]bool{}}
					if tv := variables["team"]; tv != nil {
						switch {
						case tv["multi"] != true && sel.team == nil:
							// A single-value variable without All: Grafana selects the first team.
							st.values["team"] = []string{teamIDs[0]}
						case tv["multi"] != true:
							st.values["team"] = sel.team[:1]
						case sel.team == nil:
							st.values["team"], st.all["team"] = teamIDs, true
						default:
							st.values["team"] = sel.team
						}
					}
					if dv := variables["dashboard"]; dv != nil {
						// {"variable":"dashboards","team":"$team"}: the dashboards of the selected teams, All selected.
						st.values["dashboard"], st.all["dashboard"] = dashboardsOf(st.values["team"]), true
					}
					runDashboard(t, h, d, st, now, sel.requireData)
				})
			}
		})
	}
}

// runDashboard sends every query of the dashboard, one QueryData per panel (per repetition
// of a repeated panel) and one per annotation layer, as Grafana does.
func runDashboard(t *testing.T, h *Host, d dashboardFile, st varState, now time.Time, requireData bool) {
	viewer := Viewer("vera")
	for _, p := range allPanels(d.m) {
		if !isMaturityRef(jObj(p["datasource"])) {
			continue
		}
		title := jStr(p["title"])
		states := []varState{st}
		if rep := jStr(p["repeat"]); rep != "" {
			states = nil
			for _, v := range st.values[rep] {
				states = append(states, st.with(rep, v))
			}
			if len(states) == 0 {
				t.Errorf("%s: repeats over $%s, which has no value", panelLabel(p), rep)
			}
		}
		rows := 0
		for _, pst := range states {
			from, to := dashboardRange(t, d.m, p, now)
			var queries []Query
			for _, tg := range jArr(p["targets"]) {
				tm := jObj(tg)
				if tm["hide"] == true {
					continue
				}
				model := resolveQuery(tm, d.uid(), pst)
				if incomplete(model) {
					t.Errorf("%s: target %s %v would be held back by the frontend as incomplete", panelLabel(p), tm["refId"], model)
					continue
				}
				queries = append(queries, dashQuery(t, model, from, to, h.DS.UID))
			}
			headers := map[string]string{"http_X-Dashboard-Uid": d.uid(), "http_X-Panel-Id": fmt.Sprint(p["id"])}
			res := h.QueryData(viewer, headers, queries...)
			var frames []*data.Frame
			for _, q := range queries {
				r := res[q.RefID]
				if r == nil {
					continue
				}
				if r.Error != "" {
					t.Errorf("%s target %s (%s): error %q", panelLabel(p), q.RefID, q.RawJSON, r.Error)
					continue
				}
				// No frame is an empty answer too (targetSeries of a team without targets).
				frames = append(frames, r.Frames...)
				rows += frameRows(t, r.Frames)
			}
			checkTransformations(t, p, frames)
		}
		if requireData && rows == 0 {
			if why, ok := mayBeEmpty[d.uid()+"/"+title]; ok {
				t.Logf("%s: no rows (%s)", panelLabel(p), why)
			} else {
				t.Errorf("%s: no rows on the demo store with every team selected", panelLabel(p))
			}
		}
	}

	for _, a := range jArr(jObj(d.m["annotations"])["list"]) {
		am := jObj(a)
		if !isMaturityRef(jObj(am["datasource"])) {
			continue
		}
		name := jStr(am["name"])
		from, to := dashboardRange(t, d.m, nil, now)
		model := resolveQuery(jObj(am["target"]), d.uid(), st)
		if model["refId"] == nil {
			model["refId"] = "Anno"
		}
		q := dashQuery(t, model, from, to, h.DS.UID)
		// Grafana's annotation queries carry the dashboard but no panel.
		r := h.QueryData(viewer, map[string]string{"http_X-Dashboard-Uid": d.uid()}, q)[q.RefID]
		if r == nil {
			continue
		}
		if r.Error != "" {
			t.Errorf("annotation %q (%s): error %q", name, q.RawJSON, r.Error)
			continue
		}
		if len(r.Frames) != 1 {
			t.Errorf("annotation %q: %d frames, want one annotation table:%s", name, len(r.Frames), describe(r.Frames))
			continue
		}
		checkFields(t, r.Frames[0], annotationFields...)
		if requireData && frameRows(t, r.Frames) == 0 {
			if why, ok := mayBeEmpty[d.uid()+"/"+name]; ok {
				t.Logf("annotation %q: no rows (%s)", name, why)
			} else {
				t.Errorf("annotation %q (%s): no rows on the demo store with every team selected", name, q.RawJSON)
			}
		}
	}
}

// checkTransformations follows the field names through the panel's transformations (merge,
// filterByValue, groupBy, organize) and fails for every name a transformation or a byName
// override names that the frames do not have: a renamed field in the backend would otherwise
// leave a silently empty column.
func checkTransformations(t *testing.T, p map[string]any, frames []*data.Frame) {
	t.Helper()
	names := map[string]bool{}
	for _, f := range frames {
		for _, fl := range f.Fields {
			names[fl.Name] = true
		}
	}
	if len(names) == 0 {
		return
	}
	need := func(step, name string) {
		if !names[name] {
			t.Errorf("%s: %s names field %q; the fields are %v", panelLabel(p), step, name, sortedKeys(names))
		}
	}
	for _, tr := range jArr(p["transformations"]) {
		tm := jObj(tr)
		id := jStr(tm["id"])
		opts := jObj(tm["options"])
		switch id {
		case "merge":
		case "filterByValue":
			for _, f := range jArr(opts["filters"]) {
				need(id, jStr(jObj(f)["fieldName"]))
			}
		case "groupBy":
			next := map[string]bool{}
			for name, cfg := range jObj(opts["fields"]) {
				need(id, name)
				c := jObj(cfg)
				switch jStr(c["operation"]) {
				case "groupby":
					next[name] = true
				case "aggregate":
					for _, calc := range jArr(c["aggregations"]) {
						next[fmt.Sprintf("%s (%s)", name, jStr(calc))] = true
					}
				}
			}
			names = next
		case "organize":
			for _, k := range []string{"excludeByName", "indexByName", "renameByName"} {
				for name := range jObj(opts[k]) {
					need(id+" "+k, name)
				}
			}
			next := map[string]bool{}
			for name := range names {
				if jObj(opts["excludeByName"])[name] == true {
					continue
				}
				if to := jStr(jObj(opts["renameByName"])[name]); to != "" {
					next[to] = true
				} else {
					next[name] = true
				}
			}
			names = next
		default:
			t.Errorf("%s: transformation %q is not one this test follows (merge, filterByValue, groupBy, organize)", panelLabel(p), id)
			return
		}
	}
	for _, o := range jArr(jObj(p["fieldConfig"])["overrides"]) {
		matcher := jObj(jObj(o)["matcher"])
		if jStr(matcher["id"]) == "byName" {
			need("override", jStr(matcher["options"]))
		}
	}
	if sb := jArr(jObj(p["options"])["sortBy"]); len(sb) > 0 {
		for _, s := range sb {
			need("sortBy", jStr(jObj(s)["displayName"]))
		}
	}
}

// ---- provisioned copies ----

// provisionedCopy is the dashboard as the file provider loads it: no `__inputs`/`__requires`
// (only an import evaluates them) and every `${DS_MATURITY}` replaced by the provisioned uid.
func provisionedCopy(t testing.TB, raw []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "__inputs")
	delete(m, "__requires")
	var fix func(v any) any
	fix = func(v any) any {
		switch x := v.(type) {
		case string:
			return strings.ReplaceAll(x, dsInputRef, provisionedUID)
		case []any:
			for i := range x {
				x[i] = fix(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = fix(x[k])
			}
		}
		return v
	}
	fix(m)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestProvisionedDashboards(t *testing.T) {
	dir := repoPath("provisioning", "dashboards", provisionedDir)
	update := os.Getenv(updateCopiesEnv) != ""
	dashboards := loadDashboards(t)
	want := map[string]bool{}
	for _, d := range dashboards {
		want[d.file] = true
		copyBytes := provisionedCopy(t, d.raw)
		path := filepath.Join(dir, d.file)
		if update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, copyBytes, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", path)
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (%s=1 writes the provisioned copies)", path, err, updateCopiesEnv)
			continue
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		_ = json.Unmarshal(copyBytes, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s differs from dashboards/%s with the datasource fixed to uid %q; run `%s=1 tests/e2e/run.sh -run TestProvisionedDashboards` after changing a dashboard", path, d.file, provisionedUID, updateCopiesEnv)
		}
		if bytes.Contains(got, []byte("${DS_")) {
			t.Errorf("%s: still holds a ${DS_…} input, which the file provider does not replace", path)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !want[e.Name()] {
			t.Errorf("%s: %s is no dashboard of dashboards/ (remove it)", dir, e.Name())
		}
	}
}
