package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/cmd/health"
	"github.com/lvsadm/lvsadm/ipvs"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

// switchable is a checker whose result the test sets.
type switchable struct{ down atomic.Bool }

func (s *switchable) Check(context.Context) health.Result {
	if s.down.Load() {
		return health.Result{Up: false, Reason: "test says down"}
	}
	return health.Result{Up: true, Reason: "test says up"}
}

// fixture is a daemon running against a fake kernel, with checkers the
// test switches per real server address.
type fixture struct {
	t        *testing.T
	k        *ipvstest.Kernel
	file     string
	checkers map[string]*switchable
	mu       sync.Mutex
	log      bytes.Buffer
	sigs     chan os.Signal
	cancel   context.CancelFunc
	done     chan error
	d        *daemon
}

func (f *fixture) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.log.Write(p)
}

func (f *fixture) logText() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.log.String()
}

const daemonYAML = `schema_version: 1
services:
  - protocol: tcp
    address: 192.0.2.10
    port: 80
    scheduler: wrr
    health_check: {type: tcp, interval: 20ms, timeout: 10ms, rise: 1, fall: 2, warmup: 1ms}
    quorum: 2
    sorry_server: {address: 198.51.100.99, port: 80, method: nat}
    real_servers:
      - {address: 198.51.100.1, port: 80, method: nat, weight: 1}
      - {address: 198.51.100.2, port: 80, method: nat, weight: 3}
`

func startDaemon(t *testing.T, yaml string, o Options) *fixture {
	t.Helper()
	return startDaemonOn(t, ipvstest.New(), yaml, o)
}

// startDaemonOn starts a daemon against the fake kernel k, with the checks
// of the real servers named in down failing from the start.
func startDaemonOn(t *testing.T, k *ipvstest.Kernel, yaml string, o Options, down ...string) *fixture {
	t.Helper()
	f := &fixture{t: t, k: k, checkers: map[string]*switchable{}, sigs: make(chan os.Signal, 1), done: make(chan error, 1)}
	f.file = filepath.Join(t.TempDir(), "lvs.yaml")
	if err := os.WriteFile(f.file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		f.checkers[a] = &switchable{}
	}
	for _, a := range down {
		f.checkers[a].down.Store(true)
	}
	o.File = f.file
	env := Env{
		Stderr:  f,
		Dial:    func() (*ipvs.Client, error) { return ipvs.NewFromConn(f.k.NetlinkConn()) },
		Signals: func() (<-chan os.Signal, func()) { return f.sigs, func() {} },
		Health: health.Config{NewChecker: func(c *desired.Check, tg health.Target) (health.Checker, error) {
			return f.checkers[tg.Addr.String()], nil
		}},
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	started := make(chan *daemon, 1)
	go func() { f.done <- run(ctx, o, env, started) }()
	select {
	case f.d = <-started:
	case err := <-f.done:
		t.Fatalf("the daemon ended: %v\n%s", err, f.logText())
	case <-time.After(10 * time.Second):
		t.Fatal("the daemon did not start")
	}
	t.Cleanup(func() {
		cancel()
		<-f.done
	})
	return f
}

// weights are the fake kernel's real servers of the service and their
// weights, "198.51.100.1=1 198.51.100.2=3".
func (f *fixture) weights() string {
	c, err := ipvs.NewFromConn(f.k.NetlinkConn())
	if err != nil {
		f.t.Fatal(err)
	}
	defer c.Close()
	dests, err := c.Destinations(ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: netipAddr("192.0.2.10"), Port: 80})
	if err != nil {
		f.t.Fatal(err)
	}
	var parts []string
	for i := len(dests) - 1; i >= 0; i-- { // the fake lists newest first
		parts = append(parts, fmt.Sprintf("%s=%d", dests[i].Addr, dests[i].Weight))
	}
	return strings.Join(parts, " ")
}

func (f *fixture) waitWeights(want string) {
	f.t.Helper()
	var got string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got = f.weights(); got == want {
			return
		}
	}
	f.t.Fatalf("weights %q, want %q\nlog:\n%s", got, want, f.logText())
}

