// This file is compiled into FerretDB's internal/handler/sjson package (see build.ts and
// sjson.patch): it is paygraph's code, not FerretDB's.
//
// FerretDB 1.24 decodes every stored document, and every value in it, with its own
// json.Decoder over a bytes.Reader and then checks that nothing is left over: a decoder, a
// buffer and a copy per value. On reads that was the largest share of the database's CPU.
// decodeExact gives the same answer for the same input from one json.Unmarshal (which also
// refuses trailing data), and reads a plain JSON string without the reflection at all.

package sjson

import (
	"bytes"
	"encoding/json"
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
