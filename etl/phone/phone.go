package phone

// Reasons returned by Normalize for a phone that is not a NANP number.
// They are short, stable strings: reports count invalid phones by reason.
const (
	ReasonEmpty       = "empty"
	ReasonLength      = "not 10 digits"
	ReasonAreaCode    = "area code starts with 0 or 1"
	ReasonCountryCode = "11 digits not starting with 1"
)

// Normalize returns the 10-digit NANP form of raw: everything but digits is
// dropped, and a leading country code 1 on 11 digits is removed. The result
// must be 10 digits whose area code does not start with 0 or 1; otherwise ok
// is false, phone is "" and reason says why.
//
// A raw phone already in that form (a source normalised it: the stages
// after it get the record's phone as it was built) is returned as it is,
// after one scan, without a copy: a phone is normalised once on its way
// through a pipeline, and only checked after that.
func Normalize(raw string) (phone, reason string, ok bool) {
	if _, ok := ParseNumber(raw); ok && raw[0] != '0' && raw[0] != '1' {
		return raw, "", true
	}
	var buf [16]byte
	n := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c < '0' || c > '9' {
			continue
		}
		if n == len(buf) {
			return "", ReasonLength, false
		}
		buf[n] = c
		n++
	}
	d := buf[:n]
	switch {
	case n == 0:
		return "", ReasonEmpty, false
	case n == 11 && d[0] == '1':
		d = d[1:]
	case n == 11:
		return "", ReasonCountryCode, false
	case n != 10:
		return "", ReasonLength, false
	}
	if d[0] == '0' || d[0] == '1' {
		return "", ReasonAreaCode, false
	}
	return string(d), "", true
}

// Mask hides all but the last four characters of a phone, for logs:
// "5619565858" becomes "******5858". Shorter strings are hidden whole.
func Mask(phone string) string {
	const keep = 4
	if len(phone) <= keep {
		return "****"
	}
	b := make([]byte, len(phone))
	for i := range b {
		b[i] = '*'
	}
	copy(b[len(b)-keep:], phone[len(phone)-keep:])
	return string(b)
}

// Number is a normalized phone as an integer: maps keyed by Number cost
// no string per phone, which matters at tens of thousands of phones.
type Number uint64

// ParseNumber returns the Number of a phone that Normalize returned.
func ParseNumber(phone string) (Number, bool) {
	if len(phone) != 10 {
		return 0, false
	}
	var n Number
	for i := 0; i < len(phone); i++ {
		c := phone[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + Number(c-'0')
	}
	return n, true
}

// String returns the phone's ten digits.
func (n Number) String() string {
	var b [10]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[:])
}
