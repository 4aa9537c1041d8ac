// Command gpx_maturity_peer is a BENCHMARK PEER, not product: a Grafana backend datasource
// written the way a plugin author would with grafana-plugin-sdk-go, answering QueryData for
// queryType `events` exactly as the Rust plugin (gpx_maturity) does, on the same store (an
// SQLite file opened read-only, or the same PostgreSQL database). `cargo bench --bench peer`
// runs it beside gpx_maturity and compares memory, latency and throughput (issue 15).
//
// It implements nothing but `events`: the query model (team, dashboardUid, kinds, tags,
// limit and the time range), the SELECT of the store's list_events and the annotation-shaped
// frame (time, timeEnd, title, text, tags, id, kind, team, dashboardUID, login).
//
// Run by Grafana it serves through go-plugin (datasource.Manage: a Unix socket). With
// MATURITY_PEER_TCP set (as the bench does, whose gRPC client speaks TCP only) it serves the
// same handlers with the SDK's standalone gRPC server on 127.0.0.1 and prints go-plugin's
// handshake line itself, as the SDK's standalone locator does.
package main

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/backend/tracing"
)

// pluginID would be the peer's id in its plugin.json.
const pluginID = "datadriven-maturity-peer-datasource"

func main() {
	if os.Getenv("MATURITY_PEER_TCP") != "" {
		if err := serveTCP(); err != nil {
			log.DefaultLogger.Error("peer: " + err.Error())
			os.Exit(1)
		}
		return
	}
	if err := datasource.Manage(pluginID, NewDatasource, datasource.ManageOpts{}); err != nil {
		log.DefaultLogger.Error(err.Error())
		os.Exit(1)
	}
}

// serveTCP serves the same instance-managed handlers as datasource.Manage (the SDK's default
// middlewares and gRPC options, through backend.TestStandaloneServe) on a free port of
// 127.0.0.1, prints the go-plugin handshake line and serves until killed.
func serveTCP() error {
	backend.SetupPluginEnvironment(pluginID)
	if err := backend.SetupTracer(pluginID, tracing.Opts{}); err != nil {
		return fmt.Errorf("setup tracer: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return err
	}
	h := &managed{im: datasource.NewInstanceManager(NewDatasource)}
	if _, err := backend.TestStandaloneServe(backend.ServeOpts{
		QueryDataHandler:   h,
		CheckHealthHandler: h,
	}, addr); err != nil {
		return err
	}
	fmt.Printf("1|2|tcp|%s|grpc\n", addr)
	select {}
}

// managed hands each request to the datasource instance of its PluginContext, as the SDK's
// automanagement (used by datasource.Manage) does.
type managed struct {
	im instancemgmt.InstanceManager
}

func (m *managed) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	inst, err := m.im.Get(ctx, req.PluginContext)
	if err != nil {
		return nil, err
	}
	return inst.(*Datasource).QueryData(ctx, req)
}

func (m *managed) CheckHealth(ctx context.Context, req *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	inst, err := m.im.Get(ctx, req.PluginContext)
	if err != nil {
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: err.Error()}, nil
	}
	return inst.(*Datasource).CheckHealth(ctx, req)
}
