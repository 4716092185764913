package ipvstest

import (
	"errors"
	"io"
	"net/netip"
	"slices"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/genetlink/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs/internal/uapi"
)

// Handle is the genltest.Func behind Conn's logic, exported for tests that
// wrap it in their own genltest.Dial and genltest.ServeFamily.
//
// It answers one request the way the kernel's genetlink core and
// ip_vs_ctl.c do. Errors are genltest.Error values carrying the kernel's
// errno. A dump returns its messages, or io.EOF when there are none
// (genltest's way of saying "empty multi-part reply"). A successful doit
// without reply data returns genltest.Error(0), an ACK, when the request had
// netlink.Acknowledge set, else io.EOF.
//
// genltest cannot deliver an error for a request with netlink.Dump set: it
// copies the request's flags into the error message, and netlink then reads
// the Dump bits as "extended ACK follows". Conn has no such limitation.
func (k *Kernel) Handle(greq genetlink.Message, nreq netlink.Message) ([]genetlink.Message, error) {
	r, err := k.serve(greq, nreq)
	switch {
	case err != nil:
		return nil, err
	case r.errno != 0:
		return nil, genltest.Error(int(r.errno))
	case r.ack:
		return nil, genltest.Error(0)
	case len(r.msgs) == 0:
		return nil, io.EOF
	}
	return r.msgs, nil
}

// reply is the kernel's answer to one request.
type reply struct {
	msgs []genetlink.Message
	// multi marks a dump: its messages are NLM_F_MULTI parts ended by
	// NLMSG_DONE, which an empty dump consists of alone.
	multi bool
	// errno, when not zero, is sent back as a netlink error message.
	errno unix.Errno
	// ack asks for an ACK: an error message with errno 0.
	ack bool
}

// serve answers one IPVS request. An error is returned only when a reply
// cannot be encoded.
func (k *Kernel) serve(greq genetlink.Message, nreq netlink.Message) (reply, error) {
	if nreq.Header.Type != netlink.HeaderType(FamilyID) {
		return reply{errno: unix.ENOENT}, nil // genl_rcv_msg: unknown family
	}

	k.mu.Lock()
	defer k.mu.Unlock()

	cmd := greq.Header.Command
	if errno, ok := k.failNext[cmd]; ok {
		delete(k.failNext, cmd)
		return reply{errno: errno}, nil
	}

	doit, dumpit := operation(cmd)
	if isChange(cmd) {
		k.changes++
	}
	if nreq.Header.Flags&netlink.Dump == netlink.Dump {
		if dumpit == nil {
			return reply{errno: unix.EOPNOTSUPP}, nil
		}
		// The ops are GENL_DONT_VALIDATE_DUMP: the dump parses for itself.
		msgs, err := dumpit(k, greq.Data)
		if err != nil {
			return reply{}, err
		}
		return reply{msgs: msgs, multi: true}, nil
	}

	if doit == nil {
		return reply{errno: unix.EOPNOTSUPP}, nil
	}
	attrs, err := parseAttrs(greq.Data, cmdAttrMax, cmdPolicy)
	if err != nil {
		return errnoReply(err)
	}
	msg, err := doit(k, cmd, attrs)
	if err != nil {
		return errnoReply(err)
	}
	if msg != nil {
		return reply{msgs: []genetlink.Message{*msg}}, nil
	}
	return reply{ack: nreq.Header.Flags&netlink.Acknowledge != 0}, nil
}

// errnoReply turns a unix.Errno into an error reply; other errors (reply
// encoding) pass unchanged.
func errnoReply(err error) (reply, error) {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return reply{errno: errno}, nil
	}
	return reply{}, err
}

type (
	doFunc   func(k *Kernel, cmd uint8, attrs attrTable) (*genetlink.Message, error)
	dumpFunc func(k *Kernel, payload []byte) ([]genetlink.Message, error)
)

