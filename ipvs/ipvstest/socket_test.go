package ipvstest

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
)

// These tests drive the socket directly, a datagram per read, to see what
// a recvmsg would.

func testSocket(t *testing.T, k *Kernel, cfg *SocketConfig) *socket {
	t.Helper()
	s := newSocket(cfg, k.answer, k.isUnresponsive, 77)
	t.Cleanup(func() { s.Close() })
	return s
}

// request is an IPVS request with attributes fn writes.
func request(t *testing.T, cmd uint8, flags netlink.HeaderFlags, fn func(ae *netlink.AttributeEncoder)) netlink.Message {
	t.Helper()
	ae := netlink.NewAttributeEncoder()
	if fn != nil {
		fn(ae)
	}
	attrs, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	data, err := genetlink.Message{Header: genetlink.Header{Command: cmd, Version: 1}, Data: attrs}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(FamilyID), Flags: netlink.Request | flags, PID: 77}, Data: data}
}

func serviceAttrs(port uint16) func(ae *netlink.AttributeEncoder) {
	return func(ae *netlink.AttributeEncoder) {
		ae.Nested(uapi.CmdAttrService, func(ae *netlink.AttributeEncoder) error {
			a := netip.MustParseAddr("192.0.2.1").As4()
			ae.Uint16(uapi.SvcAttrAF, uapi.AFInet)
			ae.Uint16(uapi.SvcAttrProtocol, 6)
			ae.Bytes(uapi.SvcAttrAddr, append(a[:], make([]byte, 12)...))
			ae.Bytes(uapi.SvcAttrPort, binary.BigEndian.AppendUint16(nil, port))
			ae.String(uapi.SvcAttrSchedName, "rr")
			ae.Bytes(uapi.SvcAttrFlags, make([]byte, 8))
			ae.Uint32(uapi.SvcAttrTimeout, 0)
			ae.Bytes(uapi.SvcAttrNetmask, []byte{255, 255, 255, 255})
			return nil
		})
	}
}

// failing returns n requests that each fail with ESRCH, numbered from 1.
func failing(t *testing.T, n int) []netlink.Message {
	var msgs []netlink.Message
	for i := range n {
		m := request(t, uapi.CmdDelService, 0, serviceAttrs(uint16(i)))
		m.Header.Sequence = uint32(i + 1)
		msgs = append(msgs, m)
	}
	return msgs
}

// readAll reads datagrams until the queue is empty, returning the sequence
// numbers of the error replies.
func readAll(t *testing.T, s *socket) []uint32 {
	t.Helper()
	var seqs []uint32
	for {
		d, err := s.read()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if len(d.msgs) == 0 {
			return seqs
		}
		for _, m := range d.msgs {
			seqs = append(seqs, m.Header.Sequence)
		}
	}
}

func TestSocketTruesize(t *testing.T) {
	for _, tc := range []struct{ size, want int }{
		{36, 768},      // a capped error: 64 + 320 bytes in a 512-byte slab
		{188, 768},     // an error carrying a 168-byte request
		{220, 1280},    // one carrying a 200-byte request: a 1 KiB slab
		{3776, 4352},   // NLMSG_GOODSIZE: one page
		{32448, 33024}, // the largest dump chunk
	} {
		if got := truesize(tc.size); got != tc.want {
			t.Errorf("truesize(%d) = %d, want %d", tc.size, got, tc.want)
		}
	}
}

// Replies past the receive buffer are dropped: the next read reports
// ENOBUFS, the replies queued before the drop follow in order, and after
// the queue has been emptied replies are queued again.
func TestSocketOverrun(t *testing.T) {
	s := testSocket(t, New(), &SocketConfig{ReadBuffer: 10000})
	s.SetOption(netlink.CapAcknowledge, true)
	if err := s.SendMessages(failing(t, 100)); err != nil {
		t.Fatal(err)
	}
	// Capped errors cost 768 bytes each; a reply is queued while the queue
	// is not over the buffer: 14 of them (13 x 768 = 9984).
	if _, err := s.read(); !errors.Is(err, unix.ENOBUFS) {
		t.Fatalf("first read: %v, want ENOBUFS", err)
	}
	// Still congested: a no-op's ACK is dropped while replies wait.
	noop := netlink.Message{Header: netlink.Header{Type: uapi.NlmsgNoop, Flags: netlink.Request | netlink.Acknowledge, Sequence: 500}}
	if err := s.Send(noop); err != nil {
		t.Fatal(err)
	}
	want := []uint32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
	if diff := cmp.Diff(want, readAll(t, s)); diff != "" {
		t.Errorf("replies read after the overrun (-want +got):\n%s", diff)
	}
	if err := s.Send(noop); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint32{500}, readAll(t, s)); diff != "" {
		t.Errorf("after the queue emptied (-want +got):\n%s", diff)
	}
}

