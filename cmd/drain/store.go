package drain

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/ipvs"
)

// DefaultDir is where drained weights are recorded (a tmpfs: records do
// not outlive a reboot, nor do the kernel's services).
const DefaultDir = "/run/lvsadm"

// NetNS identifies a network namespace.
type NetNS struct {
	Inode  uint64
	Cookie uint64 // 0 when the kernel has none
}

// Record is what drain remembers of a real server.
type Record struct {
	Service string    `json:"service"` // as ipvsadm writes it: -t 192.0.2.10:80
	Server  string    `json:"server"`
	Weight  uint32    `json:"weight"`
	Cookie  uint64    `json:"netns_cookie,omitempty"`
	Drained time.Time `json:"drained"`
}

// Store keeps one file per drained real server in a directory that only
// root (or Owner) can have made and can write.
type Store struct {
	Dir   string
	NetNS NetNS
	// Owner is a uid trusted besides root (tests run unprivileged); 0 for
	// root alone.
	Owner int
}

// path names the record of a real server of a service: network namespace,
// service, real server.
func (s Store) path(k ipvs.ServiceKey, server netip.AddrPort) string {
	k = desired.Key(k)
	svc := ""
	if k.FWMark != 0 {
		svc = fmt.Sprintf("fwmark-%s-%d", k.Family, k.FWMark)
	} else {
		svc = fmt.Sprintf("%s-%s-%d", strings.ToLower(k.Protocol.String()), k.Addr, k.Port)
	}
	return filepath.Join(s.Dir, fmt.Sprintf("drain-%d-%s-%s-%d.json", s.NetNS.Inode, svc, server.Addr(), server.Port()))
}

func (s Store) trusted(info os.FileInfo) (uint32, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Uid, st.Uid == 0 || int(st.Uid) == s.Owner
}

// checkDir refuses a directory that another user could have put in place
// or could write. exists is false if there is none.
func (s Store) checkDir() (exists bool, err error) {
	info, err := os.Lstat(s.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("state directory: %w", err)
	}
	if !info.IsDir() {
		return true, fmt.Errorf("state directory %s is not a directory (or is a symbolic link); remove it and run the command again", s.Dir)
	}
	if uid, ok := s.trusted(info); !ok {
		return true, fmt.Errorf("state directory %s belongs to uid %d, not root, so that user could change the weights enable restores; "+
			"run 'chown root %s' and run the command again", s.Dir, uid, s.Dir)
	}
	if perm := info.Mode().Perm(); perm&0o022 != 0 {
		return true, fmt.Errorf("state directory %s is writable by group or others (mode %04o), so another user could change "+
			"the weights enable restores; run 'chmod go-w %s' and run the command again", s.Dir, perm, s.Dir)
	}
	return true, nil
}

// Load reads the record of a real server; nil if there is none, or if it
// was left by a namespace that has gone (same inode, other cookie).
func (s Store) Load(k ipvs.ServiceKey, server netip.AddrPort) (*Record, error) {
	exists, err := s.checkDir()
	if err != nil || !exists {
		return nil, err
	}
	path := s.path(k, server)
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("drain record: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("drain record: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("drain record %s is not a regular file; remove it and run the command again", path)
	}
	if uid, ok := s.trusted(info); !ok {
		return nil, fmt.Errorf("drain record %s belongs to uid %d, not root; remove it and run the command again", path, uid)
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("drain record: %w", err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("drain record %s is damaged (%v); remove it and give enable --weight", path, err)
	}
	if r.Cookie != 0 && s.NetNS.Cookie != 0 && r.Cookie != s.NetNS.Cookie {
		return nil, nil
	}
	return &r, nil
}

// Create records r unless a record of the real server is there already, in
// which case it returns that one: draining twice keeps the first weight.
func (s Store) Create(k ipvs.ServiceKey, server netip.AddrPort, r Record) (kept *Record, err error) {
	if old, err := s.Load(k, server); err != nil || old != nil {
		return old, err
	}
	exists, err := s.checkDir()
	if err != nil {
		return nil, err
	}
	if !exists {
		if err := os.MkdirAll(s.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
		if _, err := s.checkDir(); err != nil {
			return nil, err
		}
	}
	r.Cookie = s.NetNS.Cookie
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	path := s.path(k, server)
	tmp, err := os.CreateTemp(s.Dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("drain record: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(append(data, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("drain record: %w", err)
	}
	// A stale record (another namespace's) is replaced; a link never
	// replaces a record that another drain made meanwhile.
	if _, statErr := os.Lstat(path); statErr == nil {
		err = os.Rename(tmp.Name(), path)
	} else {
		err = os.Link(tmp.Name(), path)
	}
	if errors.Is(err, os.ErrExist) {
		return s.Load(k, server)
	}
	if err != nil {
		return nil, fmt.Errorf("drain record: %w", err)
	}
	return nil, nil
}

// Remove deletes the record of a real server, if any.
func (s Store) Remove(k ipvs.ServiceKey, server netip.AddrPort) error {
	err := os.Remove(s.path(k, server))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("drain record: %w", err)
	}
	return nil
}
