// The peer's datasource: settings, the store it reads, and the `events` query.
// A benchmark peer, not product (see main.go).
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/mattn/go-sqlite3"
)

const (
	// defaultLimit and maxLimit are the Rust plugin's DEFAULT_QUERY_EVENTS and MAX_EVENT_PAGE.
	defaultLimit = 1000
	maxLimit     = 5000
	// sqliteConns mirrors the Rust SQLite store's four reader connections, pgConns its
	// PostgreSQL pool of ten.
	sqliteConns = 4
	pgConns     = 10
)

// settings is the part of the datasource's jsonData the peer reads: the same keys as the
// Rust plugin (`databasePath`, or `storage: postgres` with the URL in secureJsonData).
type settings struct {
	DatabasePath string `json:"databasePath"`
	Storage      string `json:"storage"`
}

// Datasource is one datasource instance: a read-only SQLite handle or a PostgreSQL pool.
type Datasource struct {
	sqlite *sql.DB
	pg     *pgxpool.Pool
}

var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// NewDatasource opens the store the settings name (lazily: the first query connects).
func NewDatasource(ctx context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	var js settings
	if len(s.JSONData) > 0 {
		if err := json.Unmarshal(s.JSONData, &js); err != nil {
			return nil, fmt.Errorf("jsonData: %w", err)
		}
	}
	if js.Storage == "postgres" {
		url := s.DecryptedSecureJSONData["postgresUrl"]
		if url == "" {
			return nil, fmt.Errorf("storage is postgres but secureJsonData.postgresUrl is empty")
		}
		cfg, err := pgxpool.ParseConfig(url)
		if err != nil {
			return nil, fmt.Errorf("postgresUrl: %w", err)
		}
		cfg.MaxConns = pgConns
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return &Datasource{pg: pool}, nil
	}
	if js.DatabasePath == "" {
		return nil, fmt.Errorf("jsonData.databasePath is empty")
	}
	path := strings.NewReplacer("?", "%3f", "#", "%23").Replace(js.DatabasePath)
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(sqliteConns)
	db.SetMaxIdleConns(sqliteConns)
	return &Datasource{sqlite: db}, nil
}

// Dispose closes the store when Grafana replaces the instance.
func (d *Datasource) Dispose() {
	if d.sqlite != nil {
		_ = d.sqlite.Close()
	}
	if d.pg != nil {
		d.pg.Close()
	}
}

// CheckHealth pings the store.
func (d *Datasource) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	var err error
	if d.pg != nil {
		err = d.pg.Ping(ctx)
	} else {
		err = d.sqlite.PingContext(ctx)
	}
	if err != nil {
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: err.Error()}, nil
	}
	return &backend.CheckHealthResult{Status: backend.HealthStatusOk, Message: "store reachable"}, nil
}

// QueryData answers each query on its own refId.
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp := backend.NewQueryDataResponse()
	for _, q := range req.Queries {
		resp.Responses[q.RefID] = d.query(ctx, req.PluginContext.OrgID, q)
	}
	return resp, nil
}

func (d *Datasource) query(ctx context.Context, org int64, q backend.DataQuery) backend.DataResponse {
	var model map[string]json.RawMessage
	if len(q.JSON) > 0 {
		if err := json.Unmarshal(q.JSON, &model); err != nil {
			return backend.ErrDataResponse(backend.StatusBadRequest, "query: expected a JSON object")
		}
	}
	queryType := q.QueryType
	if queryType == "" {
		_ = json.Unmarshal(model["queryType"], &queryType)
	}
	if queryType != "events" {
		return backend.ErrDataResponse(backend.StatusBadRequest, fmt.Sprintf("unknown queryType %q; the peer answers events only", queryType))
	}
	eq, err := decodeEvents(model)
	if err != nil {
		return backend.ErrDataResponse(backend.StatusBadRequest, err.Error())
	}
	eq.from, eq.to = q.TimeRange.From.UnixMilli(), q.TimeRange.To.UnixMilli()
	frame, err := d.events(ctx, org, eq)
	if err != nil {
		return backend.ErrDataResponse(backend.StatusInternal, err.Error())
	}
	return backend.DataResponse{Frames: data.Frames{frame}}
}

