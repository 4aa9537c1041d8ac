package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// Issue 11, defect 4: an org's export (and any large resource answer) is sent as a stream of
// parts of at most 1 MiB, which Grafana's gRPC client, at its default 4 MiB per message,
// takes and joins. Before, GET /export was one message and failed past ~40,000 events.
func TestLargeResourceAnswersStreamInPartsGrafanasClientTakes(t *testing.T) {
	h := newHost(t, nil)
	h.Must(Admin("admin"), "POST", "teams", map[string]any{"id": "payments"}, Created...)
	text := strings.Repeat("evidence ", 110)
	const n = 14000
	for start := 0; start < n; start += 700 {
		batch := []map[string]any{}
		for i := start; i < start+700 && i < n; i++ {
			batch = append(batch, map[string]any{
				"id": fmt.Sprintf("e%05d", i), "kind": "note", "team": "payments", "time": i, "text": text,
			})
		}
		h.Must(Editor("editor"), "POST", "events", batch, Created...)
	}

	// The export, part by part as Grafana's client receives it.
	req := &backend.CallResourceRequest{
		PluginContext: h.DS.PluginContext(Admin("admin")),
		Path:          "export",
		Method:        "GET",
		URL:           "export",
		Headers:       map[string][]string{},
	}
	ctx, cancel := h.ctx()
	defer cancel()
	var body bytes.Buffer
	parts, status := 0, 0
	err := h.P.StreamResource(ctx, req, func(part *backend.CallResourceResponse) error {
		if parts == 0 {
			status = part.Status
		}
		if len(part.Body) > 1<<20 {
			t.Errorf("part %d holds %d bytes, more than 1 MiB", parts, len(part.Body))
		}
		parts++
		body.Write(part.Body)
		return nil
	})
	if err != nil {
		t.Fatalf("GET /export through Grafana's client: %v", err)
	}
	if status != 200 {
		t.Fatalf("GET /export: status %d", status)
	}
	if body.Len() <= 4<<20 {
		t.Fatalf("the export is only %d bytes; the test needs more than 4 MiB", body.Len())
	}
	lines := 0
	sc := bufio.NewScanner(bytes.NewReader(body.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %d is not JSON: %v", lines+1, err)
		}
		lines++
	}
	if lines != n+1 {
		t.Errorf("the export holds %d lines, want %d", lines, n+1)
	}
	t.Logf("GET /export: %d bytes in %d parts", body.Len(), parts)

	// A page of 5,000 large events (~6 MB) arrives whole too.
	page := h.Must(Viewer("viewer"), "GET", "events?limit=5000", nil, 200)
	if got := len(page.List(t)); got != 5000 {
		t.Errorf("GET /events?limit=5000 gave %d events", got)
	}

	// And the export goes back in, into a datasource of its own.
	other := newHost(t, nil)
	r := other.Must(Admin("admin"), "POST", "import", body.Bytes(), 200)
	report := r.Object(t)
	expectFields(t, "import", report, "created", n+1, "rejected", 0)
}
