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
	"math"
	"regexp"
	"strings"
	"time"

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
// plain top-level field; and ranges ($gt, $gte, $lt, $lte) of numbers and dates on a plain
// top-level field other than _id (pushableRange). Everything else (other types, dotted paths,
// other operators) is left to FerretDB's own matching. Equality to a number is left out on
// purpose: 3, 3.0 and int64(3) are equal to MongoDB but differ as JSON text.
//
// A field other than _id may hold an array, and `{f: "x"}` matches an array containing "x" (a
// range, an array with an element in it): such rows are kept by `OR json_type(...) = 'array'`. Both sides of that OR have an index (the
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
		condition := must.NotFail(filter.Get(key))
		var match string
		var values []any
		if equal, ok := pushableValues(condition); ok {
			match, values = inCondition(FieldExpression(key), len(equal)), equal
		} else if bounds, limits, ok := pushableRange(key, condition); ok {
			match, values = bounds, limits
		} else {
			continue
		}
		conditions = append(conditions, fmt.Sprintf(`(%s OR %s = 'array')`, match, FieldTypeExpression(key)))
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

// FieldValueExpression is the SQL expression for a top-level field's value as an SQL value: a
// JSON number comes out as an INTEGER or REAL, compared numerically. Its index must use exactly
// the same text.
func FieldValueExpression(field string) string {
	return fmt.Sprintf(`%s->>'$.%s'`, metadata.DefaultColumn, field)
}

// rangeOperators are the comparisons pushableRange pushes down, with their SQL operators.
var rangeOperators = map[string]string{"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}

// pushableRange returns SQL bounds (and their arguments) for a condition made only of $gt,
// $gte, $lt and $lte on numbers or dates, e.g. `{sequence: {$gt: 41}}` or `{at: {$gte: since}}`.
//
// The bounds select a superset of the documents MongoDB would match: every number compares as
// a number (an int32, an int64 and a double alike), and a date is stored as its Unix
// milliseconds, the value it is compared by. Values of other types that pass the SQL bound (a
// string compares above every number in SQLite, a boolean as 0 or 1) are rows FerretDB's own
// matching then drops; values of other types that fail it never match a numeric or date bound
// in MongoDB either. NaN is not pushed down.
func pushableRange(field string, condition any) (string, []any, bool) {
	operators, ok := condition.(*types.Document)
	if !ok || operators.Len() == 0 {
		return "", nil, false
	}
	var bounds []string
	var args []any
	for _, operator := range operators.Keys() {
		sqlOperator, ok := rangeOperators[operator]
		if !ok {
			return "", nil, false
		}
		var arg any
		switch v := must.NotFail(operators.Get(operator)).(type) {
		case int32:
			arg = int64(v)
		case int64:
			arg = v
		case float64:
			if math.IsNaN(v) {
				return "", nil, false
			}
			arg = v
		case time.Time:
			arg = v.UnixMilli()
		default:
			return "", nil, false
		}
		bounds = append(bounds, fmt.Sprintf(`%s %s ?`, FieldValueExpression(field), sqlOperator))
		args = append(args, arg)
	}
	return "(" + strings.Join(bounds, " AND ") + ")", args, true
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
