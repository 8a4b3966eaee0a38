// Package phone normalises North American (NANP) phone numbers, the one
// form in which a phone may become a key: the Bland source, the filters and
// the sinks all call Normalize so that "+1 (561) 956-5858" and "5619565858"
// meet as the same lead. Mask hides a phone in logs and plans.
package phone
