package format

import (
	"io"
	"slices"
)

// The helpers below append printf conversions to a byte slice the way C's
// printf produces them: widths count bytes, and a value wider than its
// column overflows it. Listings build every line with them instead of fmt,
// which costs an allocation or more per field.

// truncate cuts s to at most n bytes, as ipvsadm does by writing a NUL into
// its buffers.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// truncateFrom cuts what was appended to b since start to at most n bytes.
func truncateFrom(b []byte, start, n int) []byte {
	if len(b)-start > n {
		return b[:start+n]
	}
	return b
}

const spaces = "                                " // 32

func appendSpaces(b []byte, n int) []byte {
	for n > len(spaces) {
		b = append(b, spaces...)
		n -= len(spaces)
	}
	if n > 0 {
		b = append(b, spaces[:n]...)
	}
	return b
}

// padTo pads what was appended to b since start to width bytes, which
// makes it a C "%-*s" field.
func padTo(b []byte, start, width int) []byte {
	return appendSpaces(b, width-(len(b)-start))
}

// appendPadded appends s left-aligned in width bytes, as C's "%-*s" does.
// fmt pads by runes, which differs for multi-byte names and file contents.
func appendPadded(b []byte, s string, width int) []byte {
	b = append(b, s...)
	return appendSpaces(b, width-len(s))
}

// appendUint appends v in decimal. Unlike strconv.AppendUint it writes
// the digits in place, which saves a copy per number.
func appendUint(b []byte, v uint64) []byte {
	return appendDigits(b, v, decimalLen(v))
}

// appendDigits appends the n decimal digits of v.
func appendDigits(b []byte, v uint64, n int) []byte {
	b = slices.Grow(b, n)
	b = b[:len(b)+n]
	d := b[len(b)-n:]
	for i := n - 1; i > 0; i-- {
		d[i] = '0' + byte(v%10)
		v /= 10
	}
	d[0] = '0' + byte(v)
	return b
}

// putDecimal writes v in decimal at r[i:] and returns the index after it.
func putDecimal(r []byte, i int, v uint64) int {
	if v < 10 { // most counters and weights
		r[i] = '0' + byte(v)
		return i + 1
	}
	n := decimalLen(v)
	d := r[i : i+n]
	for j := n - 1; j > 0; j-- {
		d[j] = '0' + byte(v%10)
		v /= 10
	}
	d[0] = '0' + byte(v)
	return i + n
}

// decimalLen is the number of decimal digits of v.
func decimalLen(v uint64) int {
	n := 1
	for v >= 10000 {
		v /= 10000
		n += 4
	}
	switch {
	case v >= 1000:
		return n + 3
	case v >= 100:
		return n + 2
	case v >= 10:
		return n + 1
	}
	return n
}

func appendInt(b []byte, v int64) []byte {
	if v < 0 {
		// -v overflows for the smallest int64, whose bits are still its
		// magnitude as a uint64.
		return appendUint(append(b, '-'), uint64(-v))
	}
	return appendUint(b, uint64(v))
}

// appendHex appends v in lower-case hexadecimal without leading zeros.
func appendHex(b []byte, v uint16) []byte {
	const digits = "0123456789abcdef"
	switch {
	case v >= 0x1000:
		return append(b, digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf])
	case v >= 0x100:
		return append(b, digits[v>>8], digits[v>>4&0xf], digits[v&0xf])
	case v >= 0x10:
		return append(b, digits[v>>4], digits[v&0xf])
	}
	return append(b, digits[v])
}

// appendIntLeft appends v as C's "%-*d" does.
func appendIntLeft(b []byte, v int64, width int) []byte {
	start := len(b)
	b = appendInt(b, v)
	return padTo(b, start, width)
}

// appendUintLeft appends v as C's "%-*u" (or "%-*d" of a value below
// 2^31) does.
func appendUintLeft(b []byte, v uint64, width int) []byte {
	start := len(b)
	b = appendUint(b, v)
	return padTo(b, start, width)
}

// appendUintRight appends v as C's "%*u" does.
func appendUintRight(b []byte, v uint64, width int) []byte {
	n := decimalLen(v)
	b = appendSpaces(b, width-n)
	return appendDigits(b, v, n)
}

// outputBuffer is where a block of about size bytes for w is built: the
// free end of w's own buffer when it has one with that much room (a
// bufio.Writer or bytes.Buffer, whose Write then copies nothing new), a new
// slice otherwise.
func outputBuffer(w io.Writer, size int) []byte {
	if ab, ok := w.(interface{ AvailableBuffer() []byte }); ok {
		if b := ab.AvailableBuffer(); cap(b) >= size {
			return b
		}
	}
	return make([]byte, 0, size)
}