// isChange reports a command that changes IPVS state.
func isChange(cmd uint8) bool {
	switch cmd {
	case uapi.CmdNewService, uapi.CmdSetService, uapi.CmdDelService,
		uapi.CmdNewDest, uapi.CmdSetDest, uapi.CmdDelDest,
		uapi.CmdSetConfig, uapi.CmdZero, uapi.CmdFlush,
		uapi.CmdNewDaemon, uapi.CmdDelDaemon:
		return true
	}
	return false
}

// operation is ip_vs_genl_ops: which commands have a doit, a dumpit or both.
func operation(cmd uint8) (doFunc, dumpFunc) {
	switch cmd {
	case uapi.CmdNewService, uapi.CmdSetService, uapi.CmdDelService,
		uapi.CmdNewDest, uapi.CmdSetDest, uapi.CmdDelDest,
		uapi.CmdSetConfig, uapi.CmdZero, uapi.CmdFlush:
		return (*Kernel).setCmd, nil
	case uapi.CmdGetService:
		return (*Kernel).getCmd, (*Kernel).dumpServices
	case uapi.CmdGetDest:
		return nil, (*Kernel).dumpDests
	case uapi.CmdNewDaemon, uapi.CmdDelDaemon:
		return (*Kernel).setDaemon, nil
	case uapi.CmdGetDaemon:
		return nil, (*Kernel).dumpDaemons
	case uapi.CmdGetConfig, uapi.CmdGetInfo:
		return (*Kernel).getCmd, nil
	}
	return nil, nil
}

// setCmd is ip_vs_genl_set_cmd, checks in the kernel's order.
func (k *Kernel) setCmd(cmd uint8, attrs attrTable) (*genetlink.Message, error) {
	st := &k.st
	switch {
	case cmd == uapi.CmdFlush:
		st.Services = nil
		return nil, nil
	case cmd == uapi.CmdSetConfig:
		return nil, st.setConfig(attrs)
	case cmd == uapi.CmdZero && attrs[uapi.CmdAttrService] == nil:
		for _, svc := range st.Services {
			svc.zero()
		}
		return nil, nil
	}

	full := cmd == uapi.CmdNewService || cmd == uapi.CmdSetService
	req, err := parseService(attrs[uapi.CmdAttrService], full)
	if err != nil {
		return nil, err
	}
	svc := st.findService(req.key)
	if cmd != uapi.CmdNewService && svc == nil {
		return nil, unix.ESRCH
	}

	var dreq destRequest
	if cmd == uapi.CmdNewDest || cmd == uapi.CmdSetDest || cmd == uapi.CmdDelDest {
		dreq, err = parseDest(attrs[uapi.CmdAttrDest], cmd != uapi.CmdDelDest)
		if err != nil {
			return nil, err
		}
		if dreq.af == 0 {
			dreq.af = svc.AF
		}
		if !validFamily(dreq.af) {
			return nil, unix.EAFNOSUPPORT
		}
		if dreq.af != svc.AF && cmd != uapi.CmdDelDest {
			// Mixed-family pools: only tunnelling can carry them, and
			// the sync protocol cannot describe them.
			if st.syncRunning() || dreq.fwdMethod != fwdTunnel {
				return nil, unix.EINVAL
			}
		}
	}

	switch cmd {
	case uapi.CmdNewService:
		if svc != nil {
			return nil, unix.EEXIST
		}
		return nil, st.addService(req)
	case uapi.CmdSetService:
		return nil, svc.edit(req)
	case uapi.CmdDelService:
		st.removeService(svc)
		return nil, nil
	case uapi.CmdNewDest:
		return nil, svc.addDest(dreq)
	case uapi.CmdSetDest:
		return nil, svc.editDest(dreq)
	case uapi.CmdDelDest:
		d := svc.findDest(dreq.af, addrOfFamily(dreq.af, dreq.addr), dreq.port)
		if d == nil {
			return nil, unix.ENOENT
		}
		svc.removeDest(d)
		return nil, nil
	case uapi.CmdZero:
		svc.zero()
		return nil, nil
	}
	return nil, unix.EINVAL
}

