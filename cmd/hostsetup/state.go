package hostsetup

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lvsadm/lvsadm/sysctl"
	"golang.org/x/sys/unix"
)

// DefaultStateDir holds one state file per network namespace. /run is
// cleared at boot, which is right: the kernel values recorded there do not
// survive a reboot either.
const DefaultStateDir = "/run/lvsadm"

const stateVersion = 1

// netnsID identifies a network namespace. The inode of /proc/thread-self/ns/net
// names the state file; inode numbers are reused once a namespace is gone, so
// the namespace cookie (SO_NETNS_COOKIE, never reused while the system runs)
// and the boot id tell a stale file from a live one.
type netnsID struct {
	Inode  uint64 `json:"inode"`
	Cookie uint64 `json:"cookie,omitempty"`
	BootID string `json:"boot_id,omitempty"`
}

// sameNamespace reports whether a recorded identity can be the current one.
func (id netnsID) sameNamespace(now netnsID) bool {
	if id.Inode != now.Inode {
		return false
	}
	if id.BootID != "" && now.BootID != "" && id.BootID != now.BootID {
		return false
	}
	return id.Cookie == 0 || now.Cookie == 0 || id.Cookie == now.Cookie
}

// state is the content of one state file: what lvsadm changed in one network
// namespace, per role, so that down can put it back.
type state struct {
	Version int      `json:"version"`
	NetNS   netnsID  `json:"netns"`
	Entries []*entry `json:"entries"`
}

// entry is one role that is up: director, realserver, or one of the knob
// commands (arp, forward, redirects, rpfilter).
type entry struct {
	Role     string    `json:"role"`
	Settings settings  `json:"settings"`
	Since    time.Time `json:"since"`
	// Wants lists the sysctl values the role relies on; down of another
	// role leaves these alone and hands their record over.
	Wants []want `json:"wants,omitempty"`
	// Changes are in the order they were made; down undoes them backwards.
	Changes []change `json:"changes"`
}

type want struct {
	Key    sysctl.Key `json:"key"`
	Accept []string   `json:"accept"`
}

// Kinds of change.
const (
	changeSysctl     = "sysctl"
	changeAddress    = "address"
	changeLinkUp     = "link-up"
	changeLinkCreate = "link-create"
)

// change is one thing up did.
type change struct {
	Kind string `json:"kind"`
	// Status is empty for a change made and recorded, else statusPending
	// or statusUndoing (see journal.go).
	Status string `json:"status,omitempty"`

	// sysctl: Key held Before and lvsadm wrote After; Effects are the other
	// keys the kernel changed as a consequence of that write.
	Key     sysctl.Key `json:"key,omitempty"`
	Before  string     `json:"before,omitempty"`
	After   string     `json:"after,omitempty"`
	Effects []effect   `json:"effects,omitempty"`

	// address: the address added. link-up, link-create: the link.
	Address string `json:"address,omitempty"`
	Link    string `json:"link,omitempty"`
	Label   string `json:"label,omitempty"`
}

type effect struct {
	Key    sysctl.Key `json:"key"`
	Before string     `json:"before"`
	After  string     `json:"after"`
}

func (s *state) entry(role string) *entry {
	for _, e := range s.Entries {
		if e.Role == role {
			return e
		}
	}
	return nil
}

func (s *state) remove(role string) {
	kept := s.Entries[:0]
	for _, e := range s.Entries {
		if e.Role != role {
			kept = append(kept, e)
		}
	}
	s.Entries = kept
}

// validate rejects a file that decodes but cannot be acted on safely.
func (s *state) validate() error {
	if s.Version != stateVersion {
		return fmt.Errorf("version %d, this lvsadm reads version %d", s.Version, stateVersion)
	}
	seen := map[string]bool{}
	for _, e := range s.Entries {
		if e == nil || !knownRole(e.Role) {
			return errors.New("an entry has an unknown role")
		}
		if seen[e.Role] {
			return fmt.Errorf("role %s recorded twice", e.Role)
		}
		seen[e.Role] = true
		for _, c := range e.Changes {
			if err := c.validate(); err != nil {
				return fmt.Errorf("role %s: %w", e.Role, err)
			}
		}
	}
	return nil
}

