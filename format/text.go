package format

import (
	"io"
	"strconv"
)

// The helpers below append printf conversions to a byte slice the way C's
// printf produces them: widths count bytes (fmt pads by runes, which
// differs for multi-byte names), and a value wider than its column
// overflows it.

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

func appendSpaces(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, ' ')
	}
	return b
}

// padTo pads what was appended to b since start to width bytes, which
// makes it a C "%-*s" field.
func padTo(b []byte, start, width int) []byte {
	return appendSpaces(b, width-(len(b)-start))
}

// appendPadded appends s as C's "%-*s" does.
func appendPadded(b []byte, s string, width int) []byte {
	b = append(b, s...)
	return appendSpaces(b, width-len(s))
}

func appendUint(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }

func appendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// appendIntLeft appends v as C's "%-*d" does.
func appendIntLeft(b []byte, v int64, width int) []byte {
	start := len(b)
	return padTo(appendInt(b, v), start, width)
}

// appendUintLeft appends v as C's "%-*u" (or "%-*d" of a value below
// 2^31) does.
func appendUintLeft(b []byte, v uint64, width int) []byte {
	start := len(b)
	return padTo(appendUint(b, v), start, width)
}

// appendUintRight appends v as C's "%*u" does.
func appendUintRight(b []byte, v uint64, width int) []byte {
	var digits [20]byte
	d := strconv.AppendUint(digits[:0], v, 10)
	return append(appendSpaces(b, width-len(d)), d...)
}

// outputBuffer is where a block of about size bytes for w is built: the
// free end of w's own buffer when it has one with that much room (the
// AvailableBuffer idiom of bufio.Writer and bytes.Buffer), a new slice
// otherwise.
func outputBuffer(w io.Writer, size int) []byte {
	if ab, ok := w.(interface{ AvailableBuffer() []byte }); ok {
		if b := ab.AvailableBuffer(); cap(b) >= size {
			return b
		}
	}
	return make([]byte, 0, size)
}
