package drain

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// CurrentNetNS identifies the network namespace of the calling thread: its
// inode names the records, its cookie (Linux 5.14 and later) tells a
// namespace that reuses a dead one's inode from it.
func CurrentNetNS() (NetNS, error) {
	var st unix.Stat_t
	err := unix.Stat("/proc/thread-self/ns/net", &st)
	if err != nil {
		err = unix.Stat("/proc/self/ns/net", &st)
	}
	if err != nil {
		return NetNS{}, fmt.Errorf("identify network namespace: %w", err)
	}
	id := NetNS{Inode: st.Ino}
	if fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err == nil {
		if c, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_NETNS_COOKIE); err == nil {
			id.Cookie = c
		}
		unix.Close(fd)
	}
	return id, nil
}
