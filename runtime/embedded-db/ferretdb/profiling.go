package main

import (
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
)

// serveProfiles serves Go's pprof endpoints on a loopback address when one is given
// (PAYGRAPH_FERRETDB_PPROF=127.0.0.1:6060): how the benchmark finds where the database's CPU
// goes, e.g. `go tool pprof http://127.0.0.1:6060/debug/pprof/profile?seconds=10`.
func serveProfiles(addr string, logger *slog.Logger) {
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || !(host == "127.0.0.1" || host == "::1" || host == "localhost") {
		fail("PAYGRAPH_FERRETDB_PPROF must be a loopback address, got %q", addr)
	}
	go func() {
		if err := http.ListenAndServe(addr, nil); err != nil {
			logger.Warn("pprof server stopped", "error", err)
		}
	}()
}
