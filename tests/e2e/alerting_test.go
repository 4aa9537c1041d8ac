package e2e

import (
	"strings"
	"testing"
)

// alertQuery is one alertable query of SPEC §4.3 and how many rows each fixture team
// gives it (teams absent from rowsPerTeam give none).
type alertQuery struct {
	name      string
	queryType string
	model     map[string]any
	// rowsPerTeam in the fixture store.
	rowsPerTeam map[string]int
	// emptyRowsPerTeam in a store with teams and no evidence.
	emptyRowsPerTeam int
	// emptyValue, when set, is the value every row has in the store without evidence.
	emptyValue func(team string) float64
}

var alertQueries = []alertQuery{
	{name: "reviewLapse", queryType: "reviewLapse", rowsPerTeam: map[string]int{"payments": 1, "growth": 1},
		emptyRowsPerTeam: 1, emptyValue: func(string) float64 { return 12 * 168 }},
	{name: "reviewLapse hoursOverdue", queryType: "reviewLapse", model: map[string]any{"measure": "hoursOverdue"},
		rowsPerTeam: map[string]int{"payments": 1, "growth": 1}, emptyRowsPerTeam: 1,
		emptyValue: func(team string) float64 { return 12*168 - map[string]float64{"payments": 7, "growth": 14}[team]*24 }},
	{name: "reviewLapse perDashboard", queryType: "reviewLapse", model: map[string]any{"perDashboard": true},
		rowsPerTeam: map[string]int{"payments": 1, "growth": 1}, emptyRowsPerTeam: 1},
	{name: "maturity", queryType: "maturity", rowsPerTeam: map[string]int{"payments": 1, "growth": 1},
		emptyRowsPerTeam: 1, emptyValue: func(string) float64 { return 0 }},
	{name: "followUpsOverdue", queryType: "followUpsOverdue", rowsPerTeam: map[string]int{"payments": 1}},
	{name: "verificationDue", queryType: "verificationDue", rowsPerTeam: map[string]int{"payments": 1}},
}

// teamSelection is a value of a query's `team` and the fixture teams it selects.
type teamSelection struct {
	name  string
	value any // nil: `team` absent
	teams []string
}

var teamSelections = []teamSelection{
	{"all teams (absent)", nil, []string{"payments", "growth"}},
	{"all teams (*)", "*", []string{"payments", "growth"}},
	{"all teams ($__all)", "$__all", []string{"payments", "growth"}},
	{"one team", "payments", []string{"payments"}},
	{"the other team", "growth", []string{"growth"}},
	{"a multi-value variable", []string{"payments", "growth"}, []string{"payments", "growth"}},
	{"a team filter matching nothing", "no-such-team", nil},
}

func teamOfRow(key string) string {
	for _, part := range strings.Split(key, "|") {
		if v, ok := strings.CutPrefix(part, "team="); ok {
			return v
		}
	}
	return ""
}

// Alerting can evaluate every alertable query: for all teams, one team, and the empty
// results (a filter matching nothing, and a store with teams but no evidence) the answer
// is a number table (or wide series), never an error.
func TestAlertableShapes(t *testing.T) {
	full := newHost(t, nil)
	f := seedFixture(t, full)

	empty := newHost(t, nil)
	for _, team := range []map[string]any{
		{"id": "payments", "name": "Payments", "dashboards": []string{"slo-payments"}, "members": []string{"alice"}},
		{"id": "growth", "name": "Growth", "dashboards": []string{"kpi-growth"}, "cadenceDays": 14},
	} {
		empty.Must(Admin("admin"), "POST", "teams", team, Created...)
	}

	for _, aq := range alertQueries {
		t.Run(aq.name, func(t *testing.T) {
			for _, sel := range teamSelections {
				t.Run(sel.name, func(t *testing.T) {
					model := map[string]any{}
					for k, v := range aq.model {
						model[k] = v
					}
					if sel.value != nil {
						model["team"] = sel.value
					}
					// Alerting asks with no user and the FromAlert header.
					r := full.With(t).QueryData(nil, map[string]string{"FromAlert": "true"}, f.query("A", aq.queryType, model))["A"]
					if r == nil {
						t.FailNow()
					}
					answeredOrSkip(t, aq.queryType, r)
					rows := checkAlertable(t, r)
					if rows == nil {
						return // wide series
					}
					want := 0
					for _, team := range sel.teams {
						want += aq.rowsPerTeam[team]
					}
					if len(rows) != want {
						t.Errorf("%s with team=%v: %d rows %v, want %d", aq.queryType, sel.value, len(rows), sortedKeys(rows), want)
					}
					for key := range rows {
						if team := teamOfRow(key); !hasAll(sel.teams, team) {
							t.Errorf("%s with team=%v: row %q is of another team", aq.queryType, sel.value, key)
						}
					}
				})
			}
			t.Run("a store with teams and no evidence", func(t *testing.T) {
				r := empty.With(t).QueryData(nil, map[string]string{"FromAlert": "true"}, f.query("A", aq.queryType, aq.model))["A"]
				if r == nil {
					t.FailNow()
				}
				answeredOrSkip(t, aq.queryType, r)
				rows := checkAlertable(t, r)
				if rows == nil {
					return
				}
				if want := 2 * aq.emptyRowsPerTeam; len(rows) != want {
					t.Errorf("%s without evidence: %d rows %v, want %d", aq.queryType, len(rows), sortedKeys(rows), want)
				}
				if aq.emptyValue != nil {
					for key, v := range rows {
						if w := aq.emptyValue(teamOfRow(key)); !near(v, w) {
							t.Errorf("%s without evidence: %s = %v, want %v", aq.queryType, key, v, w)
						}
					}
				}
			})
		})
	}
}