func TestSocketNoENOBUFS(t *testing.T) {
	s := testSocket(t, New(), &SocketConfig{ReadBuffer: 5000})
	s.SetOption(netlink.NoENOBUFS, true)
	s.SendMessages(failing(t, 20))
	// Queued while the queue is not over 5000 bytes: 7, the last making it
	// 5376; the rest dropped without an error.
	if got := readAll(t, s); len(got) != 7 {
		t.Errorf("%d replies queued, want 7 and no error", len(got))
	}
}

// NETLINK_CAP_ACK keeps the request out of error replies.
func TestSocketCapAck(t *testing.T) {
	for _, capped := range []bool{false, true} {
		s := testSocket(t, New(), nil)
		s.SetOption(netlink.CapAcknowledge, capped)
		req := failing(t, 1)[0]
		s.Send(req)
		d, err := s.read()
		if err != nil {
			t.Fatal(err)
		}
		m := d.msgs[0]
		wantLen := 4 + 16
		if !capped {
			wantLen += len(req.Data)
		}
		if len(m.Data) != wantLen || (m.Header.Flags&netlink.Capped != 0) != capped {
			t.Errorf("capped %v: error of %d bytes, flags %v; want %d bytes", capped, len(m.Data), m.Header.Flags, wantLen)
		}
	}
	s := testSocket(t, New(), &SocketConfig{NoCapAck: true})
	if err := s.SetOption(netlink.CapAcknowledge, true); !errors.Is(err, unix.ENOPROTOOPT) {
		t.Errorf("NoCapAck: SetOption = %v, want ENOPROTOOPT", err)
	}
}

func TestSocketBuffers(t *testing.T) {
	s := testSocket(t, New(), &SocketConfig{MaxReadBuffer: 100000})
	for _, tc := range []struct{ set, want int }{
		{0, 212992}, {1000, 4608}, {50000, 100000}, {1 << 20, 200000}, {-1, 200000},
	} {
		if tc.set != 0 {
			s.SetReadBuffer(tc.set)
		}
		if got, _ := s.ReadBuffer(); got != tc.want {
			t.Errorf("after SetReadBuffer(%d): ReadBuffer = %d, want %d", tc.set, got, tc.want)
		}
	}
	s.SetWriteBuffer(1 << 20)
	if got, _ := s.WriteBuffer(); got != 2*212992 {
		t.Errorf("WriteBuffer = %d", got)
	}
	// No file descriptor: SO_RCVBUFFORCE is out of reach.
	conn := New().NetlinkConn()
	defer conn.Close()
	if _, err := conn.SyscallConn(); err == nil {
		t.Error("SyscallConn succeeded")
	}
}

func TestSocketSendLongerThanSendBuffer(t *testing.T) {
	s := testSocket(t, New(), &SocketConfig{WriteBuffer: 1000})
	if err := s.SendMessages(failing(t, 10)); !errors.Is(err, unix.EMSGSIZE) {
		t.Errorf("SendMessages = %v, want EMSGSIZE", err)
	}
	if got := readAll(t, s); len(got) != 0 {
		t.Errorf("a refused send was answered: %v", got)
	}
}

// addDests gives the service on port 80 n destinations.
func addDests(t *testing.T, k *Kernel, n int) netlink.Message {
	t.Helper()
	s := testSocket(t, k, nil)
	msgs := []netlink.Message{request(t, uapi.CmdNewService, 0, serviceAttrs(80))}
	for i := range n {
		msgs = append(msgs, request(t, uapi.CmdNewDest, 0, func(ae *netlink.AttributeEncoder) {
			serviceAttrs(80)(ae)
			ae.Nested(uapi.CmdAttrDest, func(ae *netlink.AttributeEncoder) error {
				a := netip.AddrFrom4([4]byte{198, 51, byte(i / 250), byte(1 + i%250)}).As4()
				ae.Bytes(uapi.DestAttrAddr, append(a[:], make([]byte, 12)...))
				ae.Bytes(uapi.DestAttrPort, []byte{0, 80})
				ae.Uint32(uapi.DestAttrFwdMethod, 0)
				ae.Uint32(uapi.DestAttrWeight, 1)
				ae.Uint32(uapi.DestAttrUThresh, 0)
				ae.Uint32(uapi.DestAttrLThresh, 0)
				return nil
			})
		}))
	}
	if err := s.SendMessages(msgs); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s); len(got) != 0 {
		t.Fatalf("adding destinations failed: %v", got)
	}
	return request(t, uapi.CmdGetDest, netlink.Dump, serviceAttrs(80))
}

