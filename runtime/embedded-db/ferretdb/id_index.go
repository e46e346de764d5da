package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver FerretDB itself uses
)

// FerretDB 1.24's SQLite backend pushes a `{_id: value}` filter down as
// `WHERE _ferretdb_sjson->'$._id' = ?`, but indexes _id as `_ferretdb_sjson->"_id"`: SQLite
// cannot match the two expressions, so every read by _id scans its table (40 ms a read at
// 50,000 payments). We add an index on the exact expression the query uses, for every
// collection, now and for collections created later. SQLite keeps it with its table; FerretDB
// never sees it.

const idLookupSuffix = "__paygraph_id_lookup"

// indexIDLookups adds the missing index to every table of every database under dir.
func indexIDLookups(ctx context.Context, dir string, logger *slog.Logger) {
	files, err := filepath.Glob(filepath.Join(dir, "*.sqlite"))
	if err != nil {
		return
	}
	for _, file := range files {
		if err := indexDatabase(ctx, file); err != nil && ctx.Err() == nil {
			logger.Warn("id lookup index not added", slog.String("db", filepath.Base(file)), slog.String("err", err.Error()))
		}
	}
}

func indexDatabase(ctx context.Context, file string) error {
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT t.table_name FROM _ferretdb_collections t WHERE NOT EXISTS
		(SELECT 1 FROM sqlite_master m WHERE m.type = 'index' AND m.name = t.table_name || ?)`, idLookupSuffix)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil // a database FerretDB has not set up yet
		}
		return err
	}
	var tables []string
	for rows.Next() {
		var table string
		if err := rows.Scan(&table); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, table)
	}
	rows.Close()
	for _, table := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, table+idLookupSuffix, table)
		if _, err := db.ExecContext(ctx, q); err != nil && !strings.Contains(err.Error(), "no such table") {
			return err
		}
	}
	return nil
}

// keepIDLookupsIndexed indexes existing collections at once, then new ones every interval.
func keepIDLookupsIndexed(ctx context.Context, dir string, interval time.Duration, logger *slog.Logger) {
	if _, err := os.Stat(dir); err != nil {
		return
	}
	indexIDLookups(ctx, dir, logger)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			indexIDLookups(ctx, dir, logger)
		}
	}
}
