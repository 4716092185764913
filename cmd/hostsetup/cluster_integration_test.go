//go:build integration && linux

// Cluster tests: whole LVS-DR, LVS-NAT and LVS-TUN clusters built from
// network namespaces with lvsadm alone: the host setup by its director and
// realserver roles, the IPVS rules by the lvsadm binary ($LVSADM_BIN, which
// scripts/vmtest.sh sets; $LVSADM_TEST_IPVSADM overrides it, e.g. with the
// reference ipvsadm). Real servers run busybox httpd; a client fetches
// through the VIP and every answer is counted.

package hostsetup

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvsadm/lvsadm/cmd/internal/testnet"
)

const (
	requests = 8 // wrr with weights 1 and 3 over 8 connections: exactly 2 and 6
	weight1  = "1"
	weight2  = "3"
)

func ipvsadmPath(t *testing.T) string {
	if p := os.Getenv("LVSADM_TEST_IPVSADM"); p != "" {
		return p
	}
	p := os.Getenv("LVSADM_BIN")
	if p == "" {
		t.Fatal("LVSADM_BIN is not set: the cluster tests need the lvsadm binary")
	}
	return p
}

func role(t *testing.T, ns string, e env, args ...string) {
	t.Helper()
	inNS(t, ns, func() {
		out, errOut, err := lvsadm(e, args...)
		if err != nil {
			t.Fatalf("[%s] lvsadm %s: %v\n%s%s", ns, strings.Join(args, " "), err, out, errOut)
		}
	})
}

// cluster is a client, a director and two real servers (198.51.100.11 and
// .12), each namespace with its own lvsadm state.
type cluster struct {
	client, director string
	rs               [2]string
	envs             map[string]env
}

// newCluster builds the namespaces; with oneSegment everybody shares
// 198.51.100.0/24 (DR, TUN), otherwise the client and the director's eth0 are
// on 203.0.113.0/24 and the real servers behind the director's eth1 (NAT).
func newCluster(t *testing.T, oneSegment bool) *cluster {
	c := &cluster{client: testnet.NewNS(t), director: testnet.NewNS(t), rs: [2]string{testnet.NewNS(t), testnet.NewNS(t)}}
	c.envs = map[string]env{c.director: realEnv(t), c.rs[0]: realEnv(t), c.rs[1]: realEnv(t)}
	lan := testnet.NewSegment(t)
	if oneSegment {
		lan.Plug(c.client, "eth0", "198.51.100.100/24")
		lan.Plug(c.director, "eth0", "198.51.100.1/24")
	} else {
		public := testnet.NewSegment(t)
		public.Plug(c.client, "eth0", "203.0.113.100/24")
		public.Plug(c.director, "eth0", "203.0.113.1/24")
		lan.Plug(c.director, "eth1", "198.51.100.1/24")
	}
	for i, rs := range c.rs {
		lan.Plug(rs, "eth0", fmt.Sprintf("198.51.100.%d/24", 11+i))
		if !oneSegment {
			testnet.IP(t, "-n", rs, "route", "add", "default", "via", "198.51.100.1")
		}
		testnet.StartWeb(t, rs, fmt.Sprintf("rs%d", i+1))
	}
	return c
}

// serve adds a wrr service on vip:80 over both real servers with weights 1
// and 3, forwarding by method (-g, -m or -i), and checks that 8 requests from
// the client split exactly 2:6.
func (c *cluster) serve(t *testing.T, vip, method string) {
	t.Helper()
	testnet.Run(t, c.director, ipvsadmPath(t), "-A", "-t", vip+":80", "-s", "wrr")
	for i, w := range []string{weight1, weight2} {
		testnet.Run(t, c.director, ipvsadmPath(t), "-a", "-t", vip+":80", "-r", fmt.Sprintf("198.51.100.%d:80", 11+i), method, "-w", w)
	}
	got := testnet.Fetch(c.client, vip, requests)
	if diff := cmp.Diff(map[string]int{"rs1": 2, "rs2": 6}, got); diff != "" {
		t.Errorf("answers through the VIP (-want +got):\n%s\n%s", diff, testnet.Run(t, c.director, ipvsadmPath(t), "-Ln", "--stats"))
	}
}

func (c *cluster) down(t *testing.T) {
	t.Helper()
	for _, rs := range c.rs {
		role(t, rs, c.envs[rs], "realserver", "down")
	}
	role(t, c.director, c.envs[c.director], "director", "down")
}

func TestIntegrationClusterDR(t *testing.T) {
	testnet.NeedIPVS(t)
	const vip = "198.51.100.10"
	c := newCluster(t, true)
	for _, rs := range c.rs {
		role(t, rs, c.envs[rs], "realserver", "up", "--mode", "dr", "--vip", vip, "--iface", "eth0")
	}
	role(t, c.director, c.envs[c.director], "director", "up", "--mode", "dr", "--vip", vip, "--iface", "eth0")
	c.serve(t, vip, "-g")
	// Only the director may answer ARP for the VIP.
	dirMAC := strings.TrimSpace(testnet.Run(t, c.director, "cat", "/sys/class/net/eth0/address"))
	if neigh := testnet.Run(t, c.client, "ip", "neigh", "show", vip); !strings.Contains(neigh, dirMAC) {
		t.Errorf("client resolves the VIP to %q, want the director's %s", neigh, dirMAC)
	}
	c.down(t)
}

func TestIntegrationClusterNAT(t *testing.T) {
	testnet.NeedIPVS(t)
	const vip = "203.0.113.10"
	c := newCluster(t, false)
	role(t, c.director, c.envs[c.director], "director", "up", "--mode", "nat", "--vip", vip, "--iface", "eth0", "--rs-iface", "eth1")
	c.serve(t, vip, "-m")
	c.down(t)
	if fwd := strings.TrimSpace(testnet.Run(t, c.director, "cat", "/proc/sys/net/ipv4/ip_forward")); fwd != "0" {
		t.Errorf("ip_forward after down = %s, want 0", fwd)
	}
}

func TestIntegrationClusterTUN(t *testing.T) {
	testnet.NeedIPVS(t)
	if out, err := exec.Command("modprobe", "ipip").CombinedOutput(); err != nil {
		testnet.SkipOrFail(t, "ipip not available: %v %s", err, out)
	}
	const vip = "198.51.100.10"
	c := newCluster(t, true)
	for _, rs := range c.rs {
		// Strict reverse-path filtering, as many distributions ship it:
		// the real server role must cope.
		testnet.Run(t, rs, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/conf/all/rp_filter")
		role(t, rs, c.envs[rs], "realserver", "up", "--mode", "tun", "--vip", vip, "--iface", "eth0")
	}
	role(t, c.director, c.envs[c.director], "director", "up", "--mode", "tun", "--vip", vip, "--iface", "eth0")
	c.serve(t, vip, "-i")
	c.down(t)
}