// getCmd is ip_vs_genl_get_cmd.
func (k *Kernel) getCmd(cmd uint8, attrs attrTable) (*genetlink.Message, error) {
	var (
		replyCmd uint8
		fill     func(w *attrWriter)
	)
	switch cmd {
	case uapi.CmdGetService:
		req, err := parseService(attrs[uapi.CmdAttrService], false)
		if err != nil {
			return nil, err
		}
		svc := k.st.findService(req.key)
		if svc == nil {
			return nil, unix.ESRCH
		}
		replyCmd = uapi.CmdNewService
		fill = func(w *attrWriter) { encodeService(w, svc) }
	case uapi.CmdGetConfig:
		t := k.st.Timeouts
		replyCmd = uapi.CmdSetConfig
		fill = func(w *attrWriter) {
			w.u32(uapi.CmdAttrTimeoutTCP, t.TCP)
			w.u32(uapi.CmdAttrTimeoutTCPFin, t.TCPFin)
			w.u32(uapi.CmdAttrTimeoutUDP, t.UDP)
		}
	case uapi.CmdGetInfo:
		replyCmd = uapi.CmdSetInfo
		fill = func(w *attrWriter) {
			w.u32(uapi.InfoAttrVersion, versionCode)
			w.u32(uapi.InfoAttrConnTabSize, connTabSize)
		}
	default:
		return nil, unix.EINVAL
	}
	msg, err := newReply(replyCmd, !k.noPad64, fill)
	if err != nil {
		return nil, err
	}
	return &msg, nil
}

