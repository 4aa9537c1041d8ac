// Package e2e is a Grafana-faithful host for the gpx_maturity backend plugin: it starts
// the built binary the way Grafana does (hashicorp/go-plugin, the SDK's handshake, gRPC
// only) and talks to it through the grafana-plugin-sdk-go gRPC clients.
//
// This file owns the plugin process: start, dispense the clients, watch for exit, stop.
package e2e

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// PluginID is the id of the plugin under test (plugin.json `id`).
const PluginID = "datadriven-maturity-datasource"

// DefaultBinary is where CI's `cargo build --release` leaves the backend, relative to tests/e2e.
const DefaultBinary = "../../target/release/gpx_maturity"

// BinaryPath is the backend executable under test: $MATURITY_PLUGIN_BIN, else DefaultBinary.
func BinaryPath() string {
	if p := os.Getenv("MATURITY_PLUGIN_BIN"); p != "" {
		return p
	}
	return DefaultBinary
}

// handshake is Grafana's: protocol version 2, cookie grafana_plugin_type=datasource.
var handshake = plugin.HandshakeConfig{
	ProtocolVersion:  grpcplugin.ProtocolVersion,
	MagicCookieKey:   grpcplugin.MagicCookieKey,
	MagicCookieValue: grpcplugin.MagicCookieValue,
}

// pluginSet names the services Grafana dispenses from a backend plugin (protocol v2).
func pluginSet() plugin.PluginSet {
	return plugin.PluginSet{
		"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
		"resource":    &grpcplugin.ResourceGRPCPlugin{},
		"data":        &grpcplugin.DataGRPCPlugin{},
	}
}

// Plugin is one running plugin process and its gRPC clients.
type Plugin struct {
	Binary  string
	LogPath string

	client      *plugin.Client
	Data        grpcplugin.DataClient
	Resource    grpcplugin.ResourceClient
	Diagnostics grpcplugin.DiagnosticsClient

	logFile *os.File
	logOut  *lockedWriter
	logMu   sync.Mutex
}

// StartOptions tune how the process is started.
type StartOptions struct {
	// Env is the plugin's environment (KEY=VALUE). Like recent Grafana versions, the host's
	// own environment is not forwarded (SkipHostEnv); only RUST_LOG / RUST_BACKTRACE pass.
	Env []string
	// LogPath receives the plugin's stderr as re-logged by go-plugin.
	LogPath string
	// Dir is the working directory (Grafana's own; "" inherits this process's).
	Dir string
}

// StartPlugin starts the binary as Grafana does and dispenses its clients.
func StartPlugin(binary string, opts StartOptions) (*Plugin, error) {
	abs, err := filepath.Abs(binary)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("plugin binary %s: %w (build it with `cargo build --release`, or set MATURITY_PLUGIN_BIN)", abs, err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("plugin binary %s is not an executable file", abs)
	}

	p := &Plugin{Binary: abs, LogPath: opts.LogPath}
	logOut := &lockedWriter{mu: &p.logMu, w: os.Stderr}
	p.logOut = logOut
	if opts.LogPath != "" {
		f, err := os.OpenFile(opts.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		p.logFile = f
		logOut.w = f
	}
	logger := hclog.New(&hclog.LoggerOptions{
		Name:   "plugin." + PluginID,
		Level:  hclog.Debug,
		Output: logOut,
	})

	env := append([]string{}, opts.Env...)
	for _, k := range []string{"RUST_LOG", "RUST_BACKTRACE"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	cmd := exec.Command(abs)
	cmd.Env = env
	cmd.Dir = opts.Dir

	p.client = plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: map[int]plugin.PluginSet{grpcplugin.ProtocolVersion: pluginSet()},
		Cmd:              cmd,
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           logger,
		StartTimeout:     30 * time.Second,
		// Grafana sets no message size: answers over gRPC's default 4 MiB fail there too.
	})

	rpc, err := p.client.Client()
	if err != nil {
		p.Kill()
		return nil, fmt.Errorf("go-plugin handshake with %s failed: %w%s", abs, err, p.logTail(40))
	}
	if p.client.NegotiatedVersion() != grpcplugin.ProtocolVersion {
		p.Kill()
		return nil, fmt.Errorf("negotiated protocol %d, want %d", p.client.NegotiatedVersion(), grpcplugin.ProtocolVersion)
	}
	if p.client.Protocol() != plugin.ProtocolGRPC {
		p.Kill()
		return nil, fmt.Errorf("negotiated protocol %q, want grpc", p.client.Protocol())
	}
	dispense := func(name string) (any, error) {
		raw, err := rpc.Dispense(name)
		if err != nil {
			return nil, fmt.Errorf("dispense %q: %w", name, err)
		}
		return raw, nil
	}
	var errs []error
	if raw, err := dispense("diagnostics"); err == nil {
		p.Diagnostics, _ = raw.(grpcplugin.DiagnosticsClient)
	} else {
		errs = append(errs, err)
	}
	if raw, err := dispense("resource"); err == nil {
		p.Resource, _ = raw.(grpcplugin.ResourceClient)
	} else {
		errs = append(errs, err)
	}
	if raw, err := dispense("data"); err == nil {
		p.Data, _ = raw.(grpcplugin.DataClient)
	} else {
		errs = append(errs, err)
	}
	if p.Diagnostics == nil || p.Resource == nil || p.Data == nil {
		errs = append(errs, errors.New("a dispensed client has an unexpected type"))
	}
	if len(errs) > 0 {
		p.Kill()
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// Exited reports whether the plugin process has stopped.
func (p *Plugin) Exited() bool { return p.client == nil || p.client.Exited() }

// Kill stops the process the way Grafana does: go-plugin asks the controller to shut
// down gracefully, then kills after its grace period.
func (p *Plugin) Kill() {
	if p.client != nil {
		p.client.Kill()
	}
	p.logMu.Lock()
	defer p.logMu.Unlock()
	if p.logFile != nil {
		_ = p.logFile.Close()
		p.logFile = nil
		p.logOut.w = nil
	}
}

// LogTail returns the last n lines the plugin logged (empty without a log file).
func (p *Plugin) LogTail(n int) string {
	if p.LogPath == "" {
		return ""
	}
	p.logMu.Lock()
	defer p.logMu.Unlock()
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (p *Plugin) logTail(n int) string {
	if t := p.LogTail(n); t != "" {
		return "\nplugin log (" + p.LogPath + "):\n" + t
	}
	return ""
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w == nil {
		return len(b), nil
	}
	return l.w.Write(b)
}
