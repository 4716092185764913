// Package netnsid identifies network namespaces across runs of lvsadm, for
// the records it keeps under /run/lvsadm.
package netnsid

import "fmt"

// ID identifies a network namespace. The inode of /proc/thread-self/ns/net
// names records; inode numbers are reused once a namespace is gone, so the
// namespace cookie (SO_NETNS_COOKIE, never reused while the system runs) and
// the boot id tell a stale record from a live one.
type ID struct {
	Inode  uint64 `json:"inode"`
	Cookie uint64 `json:"cookie,omitempty"` // 0 before Linux 5.14
	BootID string `json:"boot_id,omitempty"`
}

// StaleReason says why a record written as id belongs to a namespace other
// than now, which has the same inode number; "" if nothing shows it.
func (id ID) StaleReason(now ID) string {
	if id.BootID != "" && now.BootID != "" && id.BootID != now.BootID {
		return fmt.Sprintf("was written before the system was last booted (boot id %s, now %s)", id.BootID, now.BootID)
	}
	if id.Cookie != 0 && now.Cookie != 0 && id.Cookie != now.Cookie {
		return fmt.Sprintf("was written in another network namespace, which no longer exists: this one reuses its inode number %d "+
			"(namespace cookie %d, now %d)", now.Inode, id.Cookie, now.Cookie)
	}
	return ""
}