func (c change) validate() error {
	switch {
	case c.Status == "", c.Status == statusPending, c.Status == statusUndoing && c.Kind == changeSysctl:
	default:
		return fmt.Errorf("%s change with unknown status %q", c.Kind, c.Status)
	}
	switch c.Kind {
	case changeSysctl:
		if _, err := sysctl.ParseKey(string(c.Key)); err != nil || strings.Contains(c.Before+c.After, "\n") {
			return fmt.Errorf("bad sysctl change %q", c.Key)
		}
		for _, e := range c.Effects {
			if _, err := sysctl.ParseKey(string(e.Key)); err != nil || strings.Contains(e.Before, "\n") {
				return fmt.Errorf("bad side effect %q", e.Key)
			}
		}
	case changeAddress:
		if _, err := netip.ParsePrefix(c.Address); err != nil {
			return fmt.Errorf("bad address %q", c.Address)
		}
		if sysctl.ValidInterfaceName(c.Link) != nil {
			return fmt.Errorf("bad link %q", c.Link)
		}
	case changeLinkUp, changeLinkCreate:
		if sysctl.ValidInterfaceName(c.Link) != nil {
			return fmt.Errorf("bad link %q", c.Link)
		}
	default:
		return fmt.Errorf("unknown change kind %q", c.Kind)
	}
	return nil
}

// store keeps the state file of one network namespace.
type store struct {
	dir         string
	ns          netnsID
	lockTimeout time.Duration
}

func (s store) path() string {
	return filepath.Join(s.dir, fmt.Sprintf("netns-%d.json", s.ns.Inode))
}

// lockPath is separate from the state file because the state file is
// replaced by rename, which would leave a lock on the old inode.
func (s store) lockPath() string {
	return filepath.Join(s.dir, fmt.Sprintf("netns-%d.lock", s.ns.Inode))
}

// errLocked means another lvsadm holds the namespace's lock.
var errLocked = errors.New("another lvsadm is changing this network namespace")

// lock takes the namespace's exclusive lock, waiting up to lockTimeout.
func (s store) lock() (release func(), err error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	f, err := os.OpenFile(s.lockPath(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock file: %w", err)
	}
	deadline := time.Now().Add(s.lockTimeout)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing drops the flock
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", s.lockPath(), err)
		}
		if !time.Now().Before(deadline) {
			f.Close()
			return nil, fmt.Errorf("%w (lock %s held for more than %s)", errLocked, s.lockPath(), s.lockTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// CorruptStateError means the state file cannot be used. Nothing was changed.
type CorruptStateError struct {
	Path   string
	Reason string
}

func (e *CorruptStateError) Error() string {
	return fmt.Sprintf("state file %s is unusable (%s); lvsadm changed nothing. "+
		"Check the values it lists by hand, then remove the file to start afresh", e.Path, e.Reason)
}

// load reads the namespace's state; a missing file is an empty state.
func (s store) load() (*state, error) {
	b, err := os.ReadFile(s.path())
	if errors.Is(err, os.ErrNotExist) {
		return &state{Version: stateVersion, NetNS: s.ns}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	var st state
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, &CorruptStateError{Path: s.path(), Reason: err.Error()}
	}
	if dec.More() {
		return nil, &CorruptStateError{Path: s.path(), Reason: "data after the JSON document"}
	}
	if err := st.validate(); err != nil {
		return nil, &CorruptStateError{Path: s.path(), Reason: err.Error()}
	}
	if !st.NetNS.sameNamespace(s.ns) {
		return nil, &CorruptStateError{Path: s.path(),
			Reason: "it was written in another network namespace or before a reboot that reused this inode number"}
	}
	return &st, nil
}

// save replaces the state file atomically (temporary file, fsync, rename,
// fsync of the directory), or removes it when no role is recorded.
func (s store) save(st *state) error {
	if len(st.Entries) == 0 {
		if err := os.Remove(s.path()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove state: %w", err)
		}
		return syncDir(s.dir)
	}
	st.Version, st.NetNS = stateVersion, s.ns
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(s.path(), append(b, '\n'), 0o600)
}

// writeFileAtomic replaces path with data so that a reader sees either the
// old or the new content, never a mix, and a crash loses neither.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
