// This file is compiled into FerretDB's internal/handler/sjson package (see build.ts and
// sjson.patch): it is paygraph's code, not FerretDB's.
//
// FerretDB 1.24 decodes every stored document, and every value in it, with its own
// json.Decoder over a bytes.Reader and then checks that nothing is left over: a decoder, a
// buffer and a copy per value. On reads that was the largest share of the database's CPU.
// decodeExact gives the same answer for the same input from one json.Unmarshal (which also
// refuses trailing data), and reads a plain JSON string without the reflection at all. The
// schema stored in each document (`$s`) is decoded once per distinct text (cachedSchema).

package sjson

import (
	"bytes"
	"encoding/json"
	"sync"
	"unicode/utf8"
)

// decodeExact decodes data, which must hold exactly one JSON value, into v.
func decodeExact(data []byte, v any) error {
	if s, ok := v.(*string); ok {
		if plain, ok := plainString(data); ok {
			*s = plain
			return nil
		}
	}

	return json.Unmarshal(data, v)
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
