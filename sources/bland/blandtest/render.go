package blandtest

import (
	"strconv"
)

// pad is the text the payload of every call is cut from: list results carry
// summaries and variables, which a client skips.
var pad = func() string {
	const words = "the lead asked to be called back later about the offer and said the best time is after five "
	b := make([]byte, 0, 64<<10)
	for len(b) < cap(b) {
		b = append(b, words...)
	}
	return string(b[:cap(b)])
}()

// appendCall renders c as the API does, with the fields a client needs
// among many it must skip.
func appendCall(b []byte, c *Call, payload int) []byte {
	b = append(b, '{')
	b = appendKey(b, c.IDField)
	b = appendString(b, c.ID)
	b = append(b, `,"created_at":`...)
	b = appendString(b, c.CreatedAtRaw)
	b = append(b, `,"to":`...)
	b = appendNullable(b, c.To)
	b = append(b, `,"from":`...)
	b = appendNullable(b, c.From)
	b = append(b, `,"inbound":`...)
	b = strconv.AppendBool(b, c.Inbound)
	b = append(b, `,"completed":`...)
	b = strconv.AppendBool(b, c.Status == "completed")
	b = append(b, `,"status":`...)
	b = appendNullable(b, c.Status)
	b = append(b, `,"queue_status":"complete","answered_by":`...)
	b = appendNullable(b, c.AnsweredBy)
	b = append(b, `,"batch_id":`...)
	b = appendNullable(b, c.BatchID)
	b = append(b, `,"call_length":`...)
	b = strconv.AppendFloat(b, c.CallLength, 'f', -1, 64)
	b = append(b, `,"price":0.09,"metadata":`...)
	b = append(b, c.Metadata...)
	b = append(b, `,"variables":{"now":"`...)
	b = append(b, c.CreatedAtRaw...)
	b = append(b, `","nested":{"list":[1,2.5,true,null,{"x":"y"}]}},"error_message":null,"end_at":`...)
	b = appendString(b, c.CreatedAtRaw)
	if payload > 0 {
		off := (c.index * 7919) % (len(pad) - payload%len(pad))
		b = append(b, `,"summary":"`...)
		for payload > 0 {
			n := min(payload, len(pad)-off)
			b = append(b, pad[off:off+n]...)
			payload -= n
			off = 0
		}
		b = append(b, '"')
	}
	return append(b, '}')
}

func appendKey(b []byte, k string) []byte {
	b = appendString(b, k)
	return append(b, ':')
}

func appendNullable(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

// appendString writes s as a JSON string; generated text is ASCII.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
