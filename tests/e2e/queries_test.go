package e2e

import (
	"fmt"
	"math"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// requiredQueryTypes must be answered by the binary now; the other SPEC §4.1 types are
// skipped while the binary says it does not know them.
var requiredQueryTypes = map[string]bool{"events": true, "teams": true, "reviewActivity": true, "reviewLapse": true}

// notImplemented tells an "unknown queryType" answer.
func notImplemented(r *Result) bool {
	e := strings.ToLower(r.Error)
	return strings.Contains(e, "unknown") && (strings.Contains(e, "querytype") || strings.Contains(e, "query type"))
}

// answeredOrSkip skips the test when the binary does not know the query type yet (unless it
// is required) and fails it on any other error.
func answeredOrSkip(t *testing.T, queryType string, r *Result) {
	t.Helper()
	if r.Error == "" {
		return
	}
	if notImplemented(r) && !requiredQueryTypes[queryType] {
		t.Skipf("queryType %q is not answered by this binary yet: %s", queryType, r.Error)
	}
	t.Fatalf("queryType %q, refId %s: error %q", queryType, r.RefID, r.Error)
}

// queryCase is one row of the query table: adding a query type (or a variant) is one entry.
type queryCase struct {
	name      string // subtest name; defaults to queryType
	queryType string
	model     map[string]any
	refID     string        // defaults to "A"
	span      time.Duration // the time range is [T − span, T]; defaults to the fixture's 14 days
	check     func(t *testing.T, q *queryEnv, r *Result)
}

type queryEnv struct {
	h *Host
	f fixture
}

var queryCases = []queryCase{
	{queryType: "teams", check: checkTeams},
	{name: "events/reviews of payments", queryType: "events", model: map[string]any{"kinds": []string{"review"}, "team": "payments"}, check: checkEventsReviews},
	{name: "events/all in range", queryType: "events", check: checkEventsAll},
	{name: "events/annotation query (refId Anno) bounded by its range", queryType: "events", refID: "Anno", span: 36 * time.Hour, check: checkEventsAnno},
	{name: "events/one dashboard", queryType: "events", model: map[string]any{"dashboardUid": "slo-payments"}, check: checkEventsDashboard},
	{queryType: "reviewActivity", check: checkReviewActivity},
	{name: "reviewLapse/hoursSinceReview", queryType: "reviewLapse", check: checkReviewLapse("hours_since_review", false)},
	{name: "reviewLapse/hoursSinceReview explicit", queryType: "reviewLapse", model: map[string]any{"measure": "hoursSinceReview"}, check: checkReviewLapse("hours_since_review", false)},
	{name: "reviewLapse/hoursOverdue", queryType: "reviewLapse", model: map[string]any{"measure": "hoursOverdue"}, check: checkReviewLapse("hours_overdue", false)},
	{name: "reviewLapse/perDashboard", queryType: "reviewLapse", model: map[string]any{"perDashboard": true}, check: checkReviewLapse("hours_since_review", true)},
	{name: "reviewLapse/perDashboard hoursOverdue", queryType: "reviewLapse", model: map[string]any{"perDashboard": true, "measure": "hoursOverdue"}, check: checkReviewLapse("hours_overdue", true)},
	{queryType: "maturity", check: checkMaturity},
	{queryType: "criteria", check: checkCriteria},
	{queryType: "maturityHistory", check: checkMaturityHistory},
	{queryType: "levelChanges", check: checkLevelChanges},
	{queryType: "targets", check: checkTargets},
	{name: "targets/status=due", queryType: "targets", model: map[string]any{"status": "due"}, check: checkIDs("id", "latency")},
	{queryType: "targetSeries", model: map[string]any{"targetId": "conv"}, check: checkTargetSeries},
	{name: "targetSeries/by team", queryType: "targetSeries", model: map[string]any{"team": "payments"}, check: checkTargetSeries},
	{queryType: "followUps", check: checkFollowUps},
	{name: "followUps/status=overdue", queryType: "followUps", model: map[string]any{"status": "overdue"}, check: checkIDs("id", "d-1")},
	{queryType: "followUpsOverdue", check: checkFollowUpsOverdue},
	{queryType: "verificationDue", check: checkVerificationDue},
	{queryType: "reviewAgenda", check: checkReviewAgenda},
}

// Every query type of SPEC §4.1 over one fixture: frames decode with the Go SDK and have
// the names, types and numbers the SPEC gives.
func TestQueryTypes(t *testing.T) {
	h := newHost(t, nil)
	f := seedFixture(t, h)
	for _, c := range queryCases {
		name := c.name
		if name == "" {
			name = c.queryType
		}
		t.Run(name, func(t *testing.T) {
			env := &queryEnv{h: h.With(t), f: f}
			q := f.query(c.refID, c.queryType, c.model)
			if c.refID == "" {
				q.RefID = "A"
			}
			if c.span != 0 {
				q.From = f.T.Add(-c.span)
			}
			r := env.h.Query1(Viewer("vera"), q)
			answeredOrSkip(t, c.queryType, r)
			c.check(t, env, r)
		})
	}
}

func checkTeams(t *testing.T, _ *queryEnv, r *Result) {
	fr := oneFrame(t, r)
	if len(fr.Fields) != 1 || !checkFields(t, fr, fieldSpec{"team", kString}) {
		t.Fatalf("teams: want one string field `team`:%s", describe(r.Frames))
	}
	got := sortedKeys(rowsByString(fr, "team"))
	if !reflect.DeepEqual(got, []string{"growth", "payments"}) {
		t.Errorf("teams: %v, want [growth payments]", got)
	}
}

var eventsFields = append(append([]fieldSpec{}, annotationFields...),
	fieldSpec{"kind", kString}, fieldSpec{"team", kString}, fieldSpec{"dashboardUID", kString}, fieldSpec{"login", kString})

// eventRows checks the events frame's shape and maps event id → row.
func eventRows(t *testing.T, r *Result) (map[string]int, *data.Frame) {
	fr := oneFrame(t, r)
	if !checkFields(t, fr, eventsFields...) {
		t.FailNow()
	}
	return rowsByString(fr, "id"), fr
}

func checkEventsReviews(t *testing.T, q *queryEnv, r *Result) {
	rows, fr := eventRows(t, r)
	if got := sortedKeys(rows); !reflect.DeepEqual(got, []string{"r-1", "r-2"}) {
		t.Fatalf("events kinds=[review] team=payments: ids %v, want [r-1 r-2]", got)
	}
	i := rows["r-1"]
	if got := field(fr, "time").At(i).(time.Time); !got.Equal(q.f.T.Add(-10 * time.Hour)) {
		t.Errorf("r-1 time = %s, want %s", got, q.f.T.Add(-10*time.Hour))
	}
	if got := field(fr, "timeEnd").At(i).(*time.Time); got == nil || !got.Equal(q.f.T.Add(-9*time.Hour)) {
		t.Errorf("r-1 timeEnd = %v, want %s", got, q.f.T.Add(-9*time.Hour))
	}
	if got := field(fr, "timeEnd").At(rows["r-2"]).(*time.Time); got != nil {
		t.Errorf("r-2 timeEnd = %v, want null", got)
	}
	want := map[string]string{"kind": "review", "team": "payments", "dashboardUID": "slo-payments", "login": "alice", "tags": "weekly", "text": "weekly review"}
	for name, w := range want {
		if got := stringAt(field(fr, name), i); got != w {
			t.Errorf("r-1 %s = %q, want %q", name, got, w)
		}
	}
	if stringAt(field(fr, "title"), i) == "" {
		t.Errorf("r-1 has an empty title")
	}
	if got := stringAt(field(fr, "login"), rows["r-2"]); got != "bob" {
		t.Errorf("r-2 login = %q, want bob", got)
	}
}

func checkEventsAll(t *testing.T, _ *queryEnv, r *Result) {
	rows, _ := eventRows(t, r)
	want := []string{"m-1", "o-2", "q-1", "q-2", "q-3", "r-1", "r-2", "d-1", "v-1", "v-2"}
	sort.Strings(want)
	if got := sortedKeys(rows); !reflect.DeepEqual(got, want) {
		t.Errorf("events over the range: ids %v, want %v (d-2 is before the range)", got, want)
	}
}

func checkEventsAnno(t *testing.T, _ *queryEnv, r *Result) {
	if r.RefID != "Anno" {
		t.Fatalf("answer under refId %q, want Anno", r.RefID)
	}
	rows, _ := eventRows(t, r)
	if got := sortedKeys(rows); !reflect.DeepEqual(got, []string{"q-3", "r-1", "v-1"}) {
		t.Errorf("events over [T−36h, T]: ids %v, want [q-3 r-1 v-1]", got)
	}
}

func checkEventsDashboard(t *testing.T, _ *queryEnv, r *Result) {
	rows, _ := eventRows(t, r)
	if got := sortedKeys(rows); !reflect.DeepEqual(got, []string{"r-1", "v-1"}) {
		t.Errorf("events dashboardUid=slo-payments: ids %v, want [r-1 v-1]", got)
	}
}

func checkReviewActivity(t *testing.T, _ *queryEnv, r *Result) {
	series := wideSeries(t, r)
	sum := func(key string) (float64, bool) {
		s, ok := series[key]
		total := 0.0
		for _, v := range s {
			total += v
		}
		return total, ok
	}
	want := map[string]float64{
		seriesKey("reviews", "team", "payments"): 2, seriesKey("views", "team", "payments"): 1,
		seriesKey("decisions", "team", "payments"): 1, seriesKey("questions", "team", "payments"): 2,
		seriesKey("reviews", "team", "growth"): 0, seriesKey("views", "team", "growth"): 1,
		seriesKey("decisions", "team", "growth"): 0, seriesKey("questions", "team", "growth"): 1,
	}
	for key, w := range want {
		got, ok := sum(key)
		if !ok {
			t.Errorf("reviewActivity: no series %s; series: %v", key, sortedKeys(series))
			continue
		}
		if got != w {
			t.Errorf("reviewActivity: %s sums to %v over the range, want %v", key, got, w)
		}
	}
	// One step per day: consecutive points of a series are a day apart.
	for key, s := range series {
		times := make([]int64, 0, len(s))
		for ts := range s {
			times = append(times, ts)
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		for i := 1; i < len(times); i++ {
			if d := times[i] - times[i-1]; d%int64(day/time.Millisecond) != 0 {
				t.Errorf("reviewActivity %s: points %d ms apart, want whole days", key, d)
				break
			}
		}
	}
}

// checkReviewLapse: payments' last review evidence is r-1 at T−10h; growth's is zed's view
// at T−50h (growth lists no members, so any viewer counts).
func checkReviewLapse(valueField string, perDashboard bool) func(t *testing.T, q *queryEnv, r *Result) {
	return func(t *testing.T, _ *queryEnv, r *Result) {
		rows := checkAlertable(t, r)
		if rows == nil {
			t.Fatalf("reviewLapse: want a number table, got wide series:%s", describe(r.Frames))
		}
		fr := r.Frames[0]
		checkFields(t, fr, fieldSpec{"team", kString}, fieldSpec{"dashboard", kString}, fieldSpec{valueField, kNumber})
		hours := map[string]float64{"payments": 10, "growth": 50}
		cadence := map[string]float64{"payments": 7, "growth": 14}
		dash := map[string]string{"payments": "slo-payments", "growth": "kpi-growth"}
		if !perDashboard {
			dash = map[string]string{"payments": "", "growth": ""}
		}
		want := map[string]float64{}
		for team, h := range hours {
			v := h
			if valueField == "hours_overdue" {
				v = h - cadence[team]*24
			}
			want["team="+team+"|dashboard="+dash[team]] = v
		}
		got := map[string]float64{}
		tf, df, vf := field(fr, "team"), field(fr, "dashboard"), field(fr, valueField)
		if tf == nil || df == nil || vf == nil {
			t.FailNow()
		}
		for i := 0; i < rowLen(t, fr); i++ {
			v, _ := floatAt(t, vf, i)
			got["team="+stringAt(tf, i)+"|dashboard="+stringAt(df, i)] = v
		}
		if !reflect.DeepEqual(sortedKeys(got), sortedKeys(want)) {
			t.Fatalf("reviewLapse rows %v, want %v", got, want)
		}
		for k, w := range want {
			if !near(got[k], w) {
				t.Errorf("reviewLapse %s: %s = %v, want %v", k, valueField, got[k], w)
			}
		}
	}
}

// restMaturity is GET /maturity?at=<ms>[&team=].
func restMaturity(h *Host, at time.Time, team string) map[string]map[string]any {
	h.T.Helper()
	return restMaturityAt(h, fmt.Sprint(ms(at)), team)
}

// restMaturityAt is GET /maturity?at=<at as given>[&team=], by team id.
func restMaturityAt(h *Host, at string, team string) map[string]map[string]any {
	h.T.Helper()
	target := "maturity?at=" + url.QueryEscape(at)
	if team != "" {
		target += "&team=" + team
	}
	list := h.Must(Viewer("vera"), "GET", target, nil, 200).List(h.T, "teams", "maturity")
	out := map[string]map[string]any{}
	for _, m := range list {
		id, _ := m["team"].(string)
		out[id] = m
	}
	return out
}

func levelsOf(t *testing.T, r *Result) map[string]float64 {
	rows := checkAlertable(t, r)
	if rows == nil {
		t.Fatalf("maturity: want a number table:%s", describe(r.Frames))
	}
	fr := r.Frames[0]
	if !checkFields(t, fr, fieldSpec{"team", kString}, fieldSpec{"level", kNumber}) {
		t.FailNow()
	}
	out := map[string]float64{}
	for i := 0; i < rowLen(t, fr); i++ {
		v, _ := floatAt(t, field(fr, "level"), i)
		out[stringAt(field(fr, "team"), i)] = v
	}
	return out
}

func checkMaturity(t *testing.T, q *queryEnv, r *Result) {
	levels := levelsOf(t, r)
	if got := sortedKeys(levels); !reflect.DeepEqual(got, []string{"growth", "payments"}) {
		t.Fatalf("maturity teams %v, want [growth payments]", got)
	}
	rest := restMaturity(q.h, q.f.T, "")
	for team, lvl := range levels {
		if lvl < 0 || lvl > 7 || lvl != math.Trunc(lvl) {
			t.Errorf("maturity %s: level %v is not 0..7", team, lvl)
		}
		if got, ok := num(rest[team]["level"]); !ok || got != lvl {
			t.Errorf("maturity %s: query says %v, GET /maturity?at=T says %v", team, lvl, rest[team]["level"])
		}
	}
	one := restMaturity(q.h, q.f.T, "payments")
	if len(one) != 1 || one["payments"] == nil {
		t.Errorf("GET /maturity?team=payments: teams %v, want only payments", sortedKeys(one))
	} else if got, _ := num(one["payments"]["level"]); got != levels["payments"] {
		t.Errorf("GET /maturity?team=payments: level %v, want %v", got, levels["payments"])
	}
	if r2 := restMaturityAt(q.h, rfc(q.f.T), ""); !reflect.DeepEqual(sortedKeys(r2), sortedKeys(rest)) {
		t.Errorf("GET /maturity?at=<RFC 3339>: teams %v, want %v", sortedKeys(r2), sortedKeys(rest))
	} else {
		for team := range rest {
			if !reflect.DeepEqual(r2[team]["level"], rest[team]["level"]) {
				t.Errorf("GET /maturity %s: at=<RFC 3339> level %v, at=<ms> level %v", team, r2[team]["level"], rest[team]["level"])
			}
		}
	}
}

var criterionIDs = []string{"adhoc_queries", "defined_targets", "looped_back", "regular_reviews", "regular_adjustments", "acting_on_metrics", "data_driven_projects"}

func criteriaOf(t *testing.T, r *Result) map[string]map[string]bool {
	fr := oneFrame(t, r)
	if !checkFields(t, fr, fieldSpec{"team", kString}, fieldSpec{"level", kNumber}, fieldSpec{"criterion", kString},
		fieldSpec{"passed", kBool}, fieldSpec{"value", kNumber}, fieldSpec{"threshold", kNumber}, fieldSpec{"detail", kString}) {
		t.FailNow()
	}
	out := map[string]map[string]bool{}
	for i := 0; i < rowLen(t, fr); i++ {
		team, crit := stringAt(field(fr, "team"), i), stringAt(field(fr, "criterion"), i)
		passed := false
		switch v := field(fr, "passed").At(i).(type) {
		case bool:
			passed = v
		case *bool:
			passed = v != nil && *v
		}
		if out[team] == nil {
			out[team] = map[string]bool{}
		}
		if _, dup := out[team][crit]; dup {
			t.Errorf("criteria: %s/%s twice", team, crit)
		}
		out[team][crit] = passed
		lvl, _ := floatAt(t, field(fr, "level"), i)
		if want := indexOf(criterionIDs, crit) + 1; int(lvl) != want {
			t.Errorf("criteria: %s has level %v, want %d", crit, lvl, want)
		}
		if !passed && strings.TrimSpace(stringAt(field(fr, "detail"), i)) == "" {
			t.Errorf("criteria: %s/%s fails without a detail", team, crit)
		}
	}
	return out
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -2
}

func checkCriteria(t *testing.T, q *queryEnv, r *Result) {
	crit := criteriaOf(t, r)
	rest := restMaturity(q.h, q.f.T, "")
	for _, team := range []string{"payments", "growth"} {
		if got := sortedKeys(crit[team]); len(got) != 7 || !hasAll(got, criterionIDs...) {
			t.Errorf("criteria %s: %v, want the 7 criteria", team, got)
		}
		for id, p := range passedOf(rest[team]) {
			if p != crit[team][id] {
				t.Errorf("criteria %s/%s: query passed=%v, GET /maturity passed=%v", team, id, crit[team][id], p)
			}
		}
	}
}

// passedOf reads criterion id → passed from one team's GET /maturity object.
func passedOf(team map[string]any) map[string]bool {
	out := map[string]bool{}
	crits, _ := team["criteria"].([]any)
	for _, c := range crits {
		m, _ := c.(map[string]any)
		id, _ := m["id"].(string)
		out[id], _ = m["passed"].(bool)
	}
	return out
}

func checkMaturityHistory(t *testing.T, q *queryEnv, r *Result) {
	series := wideSeries(t, r)
	levels := levelsOf(t, q.h.Query1(Viewer("vera"), q.f.query("M", "maturity", nil)))
	for _, team := range []string{"payments", "growth"} {
		s, ok := series[seriesKey("level", "team", team)]
		if !ok {
			t.Errorf("maturityHistory: no level{team=%s}; series %v", team, sortedKeys(series))
			continue
		}
		last, ok := s[ms(q.f.T)]
		if !ok {
			t.Errorf("maturityHistory %s: no point at T=%d (steps are anchored at T)", team, ms(q.f.T))
		} else if last != levels[team] {
			t.Errorf("maturityHistory %s: last point %v, maturity says %v", team, last, levels[team])
		}
		for ts := range s {
			if (ms(q.f.T)-ts)%int64(day/time.Millisecond) != 0 {
				t.Errorf("maturityHistory %s: point at %d is not a whole number of days before T", team, ts)
				break
			}
		}
	}
}

func checkLevelChanges(t *testing.T, _ *queryEnv, r *Result) {
	for _, fr := range r.Frames {
		checkFields(t, fr, annotationFields...)
	}
	if len(r.Frames) == 0 {
		t.Errorf("levelChanges: want an annotation-shaped frame (possibly without rows)")
	}
}

func checkTargets(t *testing.T, _ *queryEnv, r *Result) {
	fr := oneFrame(t, r)
	checkFields(t, fr, fieldSpec{"id", kString}, fieldSpec{"team", kString}, fieldSpec{"name", kString}, fieldSpec{"direction", kString},
		fieldSpec{"baseline", kNumber}, fieldSpec{"target", kNumber}, fieldSpec{"deadline", kAnyTime}, fieldSpec{"latest_actual", kNumber},
		fieldSpec{"progress", kNumber}, fieldSpec{"status", kString}, fieldSpec{"projected_hit", kNullableTime})
	rows := rowsByString(fr, "id")
	want := map[string]string{"latency": "due", "conv": "met"}
	if got := sortedKeys(rows); !reflect.DeepEqual(got, []string{"conv", "latency"}) {
		t.Fatalf("targets ids %v, want [conv latency]", got)
	}
	for id, status := range want {
		if got := stringAt(field(fr, "status"), rows[id]); got != status {
			t.Errorf("targets %s: status %q, want %q", id, got, status)
		}
	}
	if p, ok := floatAt(t, field(fr, "progress"), rows["latency"]); !ok || !near(p, 0.5) {
		t.Errorf("targets latency: progress %v, want 0.5 ((350−400)/(300−400))", p)
	}
}

// checkIDs requires one frame whose string field name holds exactly want.
func checkIDs(name string, want ...string) func(t *testing.T, _ *queryEnv, r *Result) {
	return func(t *testing.T, _ *queryEnv, r *Result) {
		fr := oneFrame(t, r)
		sort.Strings(want)
		if got := sortedKeys(rowsByString(fr, name)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v:%s", name, got, want, describe(r.Frames))
		}
	}
}

func checkTargetSeries(t *testing.T, _ *queryEnv, r *Result) {
	series := wideSeries(t, r)
	for _, name := range []string{"actual", "planned"} {
		if _, ok := series[seriesKey(name, "target", "conversion")]; !ok {
			t.Errorf("targetSeries: no %s{target=conversion}; series %v", name, sortedKeys(series))
		}
	}
}

func checkFollowUps(t *testing.T, q *queryEnv, r *Result) {
	fr := oneFrame(t, r)
	checkFields(t, fr, fieldSpec{"id", kString}, fieldSpec{"team", kString}, fieldSpec{"text", kString},
		fieldSpec{"follow_up_at", kAnyTime}, fieldSpec{"status", kString}, fieldSpec{"result", kString})
	rows := rowsByString(fr, "id")
	if i, ok := rows["d-1"]; !ok || stringAt(field(fr, "status"), i) != "overdue" {
		t.Errorf("followUps: d-1 should be overdue; rows %v", rows)
	}
	if i, ok := rows["d-2"]; !ok || stringAt(field(fr, "status"), i) != "done" || stringAt(field(fr, "result"), i) != "confirmed" {
		t.Errorf("followUps: d-2 should be done/confirmed; rows %v", rows)
	}
}

func checkFollowUpsOverdue(t *testing.T, _ *queryEnv, r *Result) {
	rows := checkAlertable(t, r)
	if rows == nil {
		t.Fatalf("followUpsOverdue: want a number table:%s", describe(r.Frames))
	}
	checkFields(t, r.Frames[0], fieldSpec{"team", kString}, fieldSpec{"decision", kString}, fieldSpec{"days_overdue", kNumber})
	want := map[string]float64{"team=payments|decision=d-1": 2}
	if !reflect.DeepEqual(sortedKeys(rows), sortedKeys(want)) || !near(rows["team=payments|decision=d-1"], 2) {
		t.Errorf("followUpsOverdue rows %v, want %v", rows, want)
	}
}

func checkVerificationDue(t *testing.T, _ *queryEnv, r *Result) {
	rows := checkAlertable(t, r)
	if rows == nil {
		t.Fatalf("verificationDue: want a number table:%s", describe(r.Frames))
	}
	checkFields(t, r.Frames[0], fieldSpec{"team", kString}, fieldSpec{"target", kString}, fieldSpec{"days_overdue", kNumber})
	if len(rows) != 1 || rows["team=payments|target=p99 latency"] <= 0 {
		t.Errorf("verificationDue rows %v, want one for payments/p99 latency (deadline 20 days before T, never verified)", rows)
	}
}

// The fixture's agenda at T: latency is past its deadline and the 14-day grace (20 days, never
// verified), d-1's follow-up fell due 2 days ago (within payments' 7-day cadence); payments
// was reviewed 10 hours ago and growth viewed 50 hours ago (cadence 14 days), and no level
// dropped. Overdue comes before due.
func checkReviewAgenda(t *testing.T, q *queryEnv, r *Result) {
	fr := oneFrame(t, r)
	if fr.Name != "reviewAgenda" {
		t.Errorf("reviewAgenda: frame name %q", fr.Name)
	}
	if !checkFields(t, fr, fieldSpec{"team", kString}, fieldSpec{"item", kString}, fieldSpec{"subject", kString},
		fieldSpec{"detail", kString}, fieldSpec{"since", kTime}, fieldSpec{"dashboardUid", kString}) {
		t.FailNow()
	}
	if ft := field(fr, "dashboardUid").Type(); ft != data.FieldTypeNullableString {
		t.Errorf("reviewAgenda: dashboardUid is %s, want *string (nullable)", ft)
	}
	var got []string
	for i := 0; i < rowLen(t, fr); i++ {
		got = append(got, stringAt(field(fr, "team"), i)+"/"+stringAt(field(fr, "item"), i)+"/"+stringAt(field(fr, "subject"), i))
	}
	want := []string{"payments/verification_due/latency", "payments/follow_up_due/d-1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("reviewAgenda rows %v, want %v:%s", got, want, describe(r.Frames))
	}
	since := field(fr, "since")
	if s := since.At(0).(time.Time); !s.Equal(q.f.T.Add(-6 * day)) {
		t.Errorf("verification_due since %s, want deadline + grace = %s", s, q.f.T.Add(-6*day))
	}
	if s := since.At(1).(time.Time); !s.Equal(q.f.T.Add(-2 * day)) {
		t.Errorf("follow_up_due since %s, want the follow-up date %s", s, q.f.T.Add(-2*day))
	}
	if d := stringAt(field(fr, "detail"), 1); d != "Decision 'retry budget' (owner bob) was due for follow-up 2 days ago" {
		t.Errorf("follow_up_due detail %q", d)
	}
}

// A malformed query or an unknown queryType gets an error on its own refId; the other
// queries of the same request still answer.
func TestBadQueryGetsItsOwnError(t *testing.T) {
	h := newHost(t, nil)
	h.Must(Admin("admin"), "POST", "teams", map[string]any{"id": "payments", "name": "Payments"}, Created...)
	now := time.Now()
	rng := func(q Query) Query { q.From, q.To = now.Add(-6*time.Hour), now; return q }
	res := h.QueryData(Viewer("vera"), nil,
		rng(Query{RefID: "A", QueryType: "teams"}),
		rng(Query{RefID: "B", QueryType: "events", RawJSON: []byte(`{"queryType": "events", "kinds": [`)}),
		rng(Query{RefID: "C", QueryType: "noSuchType"}),
		rng(Query{RefID: "D", QueryType: "events", RawJSON: []byte(`[1, 2, 3]`)}),
		rng(Query{RefID: "E", QueryType: "events", Model: map[string]any{"limit": 10}}),
	)
	for _, ref := range []string{"A", "E"} {
		if r := res[ref]; r == nil || r.Error != "" {
			t.Errorf("refId %s (a good query) should answer beside bad ones: %+v", ref, r)
		}
	}
	if r := res["A"]; r != nil && r.Error == "" {
		if fr := oneFrame(t, r); stringAt(field(fr, "team"), 0) != "payments" {
			t.Errorf("refId A: teams frame %s", describe(r.Frames))
		}
	}
	for _, ref := range []string{"B", "C", "D"} {
		if r := res[ref]; r == nil || r.Error == "" {
			t.Errorf("refId %s (a bad query) should carry an error: %+v", ref, r)
		}
	}
	if r := res["C"]; r != nil && !notImplemented(r) {
		t.Errorf("refId C: error %q should say the queryType is unknown", r.Error)
	}
}
