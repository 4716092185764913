package compat

import "strings"

// optionID identifies an entry of ipvsadm's option table.
type optionID int

const (
	idAddService optionID = iota + 1
	idEditService
	idDeleteService
	idClear
	idList
	idZero
	idAddServer
	idEditServer
	idDeleteServer
	idSet
	idHelp
	idVersion
	idRestore
	idSave
	idStartDaemon
	idStopDaemon
	idTCPService
	idUDPService
	idSCTPService
	idFWMarkService
	idScheduler
	idPersistent
	idNetmask
	idRealServer
	idMasquerading
	idIPIP
	idGatewaying
	idWeight
	idUThreshold
	idLThreshold
	idNumeric
	idConnection
	idMcastInterface
	idSyncID
	idTimeout
	idDaemon
	idStats
	idRate
	idThresholds
	idPersistentConn
	idNoSort
	idSort
	idExact
	idIPv6
	idOnePacket
	idPE
	idSchedFlags
	idMcastGroup
	idMcastPort
	idMcastTTL
	idSyncMaxLen
	idTunInfo
	idTunType
	idTunPort
	idTunNoCsum
	idTunCsum
	idTunRemCsum
)

type argKind uint8

const (
	noArgument argKind = iota
	requiredArgument
	optionalArgument // popt's POPT_ARGFLAG_OPTIONAL
)

type optionSpec struct {
	long  string
	short byte // 0: long form only
	arg   argKind
	id    optionID
}

// optionTable is ipvsadm's option list in its order: popt returns the first
// entry that matches, which only matters for "list" (-L and -l).
var optionTable = [...]optionSpec{
	{"add-service", 'A', noArgument, idAddService},
	{"edit-service", 'E', noArgument, idEditService},
	{"delete-service", 'D', noArgument, idDeleteService},
	{"clear", 'C', noArgument, idClear},
	{"list", 'L', noArgument, idList},
	{"list", 'l', noArgument, idList},
	{"zero", 'Z', noArgument, idZero},
	{"add-server", 'a', noArgument, idAddServer},
	{"edit-server", 'e', noArgument, idEditServer},
	{"delete-server", 'd', noArgument, idDeleteServer},
	{"set", 0, noArgument, idSet},
	{"help", 'h', noArgument, idHelp},
	{"version", 'v', noArgument, idVersion},
	{"restore", 'R', noArgument, idRestore},
	{"save", 'S', noArgument, idSave},
	{"start-daemon", 0, requiredArgument, idStartDaemon},
	{"stop-daemon", 0, requiredArgument, idStopDaemon},
	{"tcp-service", 't', requiredArgument, idTCPService},
	{"udp-service", 'u', requiredArgument, idUDPService},
	{"sctp-service", 0, requiredArgument, idSCTPService},
	{"fwmark-service", 'f', requiredArgument, idFWMarkService},
	{"scheduler", 's', requiredArgument, idScheduler},
	{"persistent", 'p', optionalArgument, idPersistent},
	{"netmask", 'M', requiredArgument, idNetmask},
	{"real-server", 'r', requiredArgument, idRealServer},
	{"masquerading", 'm', noArgument, idMasquerading},
	{"ipip", 'i', noArgument, idIPIP},
	{"gatewaying", 'g', noArgument, idGatewaying},
	{"weight", 'w', requiredArgument, idWeight},
	{"u-threshold", 'x', requiredArgument, idUThreshold},
	{"l-threshold", 'y', requiredArgument, idLThreshold},
	{"numeric", 'n', noArgument, idNumeric},
	{"connection", 'c', noArgument, idConnection},
	{"mcast-interface", 0, requiredArgument, idMcastInterface},
	{"syncid", 0, requiredArgument, idSyncID},
	{"timeout", 0, noArgument, idTimeout},
	{"daemon", 0, noArgument, idDaemon},
	{"stats", 0, noArgument, idStats},
	{"rate", 0, noArgument, idRate},
	{"thresholds", 0, noArgument, idThresholds},
	{"persistent-conn", 0, noArgument, idPersistentConn},
	{"nosort", 0, noArgument, idNoSort},
	{"sort", 0, noArgument, idSort},
	{"exact", 'X', noArgument, idExact},
	{"ipv6", '6', noArgument, idIPv6},
	{"ops", 'o', noArgument, idOnePacket},
	{"pe", 0, requiredArgument, idPE},
	{"sched-flags", 'b', requiredArgument, idSchedFlags},
	{"mcast-group", 0, requiredArgument, idMcastGroup},
	{"mcast-port", 0, requiredArgument, idMcastPort},
	{"mcast-ttl", 0, requiredArgument, idMcastTTL},
	{"sync-maxlen", 0, requiredArgument, idSyncMaxLen},
	{"tun-info", 0, noArgument, idTunInfo},
	{"tun-type", 0, requiredArgument, idTunType},
	{"tun-port", 0, requiredArgument, idTunPort},
	{"tun-nocsum", 0, noArgument, idTunNoCsum},
	{"tun-csum", 0, noArgument, idTunCsum},
	{"tun-remcsum", 0, noArgument, idTunRemCsum},
}