func TestDaemonFollowsHealth(t *testing.T) {
	f := startDaemon(t, daemonYAML, Options{})
	f.waitWeights("198.51.100.1=1 198.51.100.2=3")
	changes := f.k.Changes()

	f.checkers["198.51.100.1"].down.Store(true)
	f.waitWeights("198.51.100.1=0 198.51.100.2=3")
	if n := f.k.Changes() - changes; n != 1 {
		t.Errorf("quiescing one real server took %d change requests, want 1", n)
	}
	if !strings.Contains(f.logText(), `msg=health service="-t 192.0.2.10:80" real_server=198.51.100.1:80 state=down reason="test says down after 2 tries"`) {
		t.Errorf("no log line for the state change:\n%s", f.logText())
	}
	// Both down: live weight 0 < quorum 2: the sorry server comes in.
	f.checkers["198.51.100.2"].down.Store(true)
	f.waitWeights("198.51.100.1=0 198.51.100.2=0 198.51.100.99=1")
	// One back: live 3 >= 2: the sorry server goes.
	f.checkers["198.51.100.2"].down.Store(false)
	f.waitWeights("198.51.100.1=0 198.51.100.2=3")
	f.checkers["198.51.100.1"].down.Store(false)
	f.waitWeights("198.51.100.1=1 198.51.100.2=3")
}

// TestDaemonRestartKeepsQuiescedServerDown: a daemon started on a table in
// which an earlier one quiesced a failed server does not give it its weight
// back before its check passes.
func TestDaemonRestartKeepsQuiescedServerDown(t *testing.T) {
	first := startDaemon(t, daemonYAML, Options{})
	first.checkers["198.51.100.1"].down.Store(true)
	first.waitWeights("198.51.100.1=0 198.51.100.2=3")
	first.cancel()
	if err := <-first.done; err != nil {
		t.Fatal(err)
	}
	first.done <- nil // for the cleanup

	changes := first.k.Changes()
	f := startDaemonOn(t, first.k, daemonYAML, Options{}, "198.51.100.1")
	time.Sleep(100 * time.Millisecond) // five intervals of checks
	if n := f.k.Changes() - changes; n != 0 {
		t.Errorf("the restarted daemon made %d change requests with the quiesced server still failing, want 0\n%s", n, f.logText())
	}
	f.waitWeights("198.51.100.1=0 198.51.100.2=3")
	f.checkers["198.51.100.1"].down.Store(false)
	f.waitWeights("198.51.100.1=1 198.51.100.2=3")
}

// TestDaemonReloadKeepsHealth: SIGHUP with a changed weight edits one real
// server and keeps the state of the checks that did not change.
func TestDaemonReloadKeepsHealth(t *testing.T) {
	f := startDaemon(t, daemonYAML, Options{})
	f.checkers["198.51.100.1"].down.Store(true)
	f.waitWeights("198.51.100.1=0 198.51.100.2=3")
	changes := f.k.Changes()
	if err := os.WriteFile(f.file, []byte(strings.Replace(daemonYAML, "weight: 3", "weight: 5", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	f.sigs <- syscallHUP
	f.waitWeights("198.51.100.1=0 198.51.100.2=5")
	if n := f.k.Changes() - changes; n != 1 {
		t.Errorf("the reload took %d change requests, want 1 (198.51.100.1 must stay down, not be re-added)", n)
	}
	// A file the daemon cannot read leaves it running as it was.
	if err := os.WriteFile(f.file, []byte("schema_version: 1\nservices: [{bogus: 1}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.sigs <- syscallHUP
	time.Sleep(100 * time.Millisecond)
	f.waitWeights("198.51.100.1=0 198.51.100.2=5")
	if !strings.Contains(f.logText(), "reload refused") {
		t.Errorf("no log line for the refused reload:\n%s", f.logText())
	}
}

// TestDaemonStatusAndFlush: /status shows each real server's state, and
// --flush-on-exit removes what the daemon added.
func TestDaemonStatusAndFlush(t *testing.T) {
	f := startDaemon(t, daemonYAML, Options{FlushOnExit: true})
	f.checkers["198.51.100.2"].down.Store(true)
	// Live weight 1 is below the quorum of 2: the sorry server is in.
	f.waitWeights("198.51.100.1=1 198.51.100.2=0 198.51.100.99=1")
	srv := httptest.NewServer(f.d.handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	var doc StatusDoc
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(doc.Services[0].RealServers[0].State, " ", doc.Services[0].RealServers[1].State, " ", doc.Services[0].RealServers[1].Weight, "/", doc.Services[0].RealServers[1].ConfiguredWeight)
	if got != "up down 0/3" {
		t.Errorf("status %q, want \"up down 0/3\"", got)
	}
	f.sigs <- syscallTERM
	if err := <-f.done; err != nil {
		t.Fatal(err)
	}
	f.done <- nil // for the cleanup
	c, _ := ipvs.NewFromConn(f.k.NetlinkConn())
	defer c.Close()
	if svcs, _ := c.Services(); len(svcs) != 0 {
		t.Errorf("%d services left after --flush-on-exit", len(svcs))
	}
}
