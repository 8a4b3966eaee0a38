package convoso

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/phone"
)

// The filter's answers are an etl.Cacher: the engine saves them with the
// checkpoint while a run goes on and when it fails or is interrupted, so
// that resuming does not ask Convoso again about a phone already answered;
// a completed run's checkpoint holds none, so running the pipeline again
// looks every phone up afresh.
//
// Saved is the verdict per phone (a few words), not the leads: about 40
// bytes a phone in the file, and the lookups the run keeps anyway in
// memory. A verdict depends on the settings that decide it, so they are
// saved with it, and answers made with other settings are not reused.

// savedAnswers is the JSON of the cache. Each answer is
// [phone, keep (0 or 1), drop reason, lead count] followed, when the phone
// has leads, by [lead id, lead status, list id] of its latest lead.
type savedAnswers struct {
	Settings string            `json:"settings"`
	Answers  []json.RawMessage `json:"answers"`
}

// settings is what a verdict depends on besides Convoso's answer.
func (f *Filter) settings() string {
	sorted := func(list []string) string { return strings.Join(slices.Sorted(slices.Values(list)), ",") }
	return fmt.Sprintf("exclude_statuses=%s; exclude_flags=%s; on_not_found=%s; check_dnc_list=%t",
		sorted(f.cfg.ExcludeStatuses), sorted(f.cfg.ExcludeFlags), f.cfg.OnNotFound, f.cfg.CheckDNCList)
}

// SaveCache writes the answers obtained so far (skipped phones are not
// answers), in phone order; nil when there are none. Safe while lookups
// run.
func (f *Filter) SaveCache() ([]byte, error) {
	type saved struct {
		num phone.Number
		v   verdict
	}
	var answers []saved
	f.lookups.Range(func(num phone.Number, v verdict, _ bool) {
		if !v.failed {
			answers = append(answers, saved{num, v})
		}
	})
	if len(answers) == 0 {
		return nil, nil
	}
	slices.SortFunc(answers, func(a, b saved) int { return cmp.Compare(a.num, b.num) })
	var b bytes.Buffer
	b.Grow(64 + 48*len(answers))
	b.WriteString(`{"settings": `)
	appendJSONString(&b, f.settings())
	b.WriteString(`, "answers": [`)
	for i, a := range answers {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n      [\"")
		b.WriteString(a.num.String())
		b.WriteString(`", `)
		if a.v.keep {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
		b.WriteString(", ")
		appendJSONString(&b, a.v.reason)
		b.WriteString(", ")
		b.WriteString(strconv.FormatInt(int64(a.v.count), 10))
		if a.v.found {
			for _, s := range []string{a.v.latest.id, a.v.latest.status, a.v.latest.listID} {
				b.WriteString(", ")
				appendJSONString(&b, s)
			}
		}
		b.WriteByte(']')
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

// LoadCache restores the answers of the run being resumed. Answers made
// with other settings (exclude_statuses edited since) are dropped, with a
// line in the report: every phone is then looked up again.
func (f *Filter) LoadCache(data []byte) error {
	var saved savedAnswers
	if err := json.Unmarshal(data, &saved); err != nil {
		return fmt.Errorf("the saved Convoso answers are not readable: %w (run with --fresh to start over)", err)
	}
	if saved.Settings != f.settings() {
		f.env.Report(etl.EventInfo, "", fmt.Sprintf("%d Convoso answers saved by the run being resumed were made with other settings (%s); every phone is looked up again",
			len(saved.Answers), saved.Settings), map[string]any{"answers_dropped": len(saved.Answers)})
		return nil
	}
	for i, raw := range saved.Answers {
		num, v, err := decodeAnswer(raw)
		if err != nil {
			return fmt.Errorf("saved Convoso answer %d: %w (run with --fresh to start over)", i, err)
		}
		f.lookups.Seed(num, v)
	}
	return nil
}

// decodeAnswer reads one saved answer (see savedAnswers).
func decodeAnswer(raw json.RawMessage) (phone.Number, verdict, error) {
	var row []any
	if err := json.Unmarshal(raw, &row); err != nil {
		return 0, verdict{}, err
	}
	bad := fmt.Errorf("not [phone, keep, reason, count] or [phone, keep, reason, count, lead id, status, list id]: %s", raw)
	if len(row) != 4 && len(row) != 7 {
		return 0, verdict{}, bad
	}
	ph, ok1 := row[0].(string)
	keep, ok2 := row[1].(float64)
	reason, ok3 := row[2].(string)
	count, ok4 := row[3].(float64)
	num, ok5 := phone.ParseNumber(ph)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return 0, verdict{}, bad
	}
	v := verdict{keep: keep == 1, reason: reason, count: int32(count)}
	if len(row) == 7 {
		var ok [3]bool
		v.found = true
		v.latest.id, ok[0] = row[4].(string)
		v.latest.status, ok[1] = row[5].(string)
		v.latest.listID, ok[2] = row[6].(string)
		if !ok[0] || !ok[1] || !ok[2] {
			return 0, verdict{}, bad
		}
	}
	return num, v, nil
}

// appendJSONString writes s as a JSON string: as it is when it needs no
// escape (statuses, ids), through encoding/json otherwise.
func appendJSONString(b *bytes.Buffer, s string) {
	plain := utf8.ValidString(s)
	for i := 0; plain && i < len(s); i++ {
		c := s[i]
		plain = c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' && c < 0x7f
	}
	if plain {
		b.WriteByte('"')
		b.WriteString(s)
		b.WriteByte('"')
		return
	}
	q, _ := json.Marshal(s) // a string always encodes
	b.Write(q)
}
