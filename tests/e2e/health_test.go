package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// Grafana starts the binary with its handshake and "Save & test" reports the store.
func TestHandshakeAndHealth(t *testing.T) {
	h := newHost(t, nil)

	t.Run("health names the store from jsonData.databasePath", func(t *testing.T) {
		res := h.With(t).CheckHealth(Admin("admin"))
		if res.Status != backend.HealthStatusOk {
			t.Fatalf("CheckHealth: status %v, message %q, want OK", res.Status, res.Message)
		}
		if !strings.Contains(res.Message, h.DS.DBPath()) {
			t.Errorf("CheckHealth message %q does not mention the store path %s", res.Message, h.DS.DBPath())
		}
		if _, err := os.Stat(h.DS.DBPath()); err != nil {
			t.Errorf("the store file was not created: %v", err)
		}
	})

	t.Run("without databasePath the store is GF_PLUGIN_DATABASE_PATH", func(t *testing.T) {
		ds := newDatasource(t, nil)
		delete(ds.JSONData, "databasePath")
		h2 := &Host{T: t, P: sharedPlugin(t), DS: ds}
		res := h2.CheckHealth(Admin("admin"))
		if res.Status != backend.HealthStatusOk {
			t.Fatalf("CheckHealth: status %v, message %q, want OK", res.Status, res.Message)
		}
		if !strings.Contains(res.Message, defaultStorePath()) {
			t.Errorf("CheckHealth message %q does not mention GF_PLUGIN_DATABASE_PATH's store %s", res.Message, defaultStorePath())
		}
	})

	t.Run("a file that is not a store is refused and left alone", func(t *testing.T) {
		ds := newDatasource(t, nil)
		path := filepath.Join(filepath.Dir(ds.DBPath()), "not-a-db.db")
		content := bytes.Repeat([]byte("this is not an SQLite database\n"), 200)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		ds.JSONData["databasePath"] = path
		h3 := &Host{T: t, P: sharedPlugin(t), DS: ds}
		res := h3.CheckHealth(Admin("admin"))
		if res.Status != backend.HealthStatusError {
			t.Errorf("CheckHealth on a non-database file: status %v (%q), want ERROR", res.Status, res.Message)
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("the foreign file was changed (err=%v)", err)
		}
	})
}
