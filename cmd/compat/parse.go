package compat

import (
	"fmt"
	"math/bits"
	"net/netip"
	"strings"

	"github.com/lvsadm/lvsadm/ipvs"
)

// Limits ipvsadm applies.
const (
	maxTimeout               = 86400 * 31 // MAX_TIMEOUT: -p and --set values
	defaultPersistentTimeout = 6 * 60     // IPVS_SVC_PERSISTENT_TIMEOUT
	defaultScheduler         = "wlc"
	defaultMcastInterface    = "eth0"
	schedulerNameMax         = 15         // IP_VS_SCHEDNAME_MAXLEN - 1
	peNameMax                = 16         // strncpy(pe_name, optarg, IP_VS_PENAME_MAXLEN)
	interfaceNameMax         = 15         // IP_VS_IFNAME_MAXLEN - 1
	schedFlagsMax            = 127        // char sched_flags_arg[128]
	maxWeight                = 2147483647 // Debian's build; upstream says 65535
	maxThreshold             = 2147483647
	maxSyncMaxLen            = 65535 - 20 - 8
	forwardMask              = 0x7 // IP_VS_CONN_F_FWD_MASK
)

// Parser parses ipvsadm command lines. The zero value resolves no names.
type Parser struct {
	// Resolver looks up host and service names; nil means none resolve.
	Resolver Resolver
	// PosixlyCorrect mirrors popt's reaction to POSIXLY_CORRECT or
	// POSIX_ME_HARDER in the environment: the first positional word ends
	// option processing.
	PosixlyCorrect bool
}

// Parse parses one ipvsadm invocation with res for name lookups; see
// Parser.Parse.
func Parse(prog string, args []string, res Resolver) (*Invocation, error) {
	return Parser{Resolver: res}.Parse(prog, args)
}

// Parse parses one ipvsadm invocation. args excludes argv[0]; prog is
// argv[0] as invoked (it appears in the "Try" message). No arguments at all
// means List. Help and Version are returned as commands for the caller to
// print. A rejected command line gives an *Error.
//
// Parse keeps no state between calls, so restore calls it once per line.
func (p Parser) Parse(prog string, args []string) (*Invocation, error) {
	inv := new(Invocation)
	if err := p.ParseInto(inv, prog, args); err != nil {
		return nil, err
	}
	return inv, nil
}

// ParseInto is Parse writing into inv, which it overwrites entirely, so a
// caller parsing many lines (restore) can reuse one Invocation. On error inv
// holds no meaningful value.
func (p Parser) ParseInto(inv *Invocation, prog string, args []string) error {
	resetInvocation(inv)
	if len(args) == 0 {
		inv.Command = List
		return nil
	}
	return p.parseGeneral(inv, prog, args)
}

// resetInvocation sets what every command line starts from: no command or
// options, ipvsadm's default netmask, weight and forwarding method.
func resetInvocation(inv *Invocation) {
	*inv = Invocation{
		Service:     ipvs.Service{Netmask: 0xffffffff},
		Dest:        ipvs.Destination{Weight: 1, ForwardMethod: ipvs.Route},
		lastService: inv.lastService,
	}
}

// serviceMemo is the last numeric service argument parsed into an
// Invocation and what parseService made of it: a rules file names each
// service again on every one of its -a lines.
type serviceMemo struct {
	arg       string
	family    ipvs.Family
	addr      netip.Addr
	port      uint16
	portGiven bool
}

// serviceArg is parseService for the service argument of -t, -u and
// --sctp-service, answered from the Invocation's memo when it is the last
// numeric one parsed into it: numbers parse the same whatever the protocol,
// while names are looked up again on every line, as ipvsadm does.
func (st *parseState) serviceArg(arg string, svc *ipvs.Service) bool {
	if m := &st.inv.lastService; arg != "" && arg == m.arg {
		svc.Family, svc.Addr = m.family, m.addr
		if m.family == ipvs.IPv6 {
			svc.Netmask = 128
		}
		if m.portGiven {
			svc.Port = m.port
		}
		return true
	}
	ok, portGiven, numeric := parseService(arg, svc, st.res)
	if ok && numeric {
		st.inv.lastService = serviceMemo{arg: arg, family: svc.Family, addr: svc.Addr, port: svc.Port, portGiven: portGiven}
	}
	return ok
}

