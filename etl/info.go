package etl

// InfoKey names a count a stage states about a partition on its mark
// (Mark.Info), so that a stage downstream reads it through a key that
// package etl defines rather than through another plugin's string. The
// key's name is what the checkpoint and the report show.
type InfoKey struct{ name string }

// NewInfoKey returns the key of a count that only its own plugin reads and
// the report and checkpoint show (bland_calls' "requests", say). A count
// that other stages read is one of the keys below, defined here.
func NewInfoKey(name string) InfoKey { return InfoKey{name: name} }

// Counts about a partition that any source may state and any stage read.
var (
	// InfoBytes is how many bytes the source read from outside for the
	// partition (the stats sink's bytes column).
	InfoBytes = NewInfoKey("bytes")
	// InfoInvalidPhones is how many of the partition's records the source
	// found without a valid phone, whether it passed them on with a null
	// phone or not (the stats sink's invalidPhones).
	InfoInvalidPhones = NewInfoKey("invalid_phones")
)

// Name returns the key's name, as the checkpoint and the report show it.
func (k InfoKey) Name() string { return k.name }

// Set states the count on m. Only the stage that sends m sets keys, before
// sending it: a mark is read-only once sent.
func (k InfoKey) Set(m *Mark, n int64) {
	if m.Info == nil {
		m.Info = map[string]int64{}
	}
	m.Info[k.name] = n
}

// Get returns the count m states, and whether it states one.
func (k InfoKey) Get(m *Mark) (int64, bool) {
	n, ok := m.Info[k.name]
	return n, ok
}
