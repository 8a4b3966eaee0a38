package dedupe

import (
	"fmt"

	"github.com/etlhq/etl/etl"
)

// UseState takes the stage's table: on a resumed run it holds the records
// kept so far, whose orders memory needs to compare new records with.
func (d *Dedupe) UseState(t etl.Table) error {
	d.state = t
	clear(d.kept)
	return t.Scan(func(k, v []byte) error {
		order, _, _, err := d.splitValue(v)
		if err != nil {
			return fmt.Errorf("dedupe state: key %q: %w", k, err)
		}
		at, timed := timeKey(order)
		d.kept[d.hasher.Bytes(k)] = newEntry(at, timed)
		return nil
	})
}
