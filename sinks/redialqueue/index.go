package redialqueue

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/etlhq/etl/etl/phone"
)

// requiredFields are the fields of an entry that the dialer's queue
// processor reads: the fields this sink writes. An entry without one of
// them (or that is not an object) is not a queue entry; it is kept as it
// is, counted and reported. entryShape reads phone_number as the second.
var requiredFields = [...]string{"lead_id", "phone_number", "status", "attempts", "last_attempt", "next_attempt", "created_at", "metadata"}

// maxNamed bounds how many keys a report names for each kind of finding;
// the counts stay exact.
const maxNamed = 20

// keyAt is a key of the queue file and the line it is on.
type keyAt struct {
	key  string
	line int
}

// oddEntry is an entry that is not a queue entry, and why.
type oddEntry struct {
	keyAt
	why string
}

// index says which phones the queue file holds, under which keys. A phone
// is queued when a key normalizes to it (etl/phone: "+12008741568" is
// 2008741568) or when an entry's phone_number does. Memory: one integer
// per phone under its own 10-digit key (the usual case); only phones
// queued under another key keep those keys.
type index struct {
	// own holds the phones whose key is their 10-digit form, with the
	// key's line.
	own map[phone.Number]int
	// others holds, per phone, the other keys it is queued under: another
	// spelling of it, or another key whose entry's phone_number is it.
	others map[phone.Number][]keyAt
	// spelled holds the keys that are not 10-digit forms, to find a key
	// written twice.
	spelled map[string]int

	odd      []oddEntry // the first maxNamed entries that are not queue entries
	oddCount int
}

func newIndex() index {
	return index{own: map[phone.Number]int{}, others: map[phone.Number][]keyAt{}, spelled: map[string]int{}}
}

// add indexes the members. A key written twice, character for character,
// is an error naming it: which of the two entries the queue processor
// reads is unknown, so the file is not ours to rewrite. Two spellings of
// one phone are not an error (both entries are kept; see multiKeyed).
func (x *index) add(members []member) error {
	for _, m := range members {
		var why []string
		keyNum, keyOK := phone.ParseNumber(m.key)
		if keyOK {
			if first, dup := x.own[keyNum]; dup {
				return duplicateKey(m, first)
			}
			x.own[keyNum] = m.line
		} else {
			if first, dup := x.spelled[m.key]; dup {
				return duplicateKey(m, first)
			}
			x.spelled[m.key] = m.line
			if p, _, ok := phone.Normalize(m.key); ok {
				keyNum, _ = phone.ParseNumber(p)
				keyOK = true
				x.others[keyNum] = append(x.others[keyNum], keyAt{m.key, m.line})
			} else {
				why = append(why, "its key is not a phone")
			}
		}
		isObject, missing, pn := entryShape(m.raw)
		switch {
		case !isObject:
			why = append(why, "not an object")
		case len(missing) > 0:
			why = append(why, "lacks "+strings.Join(missing, ", "))
		}
		if len(why) > 0 {
			x.oddCount++
			if len(x.odd) < maxNamed {
				x.odd = append(x.odd, oddEntry{keyAt{m.key, m.line}, strings.Join(why, "; ")})
			}
		}
		// The phone_number the processor dials may be another phone than
		// the key's: that phone is queued too, under this key.
		if p, _, ok := phone.Normalize(pn); ok {
			if n, _ := phone.ParseNumber(p); !keyOK || n != keyNum {
				x.others[n] = append(x.others[n], keyAt{m.key, m.line})
			}
		}
	}
	return nil
}

// duplicateKey is the error for a key written twice. Keys are phones:
// masked, as everywhere but in plan --unmask; the lines say where.
func duplicateKey(m member, first int) error {
	return fmt.Errorf("key %s appears twice (lines %d and %d), and the queue processor would read only one of the two entries. Keep one of them (merging them by hand if need be) and run again", phone.Mask(m.key), first, m.line)
}

// queued says whether the phone is in the file, and under which keys
// other than its own 10-digit one.
func (x *index) queued(num phone.Number) (ok bool, other []keyAt) {
	_, own := x.own[num]
	other = x.others[num]
	return own || len(other) > 0, other
}

// multiKeyed returns the phones queued under more than one key, each with
// its keys (someone queued them twice already: both entries are kept, no
// third is added).
func (x *index) multiKeyed() []multiKey {
	var out []multiKey
	for num, others := range x.others {
		var keys []keyAt
		if line, ok := x.own[num]; ok {
			keys = append(keys, keyAt{num.String(), line})
		}
		keys = append(keys, others...)
		if len(keys) > 1 {
			slices.SortFunc(keys, func(a, b keyAt) int { return a.line - b.line })
			out = append(out, multiKey{num, keys})
		}
	}
	slices.SortFunc(out, func(a, b multiKey) int { return cmp.Compare(a.phone, b.phone) })
	return out
}

type multiKey struct {
	phone phone.Number
	keys  []keyAt
}

// entryShape scans a JSON value (valid: the parser decoded it) and says
// whether it is an object, which required fields it lacks, and its
// phone_number when that is a string. It allocates only for the rare
// escaped key or phone_number.
func entryShape(raw []byte) (isObject bool, missing []string, phoneNumber string) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return false, nil, ""
	}
	var seen [len(requiredFields)]bool
	i++
	for {
		i = skipSpace(raw, i)
		if i >= len(raw) || raw[i] == '}' {
			break
		}
		if raw[i] == ',' {
			i++
			continue
		}
		kEnd := skipString(raw, i)
		key := raw[i+1 : kEnd-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			key = []byte(unquote(raw[i:kEnd]))
		}
		i = skipSpace(raw, kEnd)
		i = skipSpace(raw, i+1) // the colon
		vEnd := skipValue(raw, i)
		for f, name := range requiredFields {
			if string(key) == name { // compared in place, not copied
				seen[f] = true
				if f == 1 && raw[i] == '"' { // phone_number
					phoneNumber = unquote(raw[i:vEnd])
				}
			}
		}
		i = vEnd
	}
	for f, ok := range seen {
		if !ok {
			missing = append(missing, requiredFields[f])
		}
	}
	return true, missing, phoneNumber
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the end of the string starting at b[i] (a quote).
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the end of the value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}

// unquote turns a JSON string literal into its text.
func unquote(lit []byte) string {
	if bytes.IndexByte(lit, '\\') < 0 && len(lit) >= 2 {
		return string(lit[1 : len(lit)-1])
	}
	var s string
	json.Unmarshal(lit, &s)
	return s
}