// eventsQuery is the `events` query model.
type eventsQuery struct {
	teams     []string // empty: every team
	dashboard string   // empty: every dashboard
	kinds     []string
	tags      []string
	limit     int
	from, to  int64
}

func decodeEvents(m map[string]json.RawMessage) (eventsQuery, error) {
	q := eventsQuery{limit: defaultLimit}
	var err error
	if q.teams, err = teamList(m["team"]); err != nil {
		return q, err
	}
	for _, key := range []string{"dashboardUid", "dashboardUID"} {
		if raw, ok := m[key]; ok && q.dashboard == "" {
			if err := json.Unmarshal(raw, &q.dashboard); err != nil {
				return q, fmt.Errorf("%s: expected a string", key)
			}
		}
	}
	if q.kinds, err = stringList("kinds", m["kinds"]); err != nil {
		return q, err
	}
	for i, k := range q.kinds {
		if k == "metric-change" {
			q.kinds[i] = "metric_change"
		}
		switch q.kinds[i] {
		case "view", "review", "question", "decision", "outcome", "metric_change", "note":
		default:
			return q, fmt.Errorf("kinds: unknown kind %q", k)
		}
	}
	if q.tags, err = stringList("tags", m["tags"]); err != nil {
		return q, err
	}
	if raw, ok := m["limit"]; ok && string(raw) != "null" {
		var n json.Number
		var s string
		if json.Unmarshal(raw, &s) == nil {
			n = json.Number(strings.TrimSpace(s))
		} else if err := json.Unmarshal(raw, &n); err != nil {
			return q, fmt.Errorf("limit: expected an integer")
		}
		v, err := strconv.Atoi(n.String())
		if err != nil {
			return q, fmt.Errorf("limit: expected an integer, got %s", n)
		}
		if v < 1 || v > maxLimit {
			return q, fmt.Errorf("limit: must be from 1 to %d, got %d", maxLimit, v)
		}
		q.limit = v
	}
	return q, nil
}

// stringList reads a list of strings, or one comma-separated string.
func stringList(name string, raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%s: expected a list of strings", name)
	}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			list = append(list, p)
		}
	}
	return list, nil
}

// teamList reads `team`: an id, `{a,b}`, a list; none, `*` or `$__all` means every team.
func teamList(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var ids []string
	if err := json.Unmarshal(raw, &ids); err != nil {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("team: expected a team id or a list of ids")
		}
		s = strings.TrimSpace(s)
		s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
		for _, p := range strings.Split(s, ",") {
			ids = append(ids, strings.TrimSpace(p))
		}
	}
	for _, id := range ids {
		if id == "" || id == "*" || id == "$__all" || id == "All" {
			return nil, nil
		}
	}
	return ids, nil
}