// A dump comes in chunks as large as the largest read so far (at least
// NLMSG_GOODSIZE, at most 32 KiB less the skb overhead), the next produced
// as a read leaves the queue half empty, and NLMSG_DONE alone at the end.
func TestSocketDumpChunks(t *testing.T) {
	for _, tc := range []struct {
		readSize, chunk int
	}{{4096, 4096}, {16384, 16384}, {65536, 32448}} {
		k := New()
		dump := addDests(t, k, 300)
		s := testSocket(t, k, &SocketConfig{ReadSize: tc.readSize})
		s.Send(request(t, uapi.CmdGetInfo, 0, nil)) // a first read sets max_recvmsg_len
		readAll(t, s)
		s.Send(dump)
		entries, datagrams := 0, 0
		for done := false; !done; {
			d, err := s.read()
			if err != nil {
				t.Fatal(err)
			}
			datagrams++
			if d.length > tc.chunk {
				t.Errorf("read %d: a %d-byte datagram; chunks are %d", tc.readSize, d.length, tc.chunk)
			}
			for _, m := range d.msgs {
				if m.Header.Type == netlink.Done {
					done = true
					if len(d.msgs) != 1 {
						t.Errorf("NLMSG_DONE shares its datagram")
					}
					continue
				}
				entries++
			}
		}
		if entries != 300 || datagrams < 3 {
			t.Errorf("read %d: %d entries in %d datagrams", tc.readSize, entries, datagrams)
		}
	}
}

func TestSocketDumpRunning(t *testing.T) {
	k := New()
	dump := addDests(t, k, 300)
	s := testSocket(t, k, nil)
	s.SendMessages([]netlink.Message{dump, dump})
	// The first chunk of the first dump, then the second's refusal.
	for range 2 {
		d, err := s.read()
		if err != nil || len(d.msgs) == 0 {
			t.Fatalf("read: %v", err)
		}
		if m := d.msgs[0]; m.Header.Type == netlink.Error {
			if code := int32(binary.NativeEndian.Uint32(m.Data)); code != -int32(unix.EBUSY) {
				t.Errorf("error %d, want -EBUSY", code)
			}
			return
		}
	}
	t.Error("the second dump was not refused")
}

func TestSocketTruncatedRead(t *testing.T) {
	k := New()
	dump := addDests(t, k, 100)
	s := testSocket(t, k, &SocketConfig{ReadSize: 1024})
	s.Send(dump)
	if _, err := s.read(); !errors.Is(err, errTruncated) {
		t.Errorf("read = %v, want a truncated datagram", err)
	}
}

// A GET that asks for an ACK gets its reply and then the ACK, as two
// datagrams; a no-op gets only its ACK.
func TestSocketAcknowledgements(t *testing.T) {
	s := testSocket(t, New(), nil)
	get := request(t, uapi.CmdGetInfo, netlink.Acknowledge, nil)
	get.Header.Sequence = 1
	noop := netlink.Message{Header: netlink.Header{Type: uapi.NlmsgNoop, Flags: netlink.Request | netlink.Acknowledge, Sequence: 2}}
	notRequest := netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(FamilyID), Flags: netlink.Acknowledge, Sequence: 3}}
	s.SendMessages([]netlink.Message{get, noop, notRequest})
	var got []string
	for {
		d, err := s.read()
		if err != nil {
			t.Fatal(err)
		}
		if len(d.msgs) == 0 {
			break
		}
		m := d.msgs[0]
		got = append(got, m.Header.Type.String()+"/"+string(rune('0'+m.Header.Sequence)))
	}
	want := []string{netlink.HeaderType(FamilyID).String() + "/1", "error/1", "error/2", "error/3"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("datagrams (-want +got):\n%s", diff)
	}
}

func TestSocketReadDeadline(t *testing.T) {
	s := testSocket(t, New(), nil)
	s.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	start := time.Now()
	if _, err := s.read(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read = %v, want the deadline", err)
	}
	if waited := time.Since(start); waited < 15*time.Millisecond {
		t.Errorf("returned after %v, before the deadline", waited)
	}
	// Past the deadline, even a queued reply is not read.
	s.Send(request(t, uapi.CmdGetInfo, 0, nil))
	if _, err := s.read(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read past the deadline = %v", err)
	}
	s.SetReadDeadline(time.Time{})
	readAll(t, s)
	// A reply that arrives meanwhile ends the wait.
	s.SetReadDeadline(time.Now().Add(10 * time.Second))
	go func() {
		time.Sleep(10 * time.Millisecond)
		s.Send(request(t, uapi.CmdGetInfo, 0, nil))
	}()
	if d, err := s.read(); err != nil || len(d.msgs) != 1 {
		t.Errorf("read = %v, %v; want the reply", d.msgs, err)
	}
}

