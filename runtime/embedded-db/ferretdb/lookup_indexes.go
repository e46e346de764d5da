package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver FerretDB itself uses
)

// Our build of FerretDB pushes lookups down to SQLite as conditions on JSON expressions
// (patches/pushdown.go): `_ferretdb_sjson->'$._id' = ?` for _id, and for another field f
// `(_ferretdb_sjson->'$.f' IN (...) OR json_type(_ferretdb_sjson, '$.f') = 'array')`, or for a
// range of numbers or dates `(_ferretdb_sjson->>'$.f' > ? OR json_type(...) = 'array')`.
// FerretDB's own indexes are on a different expression text (`_ferretdb_sjson->"f"`), and
// SQLite uses an index only for the exact expression it was built on, so they never serve a
// query. Here we add indexes on the exact expressions: _id for every collection, and the
// first field of every index the application declared (declaring an index is how an
// application says "I look documents up by this"). SQLite keeps them with their table;
// FerretDB never sees them. Ours whose application index has been dropped are dropped too.
// The expression texts below must match pushdown.go's.

const indexSuffix = "__paygraph_"

// plainField matches the field names pushdown.go pushes down.
var plainField = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

type collectionSettings struct {
	Indexes []struct {
		Key []struct {
			Field string `json:"field"`
		} `json:"key"`
	} `json:"indexes"`
}

// lookupIndexes returns the indexes (name → expression) one collection's table should have.
func lookupIndexes(table, settings string) map[string]string {
	wanted := map[string]string{table + indexSuffix + "id_lookup": `_ferretdb_sjson->'$._id'`}
	var parsed collectionSettings
	if err := json.Unmarshal([]byte(settings), &parsed); err != nil {
		return wanted
	}
	for _, index := range parsed.Indexes {
		if len(index.Key) == 0 {
			continue
		}
		field := index.Key[0].Field
		if field == "_id" || !plainField.MatchString(field) {
			continue
		}
		wanted[table+indexSuffix+field] = fmt.Sprintf(`_ferretdb_sjson->'$.%s'`, field)
		wanted[table+indexSuffix+field+"_type"] = fmt.Sprintf(`json_type(_ferretdb_sjson, '$.%s')`, field)
		wanted[table+indexSuffix+field+"_value"] = fmt.Sprintf(`_ferretdb_sjson->>'$.%s'`, field)
	}
	return wanted
}

// indexLookups adds the missing indexes to every table of every database under dir.
func indexLookups(ctx context.Context, dir string, logger *slog.Logger) {
	files, err := filepath.Glob(filepath.Join(dir, "*.sqlite"))
	if err != nil {
		return
	}
	for _, file := range files {
		if err := indexDatabase(ctx, file); err != nil && ctx.Err() == nil {
			logger.Warn("lookup index not added", slog.String("db", filepath.Base(file)), slog.String("err", err.Error()))
		}
	}
}

func indexDatabase(ctx context.Context, file string) error {
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	existing, err := existingIndexes(ctx, db)
	if err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, `SELECT table_name, settings FROM _ferretdb_collections`)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil // a database FerretDB has not set up yet
		}
		return err
	}
	missing := map[string][2]string{} // index name → table, expression
	wanted := map[string]bool{}
	for rows.Next() {
		var table, settings string
		if err := rows.Scan(&table, &settings); err != nil {
			rows.Close()
			return err
		}
		for name, expression := range lookupIndexes(table, settings) {
			wanted[name] = true
			if _, ok := existing[name]; !ok {
				missing[name] = [2]string{table, expression}
			}
		}
	}
	rows.Close()
	// Ours for an index the application has since dropped: every write still paid for it.
	for name, table := range existing {
		if strings.HasPrefix(name, table+indexSuffix) && !wanted[name] {
			if _, err := db.ExecContext(ctx, fmt.Sprintf(`DROP INDEX IF EXISTS %q`, name)); err != nil {
				return err
			}
		}
	}
	var held time.Duration
	for name, target := range missing {
		// Each CREATE INDEX holds the database's write lock while it reads the whole table.
		// Back to back over a freshly loaded volume they starved FerretDB's own writers past
		// their busy timeout (an application's createIndex failed with SQLITE_BUSY half done,
		// leaving an index FerretDB's metadata does not know): after a long build, pause so
		// waiting writers go first. Builds on small tables are quick and go on at once.
		if held > slowBuild {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(writerPause):
			}
		}
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (%s)`, name, target[0], target[1])
		started := time.Now()
		if _, err := db.ExecContext(ctx, q); err != nil && !strings.Contains(err.Error(), "no such table") {
			return err
		}
		held = time.Since(started)
	}
	return nil
}

// slowBuild is a build that held the lock long enough for a writer to be waiting behind it;
// writerPause is longer than the longest sleep of SQLite's busy handler (100 ms), so such a
// writer gets the lock before our next build.
const (
	slowBuild   = 20 * time.Millisecond
	writerPause = 150 * time.Millisecond
)

// existingIndexes maps each index of the database to its table.
func existingIndexes(ctx context.Context, db *sql.DB) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	tables := map[string]string{}
	for rows.Next() {
		var name, table string
		if err := rows.Scan(&name, &table); err != nil {
			return nil, err
		}
		tables[name] = table
	}
	return tables, rows.Err()
}

// keepLookupsIndexed indexes existing collections at once, then new collections and indexes
// every interval.
func keepLookupsIndexed(ctx context.Context, dir string, interval time.Duration, logger *slog.Logger) {
	if _, err := os.Stat(dir); err != nil {
		return
	}
	indexLookups(ctx, dir, logger)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			indexLookups(ctx, dir, logger)
		}
	}
}