// parseGeneral is ParseInto for every line: popt's scanning of the words,
// then ipvsadm's handling of each option and its checks.
func (p Parser) parseGeneral(inv *Invocation, prog string, args []string) error {
	st := &parseState{inv: inv, res: p.Resolver, scan: scanner{words: cStrings(args), posixlyCorrect: p.PosixlyCorrect}}
	if err := st.parseOptions(prog); err != nil {
		return err
	}
	if inv.Command == Help || inv.Command == Version {
		return nil
	}
	return st.check()
}

type parseState struct {
	inv        *Invocation
	res        Resolver
	scan       scanner
	schedFlags string // the -b argument, applied once the scheduler is known
}

// parseOptions is ipvsadm's parse_options: the command, then every option in
// command-line order, then the positional words and the scheduler flags.
func (st *parseState) parseOptions(prog string) error {
	inv := st.inv
	spec, arg, _, status := st.scan.step()
	if status != scanOption {
		return TryHelp(prog)
	}
	switch spec.id {
	case idAddService:
		inv.Command = AddService
	case idEditService:
		inv.Command = EditService
	case idDeleteService:
		inv.Command = DeleteService
	case idAddServer:
		inv.Command = AddServer
	case idEditServer:
		inv.Command = EditServer
	case idDeleteServer:
		inv.Command = DeleteServer
	case idClear:
		inv.Command = Flush
	case idList:
		inv.Command = List
	case idZero:
		inv.Command = Zero
	case idSet:
		inv.Command = SetTimeouts
	case idRestore:
		inv.Command = Restore
	case idSave:
		inv.Command = Save
	case idStartDaemon, idStopDaemon:
		inv.Command = StartDaemon
		if spec.id == idStopDaemon {
			inv.Command = StopDaemon
		}
		switch arg {
		case "master":
			inv.Daemon.State = ipvs.DaemonMaster
		case "backup":
			inv.Daemon.State = ipvs.DaemonBackup
		default:
			if inv.Command == StartDaemon {
				return failf("illegal start-daemon parameter specified")
			}
			return failf("illegal start_daemon specified")
		}
	case idHelp:
		// ipvsadm prints the usage at once, ignoring the rest.
		inv.Command = Help
		return nil
	case idVersion:
		inv.Command = Version
		return nil
	default:
		return TryHelp(prog)
	}

	for {
		spec, arg, hasArg, status := st.scan.step()
		if status == scanEnd {
			break
		}
		if status != scanOption {
			return &Error{Message: st.scan.badWord() + ": " + status.message(), Status: 255}
		}
		if err := st.option(spec.id, arg, hasArg); err != nil {
			return err
		}
	}

	leftovers := st.scan.leftovers
	if inv.Command == SetTimeouts {
		if len(leftovers) < 3 {
			return failf("--set option requires 3 timeout values")
		}
		values := [3]uint32{}
		for i := range values {
			v, err := parseTimeout(leftovers[i], 0)
			if err != nil {
				return err
			}
			values[i] = v
		}
		inv.Timeouts = ipvs.Timeouts{TCP: values[0], TCPFin: values[1], UDP: values[2]}
		leftovers = leftovers[3:]
	}
	if len(leftovers) > 0 {
		return failf("unexpected argument %s", leftovers[0])
	}

	if st.schedFlags != "" {
		flags, err := parseSchedFlags(inv.Service.Scheduler, st.schedFlags)
		if err != nil {
			return err
		}
		inv.Service.Flags = inv.Service.Flags&^ipvs.SchedFlagsMask | flags
	}
	return nil
}

