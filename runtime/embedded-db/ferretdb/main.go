// Command paygraph-ferretdb runs FerretDB 1.24 embedded with its SQLite backend.
//
// We wrap the embeddable package instead of `go install .../cmd/ferretdb` because that
// binary panics at start: its version file is generated, not committed.
//
// It listens on the loopback address given by -listen (port 0 picks a free one) and prints
// one line `READY mongodb://host:port/` on stdout once it accepts connections, so the
// process that started it knows where to connect. SIGINT/SIGTERM stop it cleanly.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/build/version"
	"github.com/FerretDB/FerretDB/ferretdb"
)

// embeddedVersion is what buildInfo reports as ferretdbVersion: it tells clients this build
// pushes `$in` and indexed-field lookups down to SQLite (patches/pushdown.go), which a stock
// FerretDB 1.x does not. runtime/mongo.ts reads it to choose how to read batches by _id.
const embeddedVersion = "v1.24.2+paygraph.pushdown"

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to listen on; port 0 picks a free port")
	dataDir := flag.String("data", "", "directory for the SQLite databases (required)")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	if *dataDir == "" {
		fail("-data is required")
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil || !(host == "127.0.0.1" || host == "::1" || host == "localhost") {
		fail("-listen must be a loopback address, got %q", *listen)
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		fail("cannot create data directory: %v", err)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fail("bad -log-level: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	version.Get().Version = embeddedVersion
	relaxGarbageCollection()
	serveProfiles(os.Getenv("PAYGRAPH_FERRETDB_PPROF"), logger)

	dir := *dataDir
	if !strings.HasSuffix(dir, "/") {
		dir += "/"
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir,
	})
	if err != nil {
		fail("%v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	// Pushed-down lookups would scan their table without these (see lookup_indexes.go).
	go keepLookupsIndexed(ctx, dir, time.Second, logger)

	uri := f.MongoDBURI()
	if err := waitForListener(uri, 10*time.Second); err != nil {
		fail("listener did not come up: %v", err)
	}
	fmt.Printf("READY %s\n", uri)

	if err := <-done; err != nil && ctx.Err() == nil {
		fail("stopped: %v", err)
	}
}

// defaultGCPercent lets the heap grow to five times what is live before a collection. FerretDB
// decodes every document it reads into short-lived Go values; at Go's default (100) collection
// and its allocation assists were about a fifth of the database's CPU on reads, for a live
// heap of tens of megabytes.
const defaultGCPercent = 400

// relaxGarbageCollection applies defaultGCPercent unless GOGC is set, which then wins.
func relaxGarbageCollection() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}

// waitForListener dials until the TCP listener accepts, so READY is never printed early.
func waitForListener(uri string, timeout time.Duration) error {
	addr := strings.TrimSuffix(strings.TrimPrefix(uri, "mongodb://"), "/")
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "paygraph-ferretdb: "+format+"\n", args...)
	os.Exit(1)
}