// An unresponsive kernel swallows requests; a read without a deadline
// waits until the socket is closed.
func TestSocketUnresponsive(t *testing.T) {
	k := New()
	s := testSocket(t, k, nil)
	k.SetUnresponsive(true)
	s.Send(request(t, uapi.CmdGetInfo, 0, nil))
	done := make(chan error)
	go func() {
		_, err := s.read()
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("read returned %v while the kernel is silent", err)
	case <-time.After(30 * time.Millisecond):
	}
	s.Close()
	if err := <-done; !errors.Is(err, unix.EBADF) {
		t.Errorf("read after Close = %v, want EBADF", err)
	}
	if err := s.Send(request(t, uapi.CmdGetInfo, 0, nil)); !errors.Is(err, unix.EBADF) {
		t.Errorf("Send after Close = %v, want EBADF", err)
	}
}

func TestSetLoaded(t *testing.T) {
	k := New()
	c := k.Conn()
	defer c.Close()
	if _, err := c.GetFamily(uapi.FamilyName); err != nil {
		t.Fatal(err)
	}
	s := testSocket(t, k, nil)
	s.Send(request(t, uapi.CmdNewService, 0, serviceAttrs(80)))
	k.SetLoaded(false)
	if _, err := c.GetFamily(uapi.FamilyName); !errors.Is(err, unix.ENOENT) {
		t.Errorf("GetFamily without ip_vs = %v, want ENOENT", err)
	}
	if fams, err := c.ListFamilies(); err != nil || len(fams) != 0 {
		t.Errorf("ListFamilies without ip_vs = %v, %v", fams, err)
	}
	if _, err := c.Execute(genetlink.Message{Header: genetlink.Header{Command: uapi.CmdGetInfo, Version: 1}}, FamilyID, netlink.Request); !errors.Is(err, unix.ENOENT) {
		t.Errorf("GET_INFO without ip_vs = %v, want ENOENT", err)
	}
	k.SetLoaded(true)
	if msgs, err := c.Execute(genetlink.Message{Header: genetlink.Header{Command: uapi.CmdGetService, Version: 1}}, FamilyID, netlink.Request|netlink.Dump); err != nil || len(msgs) != 0 {
		t.Errorf("services after reloading = %d, %v; want none", len(msgs), err)
	}
}

func TestDialFunc(t *testing.T) {
	failure := errors.New("broken")
	conn := DialFunc(func(greq genetlink.Message, _ netlink.Message) ([]genetlink.Message, error) {
		switch greq.Header.Command {
		case uapi.CmdGetInfo:
			return []genetlink.Message{{Header: genetlink.Header{Command: uapi.CmdSetInfo, Version: 1}}}, nil
		case uapi.CmdFlush:
			return nil, io.EOF
		case uapi.CmdZero:
			return nil, failure
		}
		return nil, unix.EPERM
	}, nil)
	c := genetlink.NewConn(conn)
	defer c.Close()
	exec := func(cmd uint8, flags netlink.HeaderFlags) ([]genetlink.Message, error) {
		return c.Execute(genetlink.Message{Header: genetlink.Header{Command: cmd, Version: 1}}, FamilyID, netlink.Request|flags)
	}
	if msgs, err := exec(uapi.CmdGetInfo, 0); err != nil || len(msgs) != 1 {
		t.Errorf("GET_INFO = %v, %v", msgs, err)
	}
	if msgs, err := exec(uapi.CmdFlush, netlink.Acknowledge); err != nil || len(msgs) != 1 {
		t.Errorf("FLUSH = %v, %v; want the ACK", msgs, err)
	}
	if _, err := exec(uapi.CmdNewService, netlink.Acknowledge); !errors.Is(err, unix.EPERM) {
		t.Errorf("NEW_SERVICE = %v, want EPERM", err)
	}
	if _, err := exec(uapi.CmdZero, netlink.Acknowledge); !errors.Is(err, failure) {
		t.Errorf("ZERO = %v, want the Func's failure", err)
	}
	if _, err := c.Execute(genetlink.Message{Header: genetlink.Header{Command: uapi.CmdGetInfo, Version: 1}}, FamilyID+1, netlink.Request); !errors.Is(err, unix.ENOENT) {
		t.Errorf("unknown family = %v, want ENOENT", err)
	}
	if f, err := c.GetFamily(uapi.FamilyName); err != nil || f.ID != FamilyID {
		t.Errorf("GetFamily = %+v, %v", f, err)
	}
}
