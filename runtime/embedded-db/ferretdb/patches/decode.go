// This file is compiled into FerretDB's internal/handler/sjson package (see build.ts and
// sjson.patch): it is paygraph's code, not FerretDB's.
//
// FerretDB 1.24 decodes every stored document, and every value in it, with its own
// json.Decoder over a bytes.Reader and then checks that nothing is left over: a decoder, a
// buffer and a copy per value. On reads that was the largest share of the database's CPU.
// decodeExact gives the same answer for the same input from one json.Unmarshal (which also
// refuses trailing data), reads a plain JSON string without the reflection at all, and splits
// objects and arrays into their members' texts with a scanner rather than json.Unmarshal's
// reflection into a map. The schema stored in each document (`$s`) is decoded once per
// distinct text (cachedSchema).

package sjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"sync"
	"unicode/utf8"
)

// decodeExact decodes data, which must hold exactly one JSON value, into v.
func decodeExact(data []byte, v any) error {
	switch v := v.(type) {
	case *string:
		if plain, ok := plainString(data); ok {
			*v = plain
			return nil
		}
	case *map[string]json.RawMessage:
		members, err := scanObject(data)
		if err != nil {
			return err
		}

		*v = members

		return nil
	case *[]json.RawMessage:
		elements, err := scanArray(data)
		if err != nil {
			return err
		}

		*v = elements

		return nil
	}

	return json.Unmarshal(data, v)
}

// errMalformed reports JSON that scanObject or scanArray cannot split.
var errMalformed = errors.New("sjson: malformed JSON")

// scanObject splits a JSON object into its members' raw texts, as json.Unmarshal into a
// map[string]json.RawMessage does (a repeated key keeps its last value), without decoding the
// values: each is decoded by its schema type, which checks it then, nested objects and arrays
// by scanObject and scanArray again. The raw texts are slices of data.
func scanObject(data []byte) (map[string]json.RawMessage, error) {
	members := make(map[string]json.RawMessage)

	err := scanContainer(data, '{', '}', func(i int) (int, error) {
		keyEnd, err := skipString(data, i)
		if err != nil {
			return 0, err
		}

		key, err := stringText(data[i:keyEnd])
		if err != nil {
			return 0, err
		}

		i = skipSpace(data, keyEnd)
		if i >= len(data) || data[i] != ':' {
			return 0, errMalformed
		}

		start := skipSpace(data, i+1)

		end, err := skipValue(data, start)
		if err != nil {
			return 0, err
		}

		members[key] = data[start:end]

		return end, nil
	})
	if err != nil {
		return nil, err
	}

	return members, nil
}

// scanArray splits a JSON array into its elements' raw texts, as scanObject does for objects.
func scanArray(data []byte) ([]json.RawMessage, error) {
	elements := []json.RawMessage{}

	err := scanContainer(data, '[', ']', func(i int) (int, error) {
		end, err := skipValue(data, i)
		if err != nil {
			return 0, err
		}

		elements = append(elements, data[i:end])

		return end, nil
	})
	if err != nil {
		return nil, err
	}

	return elements, nil
}

// scanContainer walks the JSON object or array that data holds, between its open and close
// brackets: member reads the member starting at i and returns where it ends. It checks the
// commas between members, the closing bracket, and that only whitespace follows.
func scanContainer(data []byte, open, close byte, member func(i int) (int, error)) error {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != open {
		return errMalformed
	}

	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == close {
		return onlySpaceFrom(data, i+1)
	}

	for {
		end, err := member(i)
		if err != nil {
			return err
		}

		i = skipSpace(data, end)
		if i >= len(data) {
			return errMalformed
		}

		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case close:
			return onlySpaceFrom(data, i+1)
		default:
			return errMalformed
		}
	}
}

// skipValue returns the end of the JSON value starting at i: a string, an object or array
// (brackets balanced, strings inside skipped whole), or a literal up to the next delimiter.
func skipValue(data []byte, i int) (int, error) {
	if i >= len(data) {
		return 0, errMalformed
	}

	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0

		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				end, err := skipString(data, j)
				if err != nil {
					return 0, err
				}

				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}

		return 0, errMalformed
	}

	j := i
	for j < len(data) && !isDelimiter(data[j]) {
		j++
	}

	if j == i {
		return 0, errMalformed
	}

	return j, nil
}

// skipString returns the end of the JSON string literal starting at i.
func skipString(data []byte, i int) (int, error) {
	if i >= len(data) || data[i] != '"' {
		return 0, errMalformed
	}

	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '\\':
			j++
		case c == '"':
			return j + 1, nil
		case c < 0x20:
			return 0, errMalformed
		}
	}

	return 0, errMalformed
}

// stringText is the text of a JSON string literal (escapes go through json.Unmarshal).
func stringText(literal []byte) (string, error) {
	if plain, ok := plainString(literal); ok {
		return plain, nil
	}

	var s string
	err := json.Unmarshal(literal, &s)

	return s, err
}

func isDelimiter(c byte) bool {
	return c == ',' || c == '}' || c == ']' || isSpace(c)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}

	return i
}

// onlySpaceFrom refuses anything but whitespace after a value, as json.Unmarshal does.
func onlySpaceFrom(data []byte, i int) error {
	if skipSpace(data, i) != len(data) {
		return errMalformed
	}

	return nil
}

// plainString returns the text of a JSON string literal that needs no unescaping: valid UTF-8
// with no backslash, quote or control character inside. Anything else goes to json.Unmarshal,
// which handles escapes and replaces invalid UTF-8 exactly as the decoder did.
func plainString(data []byte) (string, bool) {
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' {
		return "", false
	}

	body := data[1 : len(data)-1]
	if bytes.IndexByte(body, '\\') >= 0 || bytes.IndexByte(body, '"') >= 0 {
		return "", false
	}

	for _, c := range body {
		if c < 0x20 {
			return "", false
		}
	}

	if !utf8.Valid(body) {
		return "", false
	}

	return string(body), true
}

// maxCachedSchemas bounds the schema cache. A collection's documents share a few schemas (an
// array's length is part of one, so a few more); past the bound, schemas are decoded each time.
const maxCachedSchemas = 4096

var (
	schemasM sync.RWMutex
	schemas  = make(map[string]*schema)
)

// cachedSchema decodes a document's `$s` schema, as FerretDB did (unknown fields refused,
// nothing left over), once per distinct text. Decoded schemas are only ever read.
func cachedSchema(raw []byte) (*schema, error) {
	schemasM.RLock()
	sch, ok := schemas[string(raw)]
	schemasM.RUnlock()

	if ok {
		return sch, nil
	}

	r := bytes.NewReader(raw)
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()

	sch = new(schema)
	if err := dec.Decode(sch); err != nil {
		return nil, err
	}

	if err := checkConsumed(dec, r); err != nil {
		return nil, err
	}

	schemasM.Lock()
	if len(schemas) < maxCachedSchemas {
		schemas[string(raw)] = sch
	}
	schemasM.Unlock()

	return sch, nil
}
