package netnsid

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Current identifies the calling thread's network namespace, the one
// /proc/sys/net and netlink sockets opened by this thread resolve to.
func Current() (ID, error) {
	var st unix.Stat_t
	err := unix.Stat("/proc/thread-self/ns/net", &st)
	if err != nil {
		// Kernels before 3.17 have no thread-self; the process view is
		// the same unless threads have been moved.
		err = unix.Stat("/proc/self/ns/net", &st)
	}
	if err != nil {
		return ID{}, fmt.Errorf("identify network namespace: %w", err)
	}
	id := ID{Inode: st.Ino}
	if fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err == nil {
		if c, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_NETNS_COOKIE); err == nil {
			id.Cookie = c
		}
		unix.Close(fd)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		id.BootID = strings.TrimSpace(string(b))
	}
	return id, nil
}
