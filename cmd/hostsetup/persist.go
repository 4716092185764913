package hostsetup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/lvsadm/lvsadm/sysctl"
)

// persistHeader starts every file --persist writes; down --persist removes
// only files that start with it.
const persistHeader = "# Written by 'lvsadm "

func persistComment(role string) string {
	return fmt.Sprintf("%s%s up --persist'; 'lvsadm %s down --persist' removes this file.\n", persistHeader, role, role)
}

func (r *runner) etc(parts ...string) string {
	return filepath.Join(append([]string{r.env.root, "etc"}, parts...)...)
}

func sysctlFile(r *runner, role string) string {
	return r.etc("sysctl.d", "90-lvsadm-"+role+".conf")
}

func modulesFile(r *runner, role string) string {
	return r.etc("modules-load.d", "lvsadm-"+role+".conf")
}

// persist writes the configuration that recreates role at boot: a
// sysctl.d(5) file with the values up left in place, a modules-load.d(5)
// entry for ipip, and for each VIP a systemd-networkd [Address] section.
// Files already holding the same content are not touched.
func (r *runner) persist(role string, s settings, acts []action, h *host, dryRun bool) error {
	var sysctls bytes.Buffer
	sysctls.WriteString(persistComment(role))
	fmt.Fprintf(&sysctls, "# %s\n", describe(role, s))
	var tunnel bool
	byLink := map[string][]Address{}
	var links []string
	for _, a := range acts {
		switch a.kind {
		case actSysctl:
			v, err := h.sys.Read(a.key)
			if err != nil || !slices.Contains(a.accept, v) {
				v = a.target // dry run, or an interface that does not exist yet
			}
			name := a.key.Dotted()
			if _, iface, _, ok := a.key.Conf(); ok && iface != sysctl.All && iface != sysctl.Default {
				// The interface may not exist when systemd-sysctl runs; udev
				// applies the key again when it appears. '-' silences the
				// early failure.
				name = "-" + name
			}
			fmt.Fprintf(&sysctls, "%s = %s\n", name, v)
		case actTunnel:
			tunnel = true
		case actAddress:
			if _, ok := byLink[a.addr.Link]; !ok {
				links = append(links, a.addr.Link)
			}
			byLink[a.addr.Link] = append(byLink[a.addr.Link], a.addr)
		}
	}
	if err := r.putFile(sysctlFile(r, role), sysctls.Bytes(), dryRun); err != nil {
		return err
	}
	if tunnel {
		// systemd-sysctl runs after systemd-modules-load, so tunl0's keys
		// exist by then.
		content := persistComment(role) + "ipip\n"
		if err := r.putFile(modulesFile(r, role), []byte(content), dryRun); err != nil {
			return err
		}
	}
	for _, name := range links {
		if err := r.persistAddresses(role, name, byLink[name], h, dryRun); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) persistAddresses(role, linkName string, addrs []Address, h *host, dryRun bool) error {
	var b bytes.Buffer
	b.WriteString(persistComment(role))
	for _, a := range addrs {
		fmt.Fprintf(&b, "\n[Address]\nAddress=%s\n", a.Prefix)
		if a.Label != "" {
			fmt.Fprintf(&b, "Label=%s\n", a.Label)
		}
		if a.Prefix.Addr().Is6() && linkName != "lo" {
			b.WriteString("DuplicateAddressDetection=none\n")
		}
	}
	link, _ := h.link(linkName)
	if network := r.networkFile(link); network != "" {
		dropin := r.etc("systemd", "network", filepath.Base(network)+".d", "lvsadm-"+role+".conf")
		return r.putFile(dropin, b.Bytes(), dryRun)
	}
	if linkName == "lo" || linkName == tunnelLink {
		// Nothing configures these; a .network of our own cannot shadow
		// anyone's.
		var own bytes.Buffer
		own.WriteString(persistComment(role))
		fmt.Fprintf(&own, "\n[Match]\nName=%s\n", linkName)
		own.Write(b.Bytes()[len(persistComment(role)):])
		return r.putFile(r.etc("systemd", "network", "90-lvsadm-"+role+"-"+linkName+".network"), own.Bytes(), dryRun)
	}
	r.warnf("%s is not managed by systemd-networkd, so the VIP is not persisted; add to its configuration:\n%s",
		linkName, b.String())
	return nil
}

// networkFile asks systemd-networkd's runtime state which .network file
// configures link; "" if none does (or networkd is not running).
func (r *runner) networkFile(link Link) string {
	if link.Index == 0 {
		return ""
	}
	f, err := os.Open(filepath.Join(r.env.root, "run", "systemd", "netif", "links", strconv.Itoa(link.Index)))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "NETWORK_FILE="); ok {
			return v
		}
	}
	return ""
}

// putFile writes content to path atomically unless it already holds it.
func (r *runner) putFile(path string, content []byte, dryRun bool) error {
	old, err := os.ReadFile(path)
	if err == nil && bytes.Equal(old, content) {
		r.printf("keep %s\n", path)
		return nil
	}
	if err == nil && !bytes.HasPrefix(old, []byte(persistHeader)) {
		return fmt.Errorf("%s exists and was not written by lvsadm; not replacing it", path)
	}
	if dryRun {
		r.printf("write %s:\n%s", path, content)
		return nil
	}
	if err := writeFileAtomic(path, content, 0o644); err != nil {
		return fmt.Errorf("persist: %w", err)
	}
	r.printf("write %s\n", path)
	return nil
}

// persisted lists the files --persist wrote for role.
func (r *runner) persisted(role string) []string {
	candidates := []string{sysctlFile(r, role), modulesFile(r, role)}
	for _, pattern := range []string{
		r.etc("systemd", "network", "*.d", "lvsadm-"+role+".conf"),
		r.etc("systemd", "network", "90-lvsadm-"+role+"-*.network"),
	} {
		m, _ := filepath.Glob(pattern)
		candidates = append(candidates, m...)
	}
	var ours []string
	for _, p := range candidates {
		b, err := os.ReadFile(p)
		if err == nil && bytes.HasPrefix(b, []byte(persistHeader)) {
			ours = append(ours, p)
		}
	}
	return ours
}

// unpersist removes the files --persist wrote for role. The running system
// is not affected.
func (r *runner) unpersist(role string, dryRun bool) error {
	for _, p := range r.persisted(role) {
		r.printf("rm %s\n", p)
		if dryRun {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

func (r *runner) notePersisted(role string) error {
	if files := r.persisted(role); len(files) > 0 {
		r.printf("persisted configuration stays (boot will apply it again): %s; 'lvsadm %s down --persist' removes it\n",
			strings.Join(files, " "), role)
	}
	return nil
}
