package hostsetup

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// store keeps the state file of one network namespace.
type store struct {
	dir         string
	ns          netnsID
	lockTimeout time.Duration
	// owner may own the directory and files besides root: the effective
	// uid (tests run unprivileged).
	owner int
	now   func() time.Time
	warn  func(format string, args ...any)
}

func (s store) warnf(format string, args ...any) {
	if s.warn != nil {
		s.warn(format, args...)
	}
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

// ownerName says who may own the state: "root", or "root or uid N".
func (s store) ownerName() string {
	if s.owner == 0 {
		return "root"
	}
	return fmt.Sprintf("root or uid %d", s.owner)
}

func (s store) trustedOwner(info os.FileInfo) (uint32, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Uid, st.Uid == 0 || int(st.Uid) == s.owner
}

// checkDir refuses a state directory that someone else could have put in
// place or could write: it must be a real directory owned by root (or by
// the effective uid) that group and others cannot write. exists is false if
// there is none yet.
func (s store) checkDir() (exists bool, err error) {
	info, err := os.Lstat(s.dir)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("state directory: %w", err)
	}
	switch {
	case info.Mode()&os.ModeSymlink != 0:
		return true, fmt.Errorf("state directory %s is a symbolic link: lvsadm keeps its records only in a real directory; "+
			"remove the link (rm %s) and run the command again", s.dir, s.dir)
	case !info.IsDir():
		return true, fmt.Errorf("state directory %s is not a directory; remove it (rm %s) and run the command again", s.dir, s.dir)
	}
	if uid, ok := s.trustedOwner(info); !ok {
		return true, fmt.Errorf("state directory %s belongs to uid %d, not %s, so that user could change what down restores; "+
			"run 'chown root %s' and run the command again", s.dir, uid, s.ownerName(), s.dir)
	}
	if perm := info.Mode().Perm(); perm&0o022 != 0 {
		return true, fmt.Errorf("state directory %s is writable by group or others (mode %04o), so another user could change "+
			"what down restores; run 'chmod go-w %s' and run the command again", s.dir, perm, s.dir)
	}
	return true, nil
}

// openFile opens a file of the state directory without following a
// symbolic link, and refuses anything but a regular file of a trusted owner.
func (s store) openFile(what, path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("%s %s is a symbolic link: lvsadm does not follow links there; "+
			"remove it (rm %s) and run the command again", what, path, path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s %s is not a regular file; remove it (rm %s) and run the command again", what, path, path)
	}
	if uid, ok := s.trustedOwner(info); !ok {
		f.Close()
		return nil, fmt.Errorf("%s %s belongs to uid %d, not %s; remove it (rm %s) and run the command again",
			what, path, uid, s.ownerName(), path)
	}
	return f, nil
}

// lock makes the state directory if needed and takes the namespace's
// exclusive lock, waiting up to lockTimeout.
func (s store) lock() (release func(), err error) {
	exists, err := s.checkDir()
	if err != nil {
		return nil, err
	}
	if !exists {
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
		if _, err := s.checkDir(); err != nil {
			return nil, err
		}
	}
	f, err := s.openFile("lock file", s.lockPath(), os.O_RDWR|os.O_CREATE)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(s.lockTimeout)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			s.removeLeftovers()
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

// removeLeftovers removes the temporary files of saves that were killed
// before their rename: only the lock holder saves, so none is in use.
func (s store) removeLeftovers() {
	leftovers, _ := filepath.Glob(filepath.Join(s.dir, "."+filepath.Base(s.path())+".tmp-*"))
	for _, p := range leftovers {
		os.Remove(p)
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

// load reads the namespace's state; a missing file is an empty state. A
// file written in a namespace that no longer exists (its inode number
// reused) or before the last boot is stale: with locked set (the caller
// holds the lock) it is moved aside, otherwise ignored, with a warning
// either way.
func (s store) load(locked bool) (*state, error) {
	empty := &state{Version: stateVersion, NetNS: s.ns}
	exists, err := s.checkDir()
	if err != nil {
		return nil, err
	}
	if !exists {
		return empty, nil
	}
	f, err := s.openFile("state file", s.path(), os.O_RDONLY)
	if errors.Is(err, os.ErrNotExist) {
		return empty, nil
	}
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	// The namespace first, leniently: a stale file may come from another
	// version of lvsadm.
	var head struct {
		NetNS netnsID `json:"netns"`
	}
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&head); err != nil {
		return nil, &CorruptStateError{Path: s.path(), Reason: err.Error()}
	}
	if head.NetNS.Inode != s.ns.Inode {
		return nil, &CorruptStateError{Path: s.path(),
			Reason: fmt.Sprintf("it records network namespace inode %d, but is named for %d", head.NetNS.Inode, s.ns.Inode)}
	}
	if why := head.NetNS.StaleReason(s.ns); why != "" {
		if !locked {
			s.warnf("state file %s %s; ignoring it (the next up or down moves it aside)", s.path(), why)
			return empty, nil
		}
		to, err := s.moveAside()
		if err != nil {
			return nil, fmt.Errorf("state file %s %s, and moving it aside failed: %w", s.path(), why, err)
		}
		s.warnf("state file %s %s; moved it to %s, and lvsadm starts afresh here", s.path(), why, to)
		return empty, nil
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
	if st.NetNS.Cookie == 0 || s.ns.Cookie == 0 {
		var records []string
		for _, e := range st.Entries {
			records = append(records, fmt.Sprintf("%s up since %s", e.Role, e.Since.UTC().Format("2006-01-02 15:04:05 MST")))
		}
		s.warnf("cannot tell whether state file %s belongs to this network namespace: this kernel has no namespace cookies "+
			"(Linux before 5.14), and inode number %d is reused once a namespace is gone. It records: %s. If that was not done "+
			"in this namespace, the file is left over from one that no longer exists: move it away (mv %s %s.old) and run "+
			"the command again", s.path(), s.ns.Inode, strings.Join(records, ", "), s.path(), s.path())
	}
	return &st, nil
}

// moveAside renames the state file to a .stale-TIME name that is not taken,
// keeping it for the administrator.
func (s store) moveAside() (string, error) {
	base := s.path() + ".stale-" + s.now().UTC().Format("20060102T150405Z")
	to := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(to); errors.Is(err, os.ErrNotExist) {
			break
		}
		to = fmt.Sprintf("%s.%d", base, i)
	}
	if err := os.Rename(s.path(), to); err != nil {
		return "", err
	}
	return to, syncDir(s.dir)
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
// old or the new content, never a mix, and a crash loses neither. The
// temporary file is created with O_EXCL under a random name, and rename
// replaces a link at path instead of following it.
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