// longOptions maps a long option name to the first entry of optionTable
// that has it. Read-only once built.
var longOptions = func() map[string]*optionSpec {
	index := make(map[string]*optionSpec, len(optionTable))
	for i := len(optionTable) - 1; i >= 0; i-- {
		index[optionTable[i].long] = &optionTable[i]
	}
	return index
}()

func findLong(name string) *optionSpec { return longOptions[name] }

// shortOptions maps a short option letter to 1 + the index of the first
// entry of optionTable that has it (0: none). Read-only once built.
var shortOptions = func() (index [256]uint8) {
	for i := len(optionTable) - 1; i >= 0; i-- {
		if c := optionTable[i].short; c != 0 {
			index[c] = uint8(i + 1)
		}
	}
	return index
}()

func findShort(c byte) *optionSpec {
	if i := shortOptions[c]; i != 0 {
		return &optionTable[i-1]
	}
	return nil
}

// scanStatus is the outcome of one scanner step, mirroring the return
// values of poptGetNextOpt.
type scanStatus int

const (
	scanOption scanStatus = iota
	scanEnd
	scanBadOption       // POPT_ERROR_BADOPT
	scanMissingArgument // POPT_ERROR_NOARG
	scanUnwantedArgument
)

// popt's poptStrerror texts.
func (s scanStatus) message() string {
	switch s {
	case scanBadOption:
		return "unknown option"
	case scanMissingArgument:
		return "missing argument"
	case scanUnwantedArgument:
		return "option does not take an argument"
	}
	return "unknown error"
}

// scanner walks an argument vector the way popt's poptGetNextOpt does for
// ipvsadm's table (context flags 0, no aliases, no execs, no callbacks):
//   - "--name" and "--name=value" select long options, spelled in full;
//   - "-abc" is a cluster of short options; an option that takes an
//     argument takes the rest of the cluster (one leading '=' dropped),
//     so "-t=x" and "-tx" both give "x";
//   - otherwise a required argument is the next word, whatever it is; an
//     optional one only when that word does not start with '-';
//   - "--" makes every later word positional; "-" and words not starting
//     with '-' are positional (with POSIXLY_CORRECT, they also end options);
//   - popt replaces "!#:+" in an argument by the next word that does not
//     start with '-', which is then skipped as a positional.
type scanner struct {
	words []string
	next  int
	// The unread rest of a short-option cluster is words[next-1][cluster:],
	// none when cluster is 0. An offset, not a string, so that stepping
	// through a cluster stores no pointer.
	cluster        int
	rest           bool // "--" seen: everything else is positional
	posixlyCorrect bool
	leftovers      []string
	taken          []bool // words consumed by "!#:+"; nil until one is
}

// badWord is what poptBadOption reports: the word read last.
func (s *scanner) badWord() string {
	if s.next == 0 {
		return ""
	}
	return s.words[s.next-1]
}