// events runs the store's SELECT (the Rust stores' list_events, without the columns the
// frame does not show) and builds the frame.
func (d *Datasource) events(ctx context.Context, org int64, q eventsQuery) (*data.Frame, error) {
	pg := d.pg != nil
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		if pg {
			return "$" + strconv.Itoa(len(args))
		}
		return "?" + strconv.Itoa(len(args))
	}
	table := "events"
	if pg {
		table = "maturity.events"
	}
	var sb strings.Builder
	sb.WriteString("SELECT id, kind, time, time_end, team, dashboard_uid, user_login, text, tags FROM ")
	sb.WriteString(table)
	sb.WriteString(" WHERE org_id = " + arg(org))
	if len(q.kinds) > 0 {
		if pg {
			sb.WriteString(" AND kind = ANY(" + arg(q.kinds) + ")")
		} else {
			sb.WriteString(" AND kind IN (SELECT value FROM json_each(" + arg(jsonList(q.kinds)) + "))")
		}
	}
	if len(q.teams) > 0 {
		if pg {
			sb.WriteString(" AND team = ANY(" + arg(q.teams) + ")")
		} else {
			sb.WriteString(" AND team IN (SELECT value FROM json_each(" + arg(jsonList(q.teams)) + "))")
		}
	}
	if q.dashboard != "" {
		sb.WriteString(" AND dashboard_uid = " + arg(q.dashboard))
	}
	sb.WriteString(" AND time >= " + arg(q.from))
	sb.WriteString(" AND time <= " + arg(q.to))
	if tags := distinct(q.tags); len(tags) > 0 {
		// Every wanted tag present: as many distinct matches as distinct wanted tags.
		if pg {
			list := arg(tags)
			sb.WriteString(" AND (SELECT count(DISTINCT t.value) FROM json_array_elements_text(tags::json) AS t(value) WHERE t.value = ANY(" +
				list + ")) = " + arg(int64(len(tags))))
		} else {
			list := arg(jsonList(tags))
			sb.WriteString(" AND (SELECT count(DISTINCT t.value) FROM json_each(events.tags) AS t WHERE t.value IN (SELECT value FROM json_each(" +
				list + "))) = " + arg(int64(len(tags))))
		}
	}
	sb.WriteString(" ORDER BY time DESC, id DESC LIMIT " + arg(int64(q.limit)))

	b := newFrameBuilder(q.limit)
	if pg {
		rows, err := d.pg.Query(ctx, sb.String(), args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			if err := b.add(rows.Scan); err != nil {
				return nil, err
			}
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	} else {
		// Without the request's context: with a cancellable one, mattn/go-sqlite3 starts a
		// goroutine per row to watch it, which cost the peer about 1 ms a query here. Ours
		// does not cancel an SQLite read either, so both do the same work.
		rows, err := d.sqlite.Query(sb.String(), args...) //nolint:noctx
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			if err := b.add(rows.Scan); err != nil {
				return nil, err
			}
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return b.frame(), nil
}

func jsonList(v []string) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func distinct(v []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range v {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// frameBuilder collects the rows into the columns of the annotation-shaped `events` frame.
type frameBuilder struct {
	times                                                  []time.Time
	ends                                                   []*time.Time
	titles, texts, tags, ids, kinds, teams, dashes, logins []string
}

func newFrameBuilder(n int) *frameBuilder {
	mk := func() []string { return make([]string, 0, n) }
	return &frameBuilder{
		times: make([]time.Time, 0, n), ends: make([]*time.Time, 0, n),
		titles: mk(), texts: mk(), tags: mk(), ids: mk(), kinds: mk(), teams: mk(), dashes: mk(), logins: mk(),
	}
}

// add scans one row (id, kind, time, time_end, team, dashboard_uid, user_login, text, tags).
func (b *frameBuilder) add(scan func(dest ...any) error) error {
	var (
		id, kind, login, text, tagsJSON string
		at                              int64
		end                             sql.NullInt64
		team, dash                      sql.NullString
	)
	if err := scan(&id, &kind, &at, &end, &team, &dash, &login, &text, &tagsJSON); err != nil {
		return err
	}
	var tags []string
	if err := json.Unmarshal([]byte(tagsJSON), &tags); err != nil {
		return fmt.Errorf("event %s: tags: %w", id, err)
	}
	b.times = append(b.times, time.UnixMilli(at).UTC())
	if end.Valid {
		t := time.UnixMilli(end.Int64).UTC()
		b.ends = append(b.ends, &t)
	} else {
		b.ends = append(b.ends, nil)
	}
	b.titles = append(b.titles, title(kind, text))
	b.texts = append(b.texts, text)
	b.tags = append(b.tags, strings.Join(tags, ","))
	b.ids = append(b.ids, id)
	b.kinds = append(b.kinds, kind)
	b.teams = append(b.teams, team.String)
	b.dashes = append(b.dashes, dash.String)
	b.logins = append(b.logins, login)
	return nil
}

// title is the text's first line, else the kind in words.
func title(kind, text string) string {
	first, _, _ := strings.Cut(text, "\n")
	first = strings.TrimSuffix(first, "\r")
	if first == "" {
		return strings.ReplaceAll(kind, "_", " ")
	}
	return first
}

func (b *frameBuilder) frame() *data.Frame {
	return data.NewFrame("events",
		data.NewField("time", nil, b.times),
		data.NewField("timeEnd", nil, b.ends),
		data.NewField("title", nil, b.titles),
		data.NewField("text", nil, b.texts),
		data.NewField("tags", nil, b.tags),
		data.NewField("id", nil, b.ids),
		data.NewField("kind", nil, b.kinds),
		data.NewField("team", nil, b.teams),
		data.NewField("dashboardUID", nil, b.dashes),
		data.NewField("login", nil, b.logins),
	)
}
