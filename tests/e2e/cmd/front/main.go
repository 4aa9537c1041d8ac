// Command front is a small HTTP server that answers like Grafana's HTTP API for one
// datasource of the gpx_maturity plugin, so that a browser harness (the frontend built
// without Grafana) can talk to the real backend binary.
//
// It starts the plugin exactly as the e2e tests do (hashicorp/go-plugin with the SDK's
// handshake, gRPC only, Grafana's environment) and translates:
//
//	GET|POST|PUT|PATCH|DELETE /api/datasources/uid/<uid>/resources/<path>  → CallResource
//	POST /api/ds/query                                                     → QueryData
//	GET  /api/datasources/uid/<uid>, /api/datasources/uid/<uid>/health      → settings, CheckHealth
//	GET  /api/health                                                       → ok
//
// and serves the harness page (-static) and @grafana/ui's images (-ui-img). Every request
// acts as the user named by the X-Harness-User / X-Harness-Role headers (or the
// harness_user / harness_role cookies; default -user / -role). See tests/e2e/README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"datadriven-maturity/e2e"
)

type config struct {
	addr        string
	plugin      string
	pluginLog   string
	db          string
	settings    string
	uid         string
	name        string
	dsID        int64
	static      string
	uiImg       string
	user        string
	role        string
	multiStatus bool
}

func main() { os.Exit(run(os.Args[1:])) }

func defaultPlugin() string {
	if p := os.Getenv("MATURITY_PLUGIN_BIN"); p != "" {
		return p
	}
	for _, p := range []string{"target/release/gpx_maturity", e2e.DefaultBinary} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "target/release/gpx_maturity"
}

func run(args []string) int {
	logger := log.New(os.Stderr, "front: ", log.LstdFlags|log.Lmicroseconds)
	var c config
	fs := flag.NewFlagSet("front", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:3001", "listen address (host:0 picks a free port)")
	fs.StringVar(&c.plugin, "plugin", defaultPlugin(), "the gpx_maturity binary (default $MATURITY_PLUGIN_BIN, else target/release/gpx_maturity)")
	fs.StringVar(&c.pluginLog, "plugin-log", "", "write the plugin's log to this file instead of stderr")
	fs.StringVar(&c.db, "db", "", "the SQLite store: jsonData.databasePath (and GF_PLUGIN_DATABASE_PATH)")
	fs.StringVar(&c.settings, "settings", "", "a JSON file with more jsonData keys (databasePath from -db wins)")
	fs.StringVar(&c.uid, "uid", "maturity", "the datasource uid")
	fs.StringVar(&c.name, "name", "Data-Driven Maturity", "the datasource name")
	fs.Int64Var(&c.dsID, "ds-id", 1, "the datasource's numeric id")
	fs.StringVar(&c.static, "static", "", "a folder served at / (index.html; unknown extension-less paths get index.html)")
	fs.StringVar(&c.uiImg, "ui-img", "", "a folder served under /public/build/img/ (node_modules/@grafana/ui/dist/public/img)")
	fs.StringVar(&c.user, "user", "admin", "login of the default user (\"\" = no user)")
	fs.StringVar(&c.role, "role", "Admin", "org role of the default user: Viewer, Editor, Admin or None")
	fs.BoolVar(&c.multiStatus, "multi-status", false, "answer 207 instead of 400 when a query fails (Grafana's datasourceQueryMultiStatus feature toggle)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		logger.Printf("unexpected arguments %q (flags only; see -h)", fs.Args())
		return 2
	}

	ds, dbPath, err := datasource(c)
	if err != nil {
		logger.Print(err)
		return 2
	}
	if _, err := normalRole(c.role); err != nil {
		logger.Printf("-role: %v", err)
		return 2
	}

	p, err := e2e.StartPlugin(c.plugin, e2e.StartOptions{Env: e2e.GrafanaEnv(dbPath), LogPath: c.pluginLog})
	if err != nil {
		logger.Printf("cannot start the plugin: %v", err)
		return 1
	}
	logger.Printf("plugin %s started; datasource uid %q, store %s", p.Binary, ds.UID, dbPath)

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		logger.Printf("listen %s: %v", c.addr, err)
		p.Kill()
		return 1
	}
	// The first line on stdout, so that a test or script can read the port.
	fmt.Printf("front: listening on http://%s\n", displayAddr(ln.Addr()))
	_ = os.Stdout.Sync()

	f := &front{
		plugin:      p,
		ds:          ds,
		multiStatus: c.multiStatus,
		defaultUser: c.user,
		defaultRole: c.role,
		static:      c.static,
		uiImg:       c.uiImg,
		log:         logger,
	}
	if c.static != "" {
		if st, err := os.Stat(filepath.Join(c.static, "index.html")); err != nil || st.IsDir() {
			logger.Printf("warning: %s has no index.html yet; / answers 404 until it does", c.static)
		}
	}
	srv := &http.Server{
		Handler:           f.logged(f.routes()),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          logger,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	died := make(chan struct{})
	go func() {
		for !p.Exited() {
			time.Sleep(200 * time.Millisecond)
		}
		close(died)
	}()

	code := 0
	select {
	case s := <-sigs:
		logger.Printf("%s: stopping", s)
	case <-died:
		logger.Printf("the plugin process exited on its own; stopping")
		code = 1
	case err := <-served:
		logger.Printf("serve: %v", err)
		code = 1
	}
	signal.Stop(sigs)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := srv.Shutdown(ctx); err != nil {
		logger.Printf("shutdown: %v", err)
	}
	cancel()
	start := time.Now()
	p.Kill() // go-plugin's graceful stop, as Grafana does
	logger.Printf("plugin stopped in %s; front stopped", time.Since(start).Round(time.Millisecond))
	return code
}

// datasource builds the one datasource instance from the flags.
func datasource(c config) (*e2e.Datasource, string, error) {
	jd := map[string]any{}
	if c.settings != "" {
		raw, err := os.ReadFile(c.settings)
		if err != nil {
			return nil, "", fmt.Errorf("-settings: %w", err)
		}
		if err := json.Unmarshal(raw, &jd); err != nil || jd == nil {
			return nil, "", fmt.Errorf("-settings %s: not a JSON object (%v)", c.settings, err)
		}
	}
	if c.db != "" {
		jd["databasePath"] = c.db
	}
	db, _ := jd["databasePath"].(string)
	if strings.TrimSpace(db) == "" {
		return nil, "", errors.New("-db (or databasePath in -settings) is required")
	}
	abs, err := filepath.Abs(db)
	if err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, "", err
	}
	jd["databasePath"] = abs
	if c.uid == "" {
		return nil, "", errors.New("-uid must not be empty")
	}
	ds := &e2e.Datasource{
		OrgID:    1,
		ID:       c.dsID,
		UID:      c.uid,
		Name:     c.name,
		JSONData: jd,
		Secure:   map[string]string{},
	}
	ds.Touch()
	return ds, abs, nil
}

// displayAddr makes a URL host of a listener's address (an unspecified IP becomes localhost).
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return tcp.String()
}