// step returns the next option and its argument (hasArg false when an
// optional argument is absent).
func (s *scanner) step() (spec *optionSpec, arg string, hasArg bool, status scanStatus) {
	var longArg string
	hasLongArg := false
	for spec == nil {
		if s.cluster == 0 {
			if s.next == len(s.words) {
				return nil, "", false, scanEnd
			}
			if s.taken != nil && s.taken[s.next] {
				s.next++
				continue
			}
			word := s.words[s.next]
			s.next++
			if s.rest || word == "" || word[0] != '-' || word == "-" {
				if s.posixlyCorrect {
					s.rest = true
				}
				s.leftovers = append(s.leftovers, word)
				continue
			}
			if word == "--" {
				s.rest = true
				continue
			}
			if word[1] == '-' {
				name := word[2:]
				if eq := strings.IndexByte(name, '='); eq >= 0 {
					longArg, hasLongArg = name[eq+1:], true
					name = name[:eq]
				}
				if spec = findLong(name); spec == nil {
					return nil, "", false, scanBadOption
				}
				break
			}
			// A single dash never selects a long option here (no entry
			// of the table allows it), so the word is a cluster.
			s.cluster = 1
		}
		cluster := s.words[s.next-1]
		c := cluster[s.cluster]
		if s.cluster++; s.cluster == len(cluster) {
			s.cluster = 0
		}
		if spec = findShort(c); spec == nil {
			return nil, "", false, scanBadOption
		}
	}

	if spec.arg == noArgument {
		if hasLongArg || s.cluster != 0 && s.words[s.next-1][s.cluster] == '=' {
			return nil, "", false, scanUnwantedArgument
		}
		return spec, "", false, scanOption
	}
	switch {
	case hasLongArg:
		return spec, s.expand(longArg), true, scanOption
	case s.cluster != 0:
		value := strings.TrimPrefix(s.words[s.next-1][s.cluster:], "=")
		s.cluster = 0
		return spec, s.expand(value), true, scanOption
	case s.next == len(s.words):
		if spec.arg == optionalArgument {
			return spec, "", false, scanOption
		}
		return nil, "", false, scanMissingArgument
	case spec.arg == optionalArgument && strings.HasPrefix(s.words[s.next], "-"):
		return spec, "", false, scanOption
	default:
		// popt takes this word even if "!#:+" already consumed it.
		word := s.words[s.next]
		s.next++
		return spec, s.expand(word), true, scanOption
	}
}

// expand performs popt's "!#:+" substitution on an option argument.
func (s *scanner) expand(value string) string {
	const marker = "!#:+"
	if strings.IndexByte(value, marker[0]) < 0 || !strings.Contains(value, marker) {
		return value
	}
	var b strings.Builder
	var found *string
	for i := 0; i < len(value); i++ {
		if strings.HasPrefix(value[i:], marker) {
			if found == nil {
				found = s.takeNextPlainWord()
			}
			if found != nil {
				b.WriteString(*found)
				i += len(marker) - 1
				continue
			}
		}
		b.WriteByte(value[i])
	}
	return b.String()
}

// takeNextPlainWord finds, consumes and returns the first unconsumed later
// word that does not start with '-'. When later words exist but all start
// with '-', popt loops forever; we leave the marker unexpanded instead.
func (s *scanner) takeNextPlainWord() *string {
	if s.taken == nil {
		s.taken = make([]bool, len(s.words))
	}
	for i := s.next; i < len(s.words); i++ {
		if s.taken[i] || strings.HasPrefix(s.words[i], "-") {
			continue
		}
		s.taken[i] = true
		return &s.words[i]
	}
	return nil
}

// OptionWords lists every option ipvsadm accepts, "--long" forms then
// "-x" forms, each once, in ipvsadm's order (for shell completion).
func OptionWords() []string {
	var long, short []string
	seen := map[string]bool{}
	for _, o := range optionTable {
		if w := "--" + o.long; !seen[w] {
			seen[w] = true
			long = append(long, w)
		}
		if o.short != 0 {
			if w := "-" + string(o.short); !seen[w] {
				seen[w] = true
				short = append(short, w)
			}
		}
	}
	return append(long, short...)
}
