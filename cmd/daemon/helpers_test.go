package daemon

import (
	"net/netip"
	"syscall"
)

var (
	syscallHUP  = syscall.SIGHUP
	syscallTERM = syscall.SIGTERM
)

func netipAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