// option handles one option after the command, as ipvsadm's main loop does.
func (st *parseState) option(id optionID, arg string, hasArg bool) error {
	inv := st.inv
	svc := &inv.Service
	dest := &inv.Dest
	daemon := &inv.Daemon
	switch id {
	case idTCPService, idUDPService, idSCTPService:
		if err := st.setOption(OptService); err != nil {
			return err
		}
		switch id {
		case idTCPService:
			svc.Protocol = ipvs.TCP
		case idUDPService:
			svc.Protocol = ipvs.UDP
		default:
			svc.Protocol = ipvs.SCTP
		}
		if !st.serviceArg(arg, svc) {
			return failf("illegal virtual server address[:port] specified")
		}
	case idFWMarkService:
		if err := st.setOption(OptService); err != nil {
			return err
		}
		svc.Family = ipvs.IPv4
		svc.Protocol = ipvs.TCP // "sane", never sent
		mark, ok := parseFWMark(arg)
		if !ok {
			return failf("invalid fwmark value `%s' specified", arg)
		}
		svc.FWMark = mark
	case idScheduler:
		if err := st.setOption(OptScheduler); err != nil {
			return err
		}
		svc.Scheduler = truncate(arg, schedulerNameMax)
	case idPersistent:
		if err := st.setOption(OptPersistent); err != nil {
			return err
		}
		svc.Flags |= ipvs.FlagPersistent
		svc.Timeout = defaultPersistentTimeout
		if hasArg {
			v, err := parseTimeout(arg, 1)
			if err != nil {
				return err
			}
			svc.Timeout = v
		}
	case idNetmask:
		if err := st.setOption(OptNetmask); err != nil {
			return err
		}
		// Interpreted by the family known so far: a later IPv6 service
		// address or -6 resets it to 128.
		if svc.Family != ipvs.IPv6 {
			addr, ok, _ := parseIPv4Host(arg, st.res)
			if !ok {
				return failf("illegal virtual server persistent mask specified")
			}
			svc.Netmask = uint32FromAddr(addr)
		} else {
			svc.Netmask = uint32(atoi(arg))
			if svc.Netmask < 1 || svc.Netmask > 128 {
				return failf("illegal ipv6 netmask specified")
			}
		}
	case idRealServer:
		if err := st.setOption(OptServer); err != nil {
			return err
		}
		// Parsed against a copy of the service as it is now: its
		// protocol names the port, its port is the default.
		scratch := *svc
		ok, portGiven, _ := parseService(arg, &scratch, st.res)
		dest.Family, dest.Addr, dest.Port = scratch.Family, scratch.Addr, scratch.Port
		if !ok {
			return failf("illegal real server address[:port] specified")
		}
		if !portGiven {
			dest.Port = svc.Port
		}
	case idIPIP, idGatewaying, idMasquerading:
		if err := st.setOption(OptForward); err != nil {
			return err
		}
		switch id {
		case idIPIP:
			dest.ForwardMethod = ipvs.Tunnel
		case idGatewaying:
			dest.ForwardMethod = ipvs.Route
		default:
			dest.ForwardMethod = ipvs.Masquerade
		}
	case idWeight:
		if err := st.setOption(OptWeight); err != nil {
			return err
		}
		v, ok := stringToNumber(arg, 0, maxWeight)
		if !ok {
			return failf("illegal weight specified")
		}
		dest.Weight = uint32(v)
	case idUThreshold:
		if err := st.setOption(OptUThreshold); err != nil {
			return err
		}
		v, ok := stringToNumber(arg, 0, maxThreshold)
		if !ok {
			return failf("illegal u_threshold specified")
		}
		dest.UpperThreshold = uint32(v)
	case idLThreshold:
		if err := st.setOption(OptLThreshold); err != nil {
			return err
		}
		v, ok := stringToNumber(arg, 0, maxThreshold)
		if !ok {
			return failf("illegal l_threshold specified")
		}
		dest.LowerThreshold = uint32(v)
	case idConnection:
		return st.setOption(OptConnection)
	case idNumeric:
		return st.setOption(OptNumeric)
	case idMcastInterface:
		if err := st.setOption(OptMcastInterface); err != nil {
			return err
		}
		daemon.Interface = truncate(arg, interfaceNameMax)
	case idSyncID:
		if err := st.setOption(OptSyncID); err != nil {
			return err
		}
		v, ok := stringToNumber(arg, 0, 255)
		if !ok {
			return failf("illegal syncid specified")
		}
		daemon.SyncID = uint32(v)
	case idTimeout:
		return st.setOption(OptTimeout)
	case idDaemon:
		return st.setOption(OptDaemon)
	case idStats:
		return st.setOption(OptStats)
	case idRate:
		return st.setOption(OptRate)
	case idThresholds:
		return st.setOption(OptThresholds)
	case idPersistentConn:
		return st.setOption(OptPersistentConn)
	case idNoSort:
		return st.setOption(OptNoSort)
	case idSort:
		// The default; accepted everywhere and never recorded.
	case idExact:
		return st.setOption(OptExact)
	case idIPv6:
		if svc.FWMark == 0 {
			// The message has its own newline, so stderr gets an empty
			// line after it.
			return failf("-6 used before -f\n")
		}
		svc.Family = ipvs.IPv6
		svc.Netmask = 128
	case idOnePacket:
		if err := st.setOption(OptOnePacket); err != nil {
			return err
		}
		svc.Flags |= ipvs.FlagOnePacket
	case idPE:
		if err := st.setOption(OptPE); err != nil {
			return err
		}
		svc.PE = truncate(arg, peNameMax)
	case idSchedFlags:
		if err := st.setOption(OptSchedFlags); err != nil {
			return err
		}
		st.schedFlags = truncate(arg, schedFlagsMax)
	case idMcastGroup:
		if err := st.setOption(OptMcastGroup); err != nil {
			return err
		}
		if strings.Contains(arg, ":") {
			addr, ok := inetPton6(arg)
			// IN6_IS_ADDR_MULTICAST: netip would also count
			// ::ffff:224.0.0.1, ipvsadm does not.
			if !ok || addr.As16()[0] != 0xff {
				return failf("invalid IPv6 mcast-group `%s'", arg)
			}
			daemon.Group = addr
		} else {
			b, ok := inetPton4(arg)
			if !ok || b[0]&0xf0 != 0xe0 {
				return failf("invalid IPv4 mcast-group `%s'", arg)
			}
			daemon.Group = addrFromUint32(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
		}
	case idMcastPort:
		if err := st.setOption(OptMcastPort); err != nil {
			return err
		}
		v, ok := stringToNumber(arg, 1, 65535)
		if !ok {
			return failf("illegal mcast-port specified")
		}
		daemon.Port = uint16(v)
	case idMcastTTL:
		if err := st.setOption(OptMcastTTL); err != nil {
			return err
		}
		v, ok := stringToNumber(arg, 1, 255)
		if !ok {
			return failf("illegal mcast-ttl specified")
		}
		daemon.TTL = uint8(v)
	case idSyncMaxLen:
		if err := st.setOption(OptSyncMaxLen); err != nil {
			return err
		}
		v, ok := stringToNumber(arg, 1, maxSyncMaxLen)
		if !ok {
			return failf("illegal sync-maxlen specified")
		}
		daemon.MaxLen = uint16(v)
	case idTunInfo:
		return st.setOption(OptTunInfo)
	case idTunType:
		if err := st.setOption(OptTunType); err != nil {
			return err
		}
		t, ok := tunnelTypes[arg]
		if !ok {
			return failf("illegal tunnel type specified")
		}
		dest.TunnelType = t
	case idTunPort:
		if err := st.setOption(OptTunPort); err != nil {
			return err
		}
		v, ok := stringToNumber(arg, 1, 65535)
		if !ok {
			return failf("illegal tunnel port specified")
		}
		dest.TunnelPort = uint16(v)
	case idTunNoCsum:
		if err := st.setOption(OptTunNoCsum); err != nil {
			return err
		}
		dest.TunnelFlags |= ipvs.TunnelNoChecksum
	case idTunCsum:
		if err := st.setOption(OptTunCsum); err != nil {
			return err
		}
		dest.TunnelFlags |= ipvs.TunnelChecksum
	case idTunRemCsum:
		if err := st.setOption(OptTunRemCsum); err != nil {
			return err
		}
		dest.TunnelFlags |= ipvs.TunnelRemoteChecksum
	default:
		// A second command (or -h, -v, -R, ...): popt reports the word
		// it read last, which for --start-daemon is its argument.
		return failf("invalid option `%s'", st.scan.badWord())
	}
	return nil
}

var tunnelTypes = map[string]ipvs.TunnelType{
	"ipip": ipvs.TunnelIPIP,
	"gue":  ipvs.TunnelGUE,
	"gre":  ipvs.TunnelGRE,
}

func (st *parseState) setOption(o Options) error {
	if st.inv.Options&o != 0 {
		return failf("multiple '%s' options specified", optionName(o))
	}
	st.inv.Options |= o
	return nil
}

func optionName(o Options) string {
	for i, name := range optionNames {
		if o == 1<<i {
			return name
		}
	}
	return o.String()
}

// parseTimeout is ipvsadm's parse_timeout for a given value.
func parseTimeout(s string, min int64) (uint32, error) {
	v, ok := stringToNumber(s, min, maxTimeout)
	if !ok {
		return 0, failf("invalid timeout value `%s' specified", s)
	}
	return uint32(v), nil
}

// parseSchedFlags is ipvsadm's parse_sched_flags: comma-separated names,
// empty items skipped, checked against the scheduler (default wlc).
func parseSchedFlags(scheduler, list string) (ipvs.ServiceFlags, error) {
	if scheduler == "" {
		scheduler = defaultScheduler
	}
	var flags ipvs.ServiceFlags
	items := 0
	for rest := list; rest != ""; {
		item, after, _ := strings.Cut(rest, ",")
		rest = after
		if item == "" {
			continue
		}
		items++
		var flag ipvs.ServiceFlags
		only := ""
		switch item {
		case "flag-1":
			flag = ipvs.FlagSched1
		case "flag-2":
			flag = ipvs.FlagSched2
		case "flag-3":
			flag = ipvs.FlagSched3
		case "sh-fallback":
			flag, only = ipvs.FlagSched1, "sh"
		case "sh-port":
			flag, only = ipvs.FlagSched2, "sh"
		case "mh-fallback":
			flag, only = ipvs.FlagSched1, "mh"
		case "mh-port":
			flag, only = ipvs.FlagSched2, "mh"
		default:
			return 0, failf("invalid scheduler flag `%s'", item)
		}
		if only != "" && scheduler != only {
			return 0, failf("incompatible scheduler flag `%s'", item)
		}
		flags |= flag
	}
	if items == 0 {
		// ipvsadm dereferences a null pointer here and dies with
		// SIGSEGV; reject the value instead.
		return 0, failf("invalid scheduler flag `%s'", list)
	}
	return flags, nil
}

// commandOptions is ipvsadm's commands_v_options table: one character per
// option, in the bit order of Options: '+' required, 'x' illegal, '1' at
// most one of the '1' options, '.' optional. Commands without a row (Help,
// Version) are not checked.
var commandOptions = [Version + 1]string{
	AddService:    "xx+...xxxxxxxxxxxxxxx...xxxxxxxxxx",
	EditService:   "xx+...xxxxxxxxxxxxxxx...xxxxxxxxxx",
	DeleteService: "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	Flush:         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	List:          ".11xxxxxxxxx11.......xxxxxxx.xxxxx",
	AddServer:     "xx+xxx+....xxxxxxxxxxxxxxxxxx.....",
	DeleteServer:  "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx",
	EditServer:    "xx+xxx+....xxxxxxxxxxxxxxxxxx.....",
	SetTimeouts:   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	StartDaemon:   "xxxxxxxxxxx.xxxxxxx.xxxx....xxxxxx",
	StopDaemon:    "xxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxx",
	Restore:       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	Save:          ".xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	Zero:          "xx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
}

// tunnelOptions are the options checked against the tunnel type, and the
// rules per type in the same order (types without a row are not checked).
var (
	tunnelOptionColumns = [4]Options{OptTunPort, OptTunNoCsum, OptTunCsum, OptTunRemCsum}
	tunnelOptions       = [ipvs.TunnelGRE + 1]string{
		ipvs.TunnelIPIP: "xxxx",
		ipvs.TunnelGUE:  "+111",
		ipvs.TunnelGRE:  "x11x",
	}
)

func commandColumn(i int) Options { return 1 << i }

func tunnelColumn(i int) Options { return tunnelOptionColumns[i] }

// optionRules is a row of those tables as bit masks, so that the common
// case, a command line that breaks no rule, costs a few bit operations.
type optionRules struct {
	required, illegal, exclusive Options
}

func compileRules(rules string, columns func(i int) Options) optionRules {
	var r optionRules
	for i := 0; i < len(rules); i++ {
		switch rules[i] {
		case '+':
			r.required |= columns(i)
		case 'x':
			r.illegal |= columns(i)
		case '1':
			r.exclusive |= columns(i)
		}
	}
	return r
}

// Read-only once built.
var (
	commandRules = func() (rules [len(commandOptions)]optionRules) {
		for cmd, row := range commandOptions {
			rules[cmd] = compileRules(row, commandColumn)
		}
		return rules
	}()
	tunnelRules = func() (rules [len(tunnelOptions)]optionRules) {
		for t, row := range tunnelOptions {
			rules[t] = compileRules(row, tunnelColumn)
		}
		return rules
	}()
)

// brokenBy reports whether checkTable finds a problem with given.
func (r optionRules) brokenBy(given Options) bool {
	return given&r.illegal != 0 || r.required&^given != 0 || bits.OnesCount64(uint64(given&r.exclusive)) > 1
}

// checkTable is ipvsadm's generic_opt_check and tunnel_opt_check: walk the
// columns in order and report the first problem. It only runs when
// brokenBy says there is one, since finding it builds messages.
func checkTable(rules string, columns func(i int) Options, given Options, what string) error {
	first := ""
	for i := 0; i < len(rules); i++ {
		o := columns(i)
		if given&o == 0 {
			if rules[i] == '+' {
				return failf("You need to supply the '%s' option for the %s", optionName(o), what)
			}
			continue
		}
		switch rules[i] {
		case 'x':
			return failf("Illegal '%s' option with the %s", optionName(o), what)
		case '1':
			if first == "" {
				first = optionName(o)
				continue
			}
			return failf("The option '%s' conflicts with the '%s' option in the %s", optionName(o), first, what)
		}
	}
	return nil
}

// check runs ipvsadm's checks after parse_options, in its order.
func (st *parseState) check() error {
	inv := st.inv
	svc := &inv.Service
	dest := &inv.Dest
	if int(inv.Command) < len(commandRules) && commandRules[inv.Command].brokenBy(inv.Options) {
		if err := checkTable(commandOptions[inv.Command], commandColumn, inv.Options,
			fmt.Sprintf("'%s' command", inv.Command)); err != nil {
			return err
		}
	}

	if inv.Command == AddService || inv.Command == EditService {
		if svc.FWMark == 0 && svc.Port == 0 && svc.Flags&ipvs.FlagPersistent == 0 {
			return failf("Zero port specified for non-persistent service")
		}
		if svc.Flags&ipvs.FlagOnePacket != 0 && svc.FWMark == 0 && svc.Protocol != ipvs.UDP {
			return failf("One-Packet Scheduling is only for UDP virtual services")
		}
		if svc.Scheduler == "" {
			svc.Scheduler = defaultScheduler
		}
	}

	if inv.Command == StartDaemon && inv.Daemon.Interface == "" {
		inv.Daemon.Interface = defaultMcastInterface
	}

	if inv.Command == AddServer || inv.Command == EditServer {
		method := dest.ForwardMethod & forwardMask
		if svc.FWMark == 0 && (method == ipvs.Tunnel || method == ipvs.Route) {
			dest.Port = svc.Port
		}
		if dest.Family != svc.Family && method != ipvs.Tunnel {
			return failf("Different address family is allowed only for tunneling servers")
		}
		if inv.Options&(OptTunType|OptTunPort|OptTunNoCsum|OptTunCsum|OptTunRemCsum) != 0 && method != ipvs.Tunnel {
			return failf("Tunnel options conflict with forward method")
		}
		if int(dest.TunnelType) < len(tunnelRules) && tunnelRules[dest.TunnelType].brokenBy(inv.Options) {
			if err := checkTable(tunnelOptions[dest.TunnelType], tunnelColumn, inv.Options,
				fmt.Sprintf("'%s' tunnel type", dest.TunnelType)); err != nil {
				return err
			}
		}
	}

	if inv.Command == List {
		o := inv.Options
		if o&(OptConnection|OptTimeout|OptDaemon) != 0 && o&(OptStats|OptRate|OptThresholds) != 0 ||
			o&(OptTimeout|OptDaemon) != 0 && o&OptPersistentConn != 0 {
			return failf("options conflicts in the list command")
		}
	}
	return nil
}
