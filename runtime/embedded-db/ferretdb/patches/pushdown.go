// This file is compiled into FerretDB's internal/backends/sqlite package (see build.ts and
// collection.go.patch): it is paygraph's code, not FerretDB's.
//
// FerretDB 1.24's SQLite backend hands SQLite a WHERE clause only for a filter that is exactly
// `{_id: value}`; every other filter reads and decodes the whole table and is matched in Go.
// At volume that is every lookup by payment, account, customer or idempotency key. We push
// down more: the SQL condition selects a superset of the matching documents (FerretDB still
// applies the whole filter in Go afterwards), so it only has to be cheap and never too narrow.

package sqlite

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// maxPushedInValues bounds one IN list: SQLite limits the number of bound parameters.
const maxPushedInValues = 500

// plainField is a top-level field name we can put inside a SQLite JSON path unquoted.
var plainField = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// paygraphWhereClause returns a WHERE clause (with its leading space) and its arguments for the
// filter's conditions SQLite can answer from an index, or "" when there are none.
//
// Pushed down: equality to a string or ObjectID, and $eq / $in of those, on `_id` or on any
// plain top-level field. Everything else (ranges, other types, dotted paths, operators) is left
// to FerretDB's own matching. Numbers are left out on purpose: 3, 3.0 and int64(3) are equal to
// MongoDB but differ as JSON text.
//
// A field other than _id may hold an array, and `{f: "x"}` matches an array containing "x":
// such rows are kept by `OR json_type(...) = 'array'`. Both sides of that OR have an index (the
// embedded database adds them: lookup_indexes.go), so SQLite answers it with two index lookups.
func paygraphWhereClause(filter *types.Document) (string, []any) {
	if filter == nil {
		return "", nil
	}
	var conditions []string
	var args []any
	for _, key := range filter.Keys() {
		if key == "_id" {
			if values, ok := pushableValues(must.NotFail(filter.Get(key))); ok {
				conditions = append(conditions, inCondition(metadata.IDColumn, len(values)))
				args = append(args, values...)
			}
			continue
		}
		if !plainField.MatchString(key) {
			continue
		}
		values, ok := pushableValues(must.NotFail(filter.Get(key)))
		if !ok {
			continue
		}
		conditions = append(conditions, fmt.Sprintf(`(%s OR %s = 'array')`, inCondition(FieldExpression(key), len(values)), FieldTypeExpression(key)))
		args = append(args, values...)
	}
	if len(conditions) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conditions, " AND "), args
}

// FieldExpression is the SQL expression for a top-level field's value as JSON text; the index
// on it must use exactly the same text for SQLite to use it.
func FieldExpression(field string) string {
	return fmt.Sprintf(`%s->'$.%s'`, metadata.DefaultColumn, field)
}

// FieldTypeExpression is the SQL expression for a top-level field's JSON type.
func FieldTypeExpression(field string) string {
	return fmt.Sprintf(`json_type(%s, '$.%s')`, metadata.DefaultColumn, field)
}

func inCondition(expression string, n int) string {
	if n == 1 {
		return expression + ` = ?`
	}
	return expression + ` IN (?` + strings.Repeat(`, ?`, n-1) + `)`
}

// pushableValues returns the JSON texts a condition may equal: one for a string or ObjectID,
// several for `$in` of only those, one for `$eq`. Anything else is not pushed down.
func pushableValues(condition any) ([]any, bool) {
	if text, ok := scalarText(condition); ok {
		return []any{text}, true
	}
	operators, ok := condition.(*types.Document)
	if !ok || operators.Len() != 1 {
		return nil, false
	}
	if eq, err := operators.Get("$eq"); err == nil {
		if text, ok := scalarText(eq); ok {
			return []any{text}, true
		}
		return nil, false
	}
	in, err := operators.Get("$in")
	if err != nil {
		return nil, false
	}
	list, ok := in.(*types.Array)
	if !ok || list.Len() == 0 || list.Len() > maxPushedInValues {
		return nil, false
	}
	values := make([]any, 0, list.Len())
	for i := 0; i < list.Len(); i++ {
		text, ok := scalarText(must.NotFail(list.Get(i)))
		if !ok {
			return nil, false
		}
		values = append(values, text)
	}
	return values, true
}

func scalarText(value any) (string, bool) {
	switch value.(type) {
	case string, types.ObjectID:
		return string(must.NotFail(sjson.MarshalSingleValue(value))), true
	}
	return "", false
}
