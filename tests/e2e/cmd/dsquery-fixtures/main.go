// Command dsquery-fixtures writes the bodies Grafana's POST /api/ds/query answers, made with
// the Go SDK's own JSON marshalling of backend.QueryDataResponse (what Grafana itself sends),
// into tests/fixtures/grafana/dsquery/. The Rust tests of the Grafana client and the fake
// Grafana of the sync and end-to-end tests serve these files. Run it again only when the SDK
// changes (go run ./cmd/dsquery-fixtures -out ../fixtures/grafana/dsquery from tests/e2e)
// and review the diff.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// t0 is a fixed instant so that the files never change between runs.
var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

func f(v float64) *float64 { return &v }

// series is a Prometheus-like time series: a time field and one nullable float64 value
// field with labels, the last point null (a scrape that has not arrived yet).
func series(name string, values ...*float64) *data.Frame {
	times := make([]time.Time, len(values))
	for i := range values {
		times[i] = at(i * 5)
	}
	return data.NewFrame(name,
		data.NewField("Time", nil, times),
		data.NewField("Value", data.Labels{"job": "checkout"}, values),
	)
}

func one(frames ...*data.Frame) backend.QueryDataResponse {
	return backend.QueryDataResponse{Responses: backend.Responses{"A": backend.DataResponse{Frames: frames, Status: backend.StatusOK}}}
}

func main() {
	out := flag.String("out", "../fixtures/grafana/dsquery", "folder to write the fixtures into")
	flag.Parse()
	fixtures := map[string]backend.QueryDataResponse{
		// The last non-null value is 8.5.
		"timeseries.json": one(series("checkout p95", f(9.1), f(8.8), f(8.5), nil)),
		// Means 2.1 (before a decision) and 2.35 (since it).
		"mean-2.1.json":  one(series("declines", f(2.0), nil, f(2.2))),
		"mean-2.35.json": one(series("declines", f(2.3), f(2.4), nil)),
		// A table: a string field first, then int64 counts; the last is 7.
		"int-table.json": one(data.NewFrame("counts",
			data.NewField("team", nil, []string{"payments", "search"}),
			data.NewField("count", nil, []int64{3, 7}),
		)),
		// The first frame has no number; the second frame's first numeric field ends at 5.
		"multi-frame.json": one(
			data.NewFrame("names", data.NewField("name", nil, []string{"a", "b"})),
			data.NewFrame("values",
				data.NewField("time", nil, []time.Time{at(0), at(5)}),
				data.NewField("first", nil, []float64{4, 5}),
				data.NewField("second", nil, []float64{40, 50}),
			),
		),
		// NaN and +Inf travel as "entities"; the last finite value is 1.25.
		"special-floats.json": one(data.NewFrame("odd",
			data.NewField("time", nil, []time.Time{at(0), at(5), at(10)}),
			data.NewField("value", nil, []float64{1.25, math.NaN(), math.Inf(1)}),
		)),
		// Fields but no rows.
		"empty.json": one(data.NewFrame("empty",
			data.NewField("time", nil, []time.Time{}),
			data.NewField("value", nil, []*float64{}),
		)),
		// No frame at all.
		"no-frames.json": {Responses: backend.Responses{"A": backend.DataResponse{Status: backend.StatusOK}}},
		// Only times and strings.
		"strings-only.json": one(data.NewFrame("logs",
			data.NewField("time", nil, []time.Time{at(0)}),
			data.NewField("line", nil, []string{"GET /checkout 200"}),
		)),
		// The query failed in the datasource (Grafana answers it with HTTP 400).
		"error.json": {Responses: backend.Responses{"A": backend.ErrDataResponseWithSource(
			backend.StatusBadRequest, backend.ErrorSourceDownstream,
			`bad_data: 1:5: parse error: unexpected "}" in aggregation`)}},
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for name, resp := range fixtures {
		body, err := json.Marshal(&resp)
		if err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(*out, name), append(body, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
