package stats

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
)

// parseFile reads a stats file: a JSON array of row objects, each with a
// date. Anything else is not a stats file, and the error says what is
// wrong with it and where (line numbers count from 1).
func parseFile(data []byte) ([]Row, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("it is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	line := func() int { return 1 + bytes.Count(data[:dec.InputOffset()], []byte("\n")) }
	at := func(err error) error {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return fmt.Errorf("line %d: %v", 1+bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n")), se)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			last := bytes.Count(data, []byte("\n")) // a final newline ends the last line
			if !bytes.HasSuffix(data, []byte("\n")) {
				last++
			}
			return fmt.Errorf("it ends at line %d before the array is closed (truncated?)", last)
		}
		return fmt.Errorf("line %d: %v", line(), err)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, at(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("line %d: the top level is not an array of rows", line())
	}
	rows := []Row{}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, at(err)
		}
		n := len(rows) + 1
		if raw[0] != '{' {
			return nil, fmt.Errorf("line %d: row %d is not an object", line(), n)
		}
		var r Row
		if err := json.Unmarshal(raw, &r); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return nil, fmt.Errorf("line %d: row %d: %s is a JSON %s, where a stats row holds %s", line(), n, te.Field, te.Value, kindName(te.Type))
			}
			return nil, fmt.Errorf("line %d: row %d: %v", line(), n, err)
		}
		if r.Date == "" {
			return nil, fmt.Errorf("line %d: row %d has no date", line(), n)
		}
		rows = append(rows, r)
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, at(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("line %d: data after the array", line())
	}
	return rows, nil
}

// kindName says in JSON terms what a Row field holds.
func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "a whole number"
	}
	return t.String()
}
