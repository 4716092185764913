package ipvs

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/mdlayher/netlink"
)

// wire appends netlink attributes to a byte slice. It produces the same
// bytes as netlink.AttributeEncoder (nests carry the NLA_F_NESTED flag,
// values are padded to 4 bytes) without allocating per attribute, which
// matters when a restore encodes 100,000 requests.
type wire struct {
	b []byte
}

const attrHeaderLen = 4

func (w *wire) attr(typ uint16, value []byte) {
	w.header(typ, len(value))
	w.b = append(w.b, value...)
	w.pad()
}

func (w *wire) header(typ uint16, valueLen int) {
	w.b = binary.NativeEndian.AppendUint16(w.b, uint16(attrHeaderLen+valueLen))
	w.b = binary.NativeEndian.AppendUint16(w.b, typ)
}

func (w *wire) pad() {
	for len(w.b)%4 != 0 {
		w.b = append(w.b, 0)
	}
}

func (w *wire) u8(typ uint16, v uint8) {
	w.header(typ, 1)
	w.b = append(w.b, v)
	w.pad()
}

func (w *wire) u16(typ uint16, v uint16) {
	w.header(typ, 2)
	w.b = binary.NativeEndian.AppendUint16(w.b, v)
	w.pad()
}

func (w *wire) be16(typ uint16, v uint16) {
	w.header(typ, 2)
	w.b = binary.BigEndian.AppendUint16(w.b, v)
	w.pad()
}

func (w *wire) u32(typ uint16, v uint32) {
	w.header(typ, 4)
	w.b = binary.NativeEndian.AppendUint32(w.b, v)
}

func (w *wire) be32(typ uint16, v uint32) {
	w.header(typ, 4)
	w.b = binary.BigEndian.AppendUint32(w.b, v)
}

// str writes a NUL-terminated string.
func (w *wire) str(typ uint16, s string) {
	w.header(typ, len(s)+1)
	w.b = append(w.b, s...)
	w.b = append(w.b, 0)
	w.pad()
}

// openNest starts a nested attribute: the attributes written until
// closeNest(start, typ) go inside it.
func (w *wire) openNest() (start int) {
	start = len(w.b)
	w.b = append(w.b, 0, 0, 0, 0)
	return start
}

func (w *wire) closeNest(start int, typ uint16) {
	binary.NativeEndian.PutUint16(w.b[start:], uint16(len(w.b)-start))
	binary.NativeEndian.PutUint16(w.b[start+2:], typ|netlink.Nested)
}

// attrReader walks netlink attributes in place. Getters check the value's
// length against the type and record the first failure, after which next
// reports no more attributes; err holds it.
type attrReader struct {
	b   []byte // what is left after the current attribute
	typ uint16 // the current attribute's type, without the nested and byte-order flags
	val []byte // the current attribute's value
	err error
}

const attrTypeMask = ^uint16(netlink.Nested | netlink.NetByteOrder)

func (r *attrReader) next() bool {
	b := r.b
	if len(b) < attrHeaderLen || r.err != nil {
		return r.end()
	}
	n := int(binary.NativeEndian.Uint16(b))
	if n < attrHeaderLen || n > len(b) {
		return r.end()
	}
	r.typ = binary.NativeEndian.Uint16(b[2:4]) & attrTypeMask
	r.val = b[attrHeaderLen:n]
	if n = (n + 3) &^ 3; n > len(b) {
		n = len(b)
	}
	r.b = b[n:]
	return true
}

// end reports the end of the attributes, recording why if it is not clean.
func (r *attrReader) end() bool {
	switch {
	case r.err != nil || len(r.b) == 0:
	case len(r.b) < attrHeaderLen:
		r.fail(fmt.Errorf("%w: %d stray bytes after the attributes", errInvalidReply, len(r.b)))
	default:
		r.fail(fmt.Errorf("%w: attribute length %d with %d bytes left", errInvalidReply, binary.NativeEndian.Uint16(r.b), len(r.b)))
	}
	return false
}

func nlAlign(n int) int { return (n + 3) &^ 3 }

func (r *attrReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// nested reads the current attribute's value as attributes.
func (r *attrReader) nested() attrReader { return attrReader{b: r.val} }

// fixed returns the value if it has n bytes, else nil (and records the failure).
func (r *attrReader) fixed(name string, n int) []byte {
	if len(r.val) != n {
		r.badLength(name, n)
		return nil
	}
	return r.val
}

func (r *attrReader) badLength(name string, want int) { r.fail(lengthError(name, len(r.val), want)) }

func (r *attrReader) u8(name string) uint8 {
	if b := r.fixed(name, 1); b != nil {
		return b[0]
	}
	return 0
}

func (r *attrReader) u16(name string) uint16 {
	if b := r.fixed(name, 2); b != nil {
		return binary.NativeEndian.Uint16(b)
	}
	return 0
}

func (r *attrReader) be16(name string) uint16 {
	if b := r.fixed(name, 2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *attrReader) u32(name string) uint32 {
	if b := r.fixed(name, 4); b != nil {
		return binary.NativeEndian.Uint32(b)
	}
	return 0
}

func (r *attrReader) u64(name string) uint64 {
	if b := r.fixed(name, 8); b != nil {
		return binary.NativeEndian.Uint64(b)
	}
	return 0
}

// str returns a NUL-terminated string without its terminator(s).
func (r *attrReader) str() string { return internName(bytes.TrimRight(r.val, "\x00")) }

// internName returns b as a string. Names a listing repeats for every
// service (schedulers) come from a fixed set, so a table of 10,000 services
// does not allocate 10,000 copies.
func internName(b []byte) string {
	switch string(b) {
	case "rr":
		return "rr"
	case "wrr":
		return "wrr"
	case "lc":
		return "lc"
	case "wlc":
		return "wlc"
	case "sh":
		return "sh"
	case "mh":
		return "mh"
	case "sed":
		return "sed"
	case "nq":
		return "nq"
	case "sip":
		return "sip"
	}
	return string(b)
}
