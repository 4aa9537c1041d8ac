// This file holds the pieces of "what Grafana does" that do not depend on a test: the
// plugin's environment, the resource path and URL Grafana derives from its HTTP route, the
// headers its query service forwards, and the two calls (CallResource streamed part by
// part, QueryData decoded with the SDK). host.go (the tests) and cmd/front (the HTTP front
// for the browser harness) both use them.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
)

// GrafanaVersion is the Grafana version the host claims to be (GF_VERSION, User-Agent).
const GrafanaVersion = "12.2.0"

// GrafanaEnv is the environment Grafana gives a backend plugin: its version and edition,
// and the plugin's [plugin.<id>] keys as GF_PLUGIN_<KEY> (here database_path, the store of a
// datasource without jsonData.databasePath).
func GrafanaEnv(defaultDatabasePath string) []string {
	env := []string{
		"GF_VERSION=" + GrafanaVersion,
		"GF_EDITION=Open Source",
	}
	if defaultDatabasePath != "" {
		env = append(env, "GF_PLUGIN_DATABASE_PATH="+defaultDatabasePath)
	}
	return env
}

// ResourceTarget is what Grafana puts in a CallResourceRequest for
// /api/datasources/uid/<uid>/resources/<rest>?<rawQuery>: Path is the route's wildcard
// (no leading slash, no query) and URL is url.URL{Path, RawQuery}.String().
func ResourceTarget(rest, rawQuery string) (path, fullURL string) {
	u := url.URL{Path: rest, RawQuery: rawQuery}
	return rest, u.String()
}

// ForwardedQueryHeaders are the request headers Grafana's tracing-header middleware copies
// into a QueryData request, each as "http_<name>" (backend.QueryDataRequest.SetHTTPHeader),
// in the spelling of Grafana's own list.
var ForwardedQueryHeaders = []string{
	"X-Query-Group-Id",
	"X-Panel-Id",
	"X-Dashboard-Uid",
	"X-Datasource-Uid",
	"X-Grafana-From-Expr",
	"X-Grafana-Org-Id",
	"X-Panel-Plugin-Id",
	"X-Dashboard-Title",
	"X-Panel-Title",
}

// ForwardQueryHeaders copies the headers of ForwardedQueryHeaders present (non-empty) in h
// into req as Grafana does.
func ForwardQueryHeaders(h http.Header, req *backend.QueryDataRequest) {
	for _, name := range ForwardedQueryHeaders {
		if v := h.Get(name); v != "" {
			req.SetHTTPHeader(name, v)
		}
	}
}

// ErrNoResourceResponse is returned when a CallResource stream ends without any message.
var ErrNoResourceResponse = errors.New("the CallResource stream ended without a response")

// StreamResource performs one CallResource and hands each part of the answer to each, in
// order, as it arrives (the first part carries the status and headers). It returns
// ErrNoResourceResponse when the plugin sent nothing, and each's own error, unwrapped.
func (p *Plugin) StreamResource(ctx context.Context, req *backend.CallResourceRequest, each func(part *backend.CallResourceResponse) error) error {
	stream, err := p.Resource.CallResource(ctx, backend.ToProto().CallResourceRequest(req))
	if err != nil {
		return fmt.Errorf("CallResource %s %s: gRPC error: %w", req.Method, req.URL, err)
	}
	parts := 0
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("CallResource %s %s: stream error after %d parts: %w", req.Method, req.URL, parts, err)
		}
		parts++
		if err := each(backend.FromProto().CallResourceResponse(msg)); err != nil {
			return err
		}
	}
	if parts == 0 {
		return fmt.Errorf("CallResource %s %s: %w", req.Method, req.URL, ErrNoResourceResponse)
	}
	return nil
}

// Query performs one QueryData and decodes the answer with the SDK (arrow or JSON frames),
// as Grafana does before it writes the answer to the browser. A non-nil error means the
// whole request failed (gRPC error or undecodable frames).
func (p *Plugin) Query(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	res, err := p.Data.QueryData(ctx, backend.ToProto().QueryDataRequest(req))
	if err != nil {
		return nil, fmt.Errorf("QueryData: gRPC error: %w", err)
	}
	out, err := backend.FromProto().QueryDataResponse(res)
	if err != nil {
		return nil, fmt.Errorf("QueryData: the SDK cannot decode the answer: %w", err)
	}
	return out, nil
}

// Health performs one CheckHealth for the datasource of pc (Grafana's "Save & test").
func (p *Plugin) Health(ctx context.Context, pc backend.PluginContext) (*backend.CheckHealthResult, error) {
	res, err := p.Diagnostics.CheckHealth(ctx, &pluginv2.CheckHealthRequest{
		PluginContext: backend.ToProto().PluginContext(pc),
		Headers:       map[string]string{},
	})
	if err != nil {
		return nil, fmt.Errorf("CheckHealth: gRPC error: %w", err)
	}
	return backend.FromProto().CheckHealthResponse(res), nil
}