// dumpServices is ip_vs_genl_dump_services. See the package doc for the
// order.
func (k *Kernel) dumpServices(_ []byte) ([]genetlink.Message, error) {
	var ordered []*service
	for _, fwmarkGroup := range []bool{false, true} {
		for _, svc := range slices.Backward(k.st.Services) {
			if (svc.FWMark != 0) == fwmarkGroup {
				ordered = append(ordered, svc)
			}
		}
	}
	msgs := make([]genetlink.Message, 0, len(ordered))
	for _, svc := range ordered {
		msg, err := newReply(uapi.CmdNewService, !k.noPad64, func(w *attrWriter) { encodeService(w, svc) })
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}

// dumpDests is ip_vs_genl_dump_dests: any problem with the request, or an
// unknown service, makes an empty dump rather than an error.
func (k *Kernel) dumpDests(payload []byte) ([]genetlink.Message, error) {
	attrs, err := parseAttrs(payload, cmdAttrMax, cmdPolicy)
	if err != nil {
		return nil, nil
	}
	req, err := parseService(attrs[uapi.CmdAttrService], false)
	if err != nil {
		return nil, nil
	}
	svc := k.st.findService(req.key)
	if svc == nil {
		return nil, nil
	}
	msgs := make([]genetlink.Message, 0, len(svc.Dests))
	for _, d := range slices.Backward(svc.Dests) {
		msg, err := newReply(uapi.CmdNewDest, !k.noPad64, func(w *attrWriter) { encodeDest(w, d) })
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}

// dumpDaemons is ip_vs_genl_dump_daemons: master first, then backup.
func (k *Kernel) dumpDaemons(_ []byte) ([]genetlink.Message, error) {
	var msgs []genetlink.Message
	for _, running := range []struct {
		state uint32
		cfg   *daemon
	}{{stateMaster, k.st.Master}, {stateBackup, k.st.Backup}} {
		if running.cfg == nil {
			continue
		}
		msg, err := newReply(uapi.CmdNewDaemon, !k.noPad64, func(w *attrWriter) {
			encodeDaemon(w, running.state, running.cfg)
		})
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}

// setDaemon is ip_vs_genl_set_daemon.
func (k *Kernel) setDaemon(cmd uint8, attrs attrTable) (*genetlink.Message, error) {
	req, err := parseDaemon(attrs[uapi.CmdAttrDaemon])
	if err != nil {
		return nil, err
	}
	if cmd == uapi.CmdNewDaemon {
		return nil, k.st.newDaemon(req)
	}
	return nil, k.st.delDaemon(req)
}

// newDaemon is ip_vs_genl_new_daemon followed by start_sync_thread.
func (st *state) newDaemon(req daemonRequest) error {
	if !req.hasState || !req.hasIfn || !req.hasSyncID {
		return unix.EINVAL
	}
	c := req.cfg
	if g := c.McastGroup; g.IsValid() {
		// ipv4_is_multicast, or IPV6_ADDR_MULTICAST (which a v4-mapped
		// group is not).
		if g.Is4() && !g.IsMulticast() || g.Is6() && g.As16()[0] != 0xff {
			return unix.EINVAL
		}
	}
	if st.mixedFamilyDests() > 0 {
		return unix.EINVAL
	}

	if !c.McastGroup.IsValid() {
		c.McastGroup = syncGroup()
	}
	if c.McastPort == 0 {
		c.McastPort = syncPort
	}
	if c.McastTTL == 0 {
		c.McastTTL = 1
	}
	devMTU, ok := st.Interfaces[c.McastIfn]
	if !ok {
		return unix.ENODEV
	}
	headers := uint32(20 + 8) // IPv4 + UDP
	if c.McastGroup.Is6() {
		headers = 40 + 8
	}
	// A master sends datagrams that fit 1500 bytes; a backup must be able
	// to receive what the interface can carry.
	pathMTU, minLen := uint32(1500), uint32(1)
	if req.state == stateBackup {
		pathMTU, minLen = min(max(devMTU, 1500), 65535), 1024
	}
	if c.SyncMaxLen != 0 {
		c.SyncMaxLen = uint16(min(max(uint32(c.SyncMaxLen), minLen), 65535-headers))
	} else {
		c.SyncMaxLen = uint16(pathMTU - headers)
	}

	switch req.state {
	case stateMaster:
		if st.Master != nil {
			return unix.EEXIST
		}
		st.Master = &c
	case stateBackup:
		if st.Backup != nil {
			return unix.EEXIST
		}
		st.Backup = &c
	default:
		return unix.EINVAL
	}
	return nil
}

// delDaemon is ip_vs_genl_del_daemon followed by stop_sync_thread.
func (st *state) delDaemon(req daemonRequest) error {
	if !req.hasState {
		return unix.EINVAL
	}
	switch req.state {
	case stateMaster:
		if st.Master == nil {
			return unix.ESRCH
		}
		st.Master = nil
	case stateBackup:
		if st.Backup == nil {
			return unix.ESRCH
		}
		st.Backup = nil
	default:
		return unix.EINVAL
	}
	return nil
}

// setConfig is ip_vs_genl_set_config and ip_vs_set_timeout: absent
// attributes keep the current value, 0 means "keep" as well.
func (st *state) setConfig(attrs attrTable) error {
	t := st.Timeouts
	for _, field := range []struct {
		attr uint16
		val  *uint32
	}{
		{uapi.CmdAttrTimeoutTCP, &t.TCP},
		{uapi.CmdAttrTimeoutTCPFin, &t.TCPFin},
		{uapi.CmdAttrTimeoutUDP, &t.UDP},
	} {
		if a := attrs[field.attr]; a != nil {
			*field.val = getU32(a)
		}
		// The kernel holds these in an int: values from 2^31 up are
		// negative there, and rejected like the too-large ones.
		if *field.val > maxTimeoutSecs {
			return unix.EINVAL
		}
	}
	for _, field := range []struct{ set, cur *uint32 }{
		{&t.TCP, &st.Timeouts.TCP},
		{&t.TCPFin, &st.Timeouts.TCPFin},
		{&t.UDP, &st.Timeouts.UDP},
	} {
		if *field.set != 0 {
			*field.cur = *field.set
		}
	}
	return nil
}

// addService is ip_vs_add_service.
func (st *state) addService(req serviceRequest) error {
	if err := checkServiceRequest(req); err != nil {
		return err
	}
	st.Services = append(st.Services, &service{
		serviceKey: req.key,
		Sched:      req.sched,
		PE:         req.pe,
		Flags:      req.flags&req.flagsMask | flagHashed,
		Timeout:    storedTimeout(req.timeout),
		Netmask:    req.netmask,
	})
	return nil
}

// edit is ip_vs_edit_service, with the flags merged against the current
// ones as ip_vs_genl_parse_service does.
func (svc *service) edit(req serviceRequest) error {
	if err := checkServiceRequest(req); err != nil {
		return err
	}
	svc.Sched = req.sched
	svc.PE = req.pe
	svc.Flags = svc.Flags&^req.flagsMask | req.flags&req.flagsMask | flagHashed
	svc.Timeout = storedTimeout(req.timeout)
	svc.Netmask = req.netmask
	return nil
}

// checkServiceRequest holds the checks ip_vs_add_service and
// ip_vs_edit_service share, in their order.
func checkServiceRequest(req serviceRequest) error {
	if req.sched != "none" && !knownScheduler(req.sched) {
		return unix.ENOENT
	}
	if req.pe != "" && req.pe != "sip" {
		return unix.ENOENT
	}
	if req.key.AF == uapi.AFInet6 && (req.netmask < 1 || req.netmask > 128) {
		return unix.EINVAL
	}
	return nil
}

func knownScheduler(name string) bool {
	switch name {
	case "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos":
		return true
	}
	return false
}

// storedTimeout is what the kernel reports for a persistence timeout after
// keeping it as u32 jiffies.
func storedTimeout(secs uint32) uint32 { return secs * hz / hz }

// checkDestRequest holds the checks ip_vs_add_dest and ip_vs_edit_dest
// share, in their order.
func checkDestRequest(req destRequest) error {
	if req.weight < 0 || req.lThresh > req.uThresh {
		return unix.ERANGE
	}
	if req.tunType == tunGUE && req.tunPort == 0 {
		return unix.EINVAL
	}
	return nil
}

// addDest is ip_vs_add_dest and ip_vs_new_dest.
func (svc *service) addDest(req destRequest) error {
	if err := checkDestRequest(req); err != nil {
		return err
	}
	addr := addrOfFamily(req.af, req.addr)
	if svc.findDest(req.af, addr, req.port) != nil {
		return unix.EEXIST
	}
	if !usableDestAddr(addr) {
		return unix.EINVAL
	}
	d := &dest{AF: req.af, Addr: addr, Port: req.port}
	d.update(req)
	svc.Dests = append(svc.Dests, d)
	return nil
}

// editDest is ip_vs_edit_dest.
func (svc *service) editDest(req destRequest) error {
	if err := checkDestRequest(req); err != nil {
		return err
	}
	d := svc.findDest(req.af, addrOfFamily(req.af, req.addr), req.port)
	if d == nil {
		return unix.ENOENT
	}
	d.update(req)
	return nil
}

// update is the part of __ip_vs_update_dest visible over netlink: absent
// tunnel attributes reset the tunnel settings to zero.
func (d *dest) update(req destRequest) {
	d.FwdMethod = req.fwdMethod
	d.Weight = req.weight
	d.UThresh = req.uThresh
	d.LThresh = req.lThresh
	d.TunType = req.tunType
	d.TunPort = req.tunPort
	d.TunFlags = req.tunFlags
}

// usableDestAddr is ip_vs_new_dest's address check, for a host without
// local addresses: IPv4 must be unicast or local (inet_addr_type, which in
// current kernels excludes 0.0.0.0 but not the rest of 0.0.0.0/8), IPv6
// unicast and not link-local (ipv6_addr_type).
func usableDestAddr(a netip.Addr) bool {
	if a.Is4() {
		return !a.IsUnspecified() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
	}
	b := a.As16()
	switch {
	case a.IsUnspecified(), b[0] == 0xff, a.IsLinkLocalUnicast(), a.Is4In6():
		return false
	}
	return true
}

// zero is ip_vs_zero_service: counters and rates of the service and its
// destinations restart from zero.
func (svc *service) zero() {
	svc.Stats = Stats{}
	for _, d := range svc.Dests {
		d.Stats = Stats{}
	}
}
