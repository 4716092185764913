package ipvs

import (
	"encoding/binary"

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

// nest writes the attributes fn appends inside one nested attribute.
func (w *wire) nest(typ uint16, fn func(w *wire)) {
	start := len(w.b)
	w.b = append(w.b, 0, 0, 0, 0)
	fn(w)
	binary.NativeEndian.PutUint16(w.b[start:], uint16(len(w.b)-start))
	binary.NativeEndian.PutUint16(w.b[start+2:], typ|netlink.Nested)
}
