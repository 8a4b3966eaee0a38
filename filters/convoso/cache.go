package convoso

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/phone"
)

// The filter's answers are an etl.Cacher: the engine commits them with the
// checkpoint while a run goes on and when it fails or is interrupted, so
// that resuming does not ask Convoso again about a phone already answered;
// a completed run empties them, so running the pipeline again looks every
// phone up afresh.
//
// The cache table holds the verdict per phone (a few words), not the
// leads, keyed by the phone's ten digits; each answer is written once, when
// it arrives, so a checkpoint commits only the answers new since the last.
// A verdict depends on the settings that decide it, so they are kept under
// settingsKey, and answers made with other settings are not reused.

// settingsKey holds the settings the cached answers were made with; it
// sorts before every phone.
var settingsKey = []byte("#settings")

// settings is what a verdict depends on besides Convoso's answer.
func (f *Filter) settings() string {
	sorted := func(list []string) string { return strings.Join(slices.Sorted(slices.Values(list)), ",") }
	return fmt.Sprintf("exclude_statuses=%s; exclude_flags=%s; on_not_found=%s; check_dnc_list=%t",
		sorted(f.cfg.ExcludeStatuses), sorted(f.cfg.ExcludeFlags), f.cfg.OnNotFound, f.cfg.CheckDNCList)
}

// UseCache takes the cache table and seeds the lookups with the answers of
// the run being resumed. Answers made with other settings (exclude_statuses
// edited since) are deleted, with a line in the report: every phone is
// then looked up again.
func (f *Filter) UseCache(t etl.Table) error {
	f.cache = t
	saved, ok, err := t.Get(settingsKey)
	if err != nil {
		return err
	}
	current := f.settings()
	if ok && string(saved) != current {
		var stale [][]byte
		err := t.Scan(func(k, _ []byte) error {
			if string(k) != string(settingsKey) {
				stale = append(stale, slices.Clone(k))
			}
			return nil
		})
		for _, k := range stale {
			if err == nil {
				err = t.Delete(k)
			}
		}
		if err != nil {
			return err
		}
		f.env.Report(etl.EventInfo, "", fmt.Sprintf("%d Convoso answers saved by the run being resumed were made with other settings (%s); every phone is looked up again",
			len(stale), saved), map[string]any{"answers_dropped": len(stale)})
		ok = false
	}
	if !ok {
		return nil // written with the first answer (see remember)
	}
	f.settingsKept = true
	return t.Scan(func(k, v []byte) error {
		if string(k) == string(settingsKey) {
			return nil
		}
		num, ok := phone.ParseNumber(string(k))
		if !ok {
			return fmt.Errorf("saved Convoso answer for %q: not a phone (run with --fresh to start over)", k)
		}
		vd, err := f.decodeAnswer(v)
		if err != nil {
			return fmt.Errorf("saved Convoso answer for %s: %w (run with --fresh to start over)", phone.Mask(string(k)), err)
		}
		f.lookups.Seed(num, vd)
		return nil
	})
}

// remember writes an answer to the cache: [keep (0 or 1), drop reason,
// lead count] followed, when the phone has leads, by [lead id, lead
// status, list id] of its latest lead. A skipped phone is not an answer.
func (f *Filter) remember(num phone.Number, v verdict) error {
	if f.cache == nil || v.failed {
		return nil
	}
	var b bytes.Buffer
	b.WriteByte('[')
	if v.keep {
		b.WriteByte('1')
	} else {
		b.WriteByte('0')
	}
	b.WriteString(",")
	appendJSONString(&b, f.syms.str(v.reason))
	b.WriteString(",")
	b.WriteString(strconv.FormatInt(int64(v.count), 10))
	if v.found {
		for _, s := range []string{f.leadIDText(v), f.syms.str(v.status), f.syms.str(v.listID)} {
			b.WriteString(",")
			appendJSONString(&b, s)
		}
	}
	b.WriteByte(']')
	f.settingsOnce.Do(func() {
		if !f.settingsKept {
			f.settingsErr = f.cache.Set(settingsKey, []byte(f.settings()))
		}
	})
	if f.settingsErr != nil {
		return f.settingsErr
	}
	return f.cache.Set([]byte(num.String()), b.Bytes())
}

// decodeAnswer reads one saved answer (see remember).
func (f *Filter) decodeAnswer(raw []byte) (verdict, error) {
	var row []any
	if err := json.Unmarshal(raw, &row); err != nil {
		return verdict{}, err
	}
	bad := fmt.Errorf("not [keep, reason, count] or [keep, reason, count, lead id, status, list id]: %s", raw)
	if len(row) != 3 && len(row) != 6 {
		return verdict{}, bad
	}
	keep, ok1 := row[0].(float64)
	reason, ok2 := row[1].(string)
	count, ok3 := row[2].(float64)
	if !ok1 || !ok2 || !ok3 {
		return verdict{}, bad
	}
	v := verdict{keep: keep == 1, reason: f.syms.id(reason), count: int32(count)}
	if len(row) == 6 {
		id, ok1 := row[3].(string)
		status, ok2 := row[4].(string)
		listID, ok3 := row[5].(string)
		if !ok1 || !ok2 || !ok3 {
			return verdict{}, bad
		}
		f.setLead(&v, id, status, listID)
	}
	return v, nil
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
