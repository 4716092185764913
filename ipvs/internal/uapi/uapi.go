// Package uapi holds the numbers of the kernel's IPVS generic-netlink
// interface, transcribed from include/uapi/linux/ip_vs.h (Linux 6.1, which
// matches every release since 5.3 for this header), and the few netlink,
// generic-netlink and address-family numbers around it. They are shared by
// the client and by the fake kernel in ipvs/ipvstest, and defined here
// because golang.org/x/sys/unix has the netlink ones only on Linux (and
// numbers AF_INET6 differently elsewhere).
package uapi

// Family name and version of the IPVS generic-netlink family.
const (
	FamilyName    = "IPVS"
	FamilyVersion = 1
)

// Commands (IPVS_CMD_*).
const (
	CmdUnspec     = 0
	CmdNewService = 1
	CmdSetService = 2
	CmdDelService = 3
	CmdGetService = 4
	CmdNewDest    = 5
	CmdSetDest    = 6
	CmdDelDest    = 7
	CmdGetDest    = 8
	CmdNewDaemon  = 9
	CmdDelDaemon  = 10
	CmdGetDaemon  = 11
	CmdSetConfig  = 12
	CmdGetConfig  = 13
	CmdSetInfo    = 14
	CmdGetInfo    = 15
	CmdZero       = 16
	CmdFlush      = 17
)

// Top-level attributes (IPVS_CMD_ATTR_*).
const (
	CmdAttrService       = 1
	CmdAttrDest          = 2
	CmdAttrDaemon        = 3
	CmdAttrTimeoutTCP    = 4
	CmdAttrTimeoutTCPFin = 5
	CmdAttrTimeoutUDP    = 6
)

// Service attributes (IPVS_SVC_ATTR_*).
const (
	SvcAttrAF        = 1
	SvcAttrProtocol  = 2
	SvcAttrAddr      = 3
	SvcAttrPort      = 4
	SvcAttrFWMark    = 5
	SvcAttrSchedName = 6
	SvcAttrFlags     = 7
	SvcAttrTimeout   = 8
	SvcAttrNetmask   = 9
	SvcAttrStats     = 10
	SvcAttrPEName    = 11
	SvcAttrStats64   = 12
)

// Destination attributes (IPVS_DEST_ATTR_*).
const (
	DestAttrAddr         = 1
	DestAttrPort         = 2
	DestAttrFwdMethod    = 3
	DestAttrWeight       = 4
	DestAttrUThresh      = 5
	DestAttrLThresh      = 6
	DestAttrActiveConns  = 7
	DestAttrInactConns   = 8
	DestAttrPersistConns = 9
	DestAttrStats        = 10
	DestAttrAddrFamily   = 11
	DestAttrStats64      = 12
	DestAttrTunType      = 13
	DestAttrTunPort      = 14
	DestAttrTunFlags     = 15
)

// Daemon attributes (IPVS_DAEMON_ATTR_*).
const (
	DaemonAttrState       = 1
	DaemonAttrMcastIfn    = 2
	DaemonAttrSyncID      = 3
	DaemonAttrSyncMaxLen  = 4
	DaemonAttrMcastGroup  = 5
	DaemonAttrMcastGroup6 = 6
	DaemonAttrMcastPort   = 7
	DaemonAttrMcastTTL    = 8
)

// Statistics attributes (IPVS_STATS_ATTR_*), used in both STATS and STATS64.
const (
	StatsConns    = 1
	StatsInPkts   = 2
	StatsOutPkts  = 3
	StatsInBytes  = 4
	StatsOutBytes = 5
	StatsCPS      = 6
	StatsInPPS    = 7
	StatsOutPPS   = 8
	StatsInBPS    = 9
	StatsOutBPS   = 10
	StatsPad      = 11
)

// Info attributes (IPVS_INFO_ATTR_*).
const (
	InfoAttrVersion     = 1
	InfoAttrConnTabSize = 2
)

// Sizes from the header.
const (
	SchedNameMaxLen = 16 // IP_VS_SCHEDNAME_MAXLEN, including the NUL
	PENameMaxLen    = 16 // IP_VS_PENAME_MAXLEN, including the NUL
	IfNameMaxLen    = 16 // IP_VS_IFNAME_MAXLEN, including the NUL
)

// Address families as Linux numbers them (linux/socket.h).
const (
	AFInet  = 2
	AFInet6 = 10
)

// Netlink (linux/netlink.h): the generic-netlink protocol, the message
// types below NLMSG_MIN_TYPE, which the kernel handles itself, and the
// socket options the client sets.
const (
	NetlinkGeneric = 16
	NlmsgNoop      = 1
	NlmsgError     = 2
	NlmsgDone      = 3
	NlmsgMinType   = 0x10
)

// Generic-netlink controller (linux/genetlink.h): its family ID, the
// command that looks a family up, and the attributes of the answer.
const (
	GenlIDCtrl         = 0x10
	CtrlCmdNewFamily   = 1
	CtrlCmdGetFamily   = 3
	CtrlAttrFamilyID   = 1
	CtrlAttrFamilyName = 2
	CtrlAttrVersion    = 3
	CtrlAttrHdrSize    = 4
	CtrlAttrMaxAttr    = 5
)
