package health

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/ipvs"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// check returns a defaulted check of type typ, as the daemon gets it.
func check(typ desired.CheckType) *desired.Check {
	return &desired.Check{
		Type: typ, Interval: time.Second, Timeout: 2 * time.Second, RetryInterval: time.Second,
		Rise: 2, Fall: 3, Warmup: time.Second,
		Method: "GET", Path: "/", Status: []desired.StatusRange{{Min: 200, Max: 299}},
		DynamicWeight: true, OnFailure: desired.OnFailureQuiesce, InitialUp: true,
	}
}

// targetOf is a target at a listener's address.
func targetOf(t *testing.T, addr string) Target {
	t.Helper()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return Target{Addr: ap.Addr(), Port: ap.Port(), VIP: netip.MustParseAddr("192.0.2.10"), VPort: 80}
}

// runCheck makes and runs a checker once.
func runCheck(t *testing.T, c *desired.Check, tg Target, opts Options) Result {
	t.Helper()
	ch, err := NewChecker(c, tg, opts)
	if err != nil {
		t.Fatalf("NewChecker: %v", err)
	}
	return ch.Check(context.Background())
}

func wantResult(t *testing.T, got, want Result) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("result (-want +got):\n%s", d)
	}
}

// listen starts a TCP listener on loopback that accepts and closes, until
// the test ends.
func listen(t *testing.T) netip.AddrPort {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go acceptAndClose(l)
	return netip.MustParseAddrPort(l.Addr().String())
}

// acceptAndClose closes every connection l accepts, until l is closed.
func acceptAndClose(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

// closedPort returns a local TCP or UDP address where nothing listens.
func closedPort(t *testing.T, network string) string {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := c.LocalAddr().String()
		c.Close()
		return addr
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// blackhole returns a local TCP address whose accept queue is full, so that
// the kernel drops new SYNs and a connect hangs.
func blackhole(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)
	// Fill the queue: connections that complete are never accepted.
	for i := 0; i < 8; i++ {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
	}
	return addr
}

func TestTCP(t *testing.T) {
	lp := listen(t)
	c := check(desired.CheckTCP)
	c.Timeout = 300 * time.Millisecond
	tests := []struct {
		name   string
		target string
		want   Result
	}{
		{"listening", lp.String(), Result{Up: true, Reason: "tcp connect ok"}},
		{"refused", closedPort(t, "tcp"), Result{Reason: "tcp connect refused"}},
		{"blackhole", blackhole(t), Result{Reason: "tcp connect timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			wantResult(t, runCheck(t, c, targetOf(t, tt.target), Options{}), tt.want)
			if el := time.Since(start); el > c.Timeout+time.Second {
				t.Errorf("took %v with a timeout of %v", el, c.Timeout)
			}
		})
	}
}

func TestConnectTo(t *testing.T) {
	lp := targetOf(t, listen(t).String())
	closed := targetOf(t, closedPort(t, "tcp"))

	// Only the port: the real server's address, the listener's port.
	c := check(desired.CheckTCP)
	c.ConnectPort = lp.Port
	wantResult(t, runCheck(t, c, closed, Options{}), Result{Up: true, Reason: "tcp connect ok"})

	// Only the address: a real server that is never dialed.
	c = check(desired.CheckTCP)
	c.ConnectAddr = loopback
	wantResult(t, runCheck(t, c, Target{Addr: netip.MustParseAddr("192.0.2.1"), Port: lp.Port}, Options{}),
		Result{Up: true, Reason: "tcp connect ok"})

	// Both.
	c.ConnectPort = closed.Port
	wantResult(t, runCheck(t, c, Target{Addr: netip.MustParseAddr("192.0.2.1"), Port: lp.Port}, Options{}),
		Result{Reason: "tcp connect refused"})
}

func TestViaVIP(t *testing.T) {
	c := check(desired.CheckTCP)
	c.ViaVIP = true
	tg := Target{Addr: netip.MustParseAddr("198.51.100.1"), Port: 8080, VIP: netip.MustParseAddr("192.0.2.10"), VPort: 80, Forward: ipvs.Route}
	if _, err := NewChecker(c, tg, Options{}); !errors.Is(err, ErrViaVIP) {
		t.Fatalf("NewChecker with via_vip and no dial hook: %v, want ErrViaVIP", err)
	}

	// The hook is given the service's address with the check's port, and
	// the target, and makes the connection.
	lp := listen(t)
	type call struct {
		Network string
		VIP     netip.AddrPort
		Target  Target
	}
	var calls []call
	dial := func(ctx context.Context, network string, vip netip.AddrPort, t Target) (net.Conn, error) {
		calls = append(calls, call{network, vip, t})
		var d net.Dialer
		return d.DialContext(ctx, network, lp.String())
	}
	wantResult(t, runCheck(t, c, tg, Options{ViaVIPDial: dial}), Result{Up: true, Reason: "tcp connect ok"})
	// connect_to's port replaces the service's.
	c.ConnectPort = 8443
	wantResult(t, runCheck(t, c, tg, Options{ViaVIPDial: dial}), Result{Up: true, Reason: "tcp connect ok"})
	// A service of every port: the real server's port.
	c.ConnectPort = 0
	all := tg
	all.VPort = 0
	wantResult(t, runCheck(t, c, all, Options{ViaVIPDial: dial}), Result{Up: true, Reason: "tcp connect ok"})
	want := []call{
		{"tcp", netip.MustParseAddrPort("192.0.2.10:80"), tg},
		{"tcp", netip.MustParseAddrPort("192.0.2.10:8443"), tg},
		{"tcp", netip.MustParseAddrPort("192.0.2.10:8080"), all},
	}
	if d := cmp.Diff(want, calls, cmpNetip); d != "" {
		t.Errorf("dial hook calls (-want +got):\n%s", d)
	}

	for _, bad := range []struct {
		name   string
		modify func(*desired.Check, *Target)
		want   string
	}{
		{"exec", func(c *desired.Check, _ *Target) { c.Type, c.Command = desired.CheckExec, []string{"true"} }, "via_vip applies to tcp, http, https and udp checks, not exec"},
		{"masq", func(_ *desired.Check, t *Target) { t.Forward = ipvs.Masquerade }, "via_vip needs a real server with direct routing or a tunnel (-g or -i); 198.51.100.1 forwards by Masq"},
		{"connect_to address", func(c *desired.Check, _ *Target) { c.ConnectAddr = netip.MustParseAddr("198.51.100.2") }, "via_vip sends the check to the service's address: connect_to may give a port, not an address"},
		{"fwmark", func(_ *desired.Check, t *Target) { t.VIP = netip.Addr{} }, "via_vip needs the service's address (not a firewall-mark service)"},
	} {
		c, tg := check(desired.CheckTCP), tg
		c.ViaVIP = true
		bad.modify(c, &tg)
		if _, err := NewChecker(c, tg, Options{ViaVIPDial: dial}); err == nil || err.Error() != bad.want {
			t.Errorf("%s: NewChecker: %v, want %q", bad.name, err, bad.want)
		}
	}
}

func TestNewCheckerErrors(t *testing.T) {
	tg := Target{Addr: netip.MustParseAddr("198.51.100.1"), Port: 80}
	tests := []struct {
		name   string
		modify func(c *desired.Check)
		target Target
		want   string
	}{
		{"unknown type", func(c *desired.Check) { c.Type = "icmp" }, tg, `unknown check type "icmp"`},
		{"negative interval", func(c *desired.Check) { c.Interval = -time.Second }, tg, "tcp check: negative interval -1s"},
		{"negative timeout", func(c *desired.Check) { c.Timeout = -1 }, tg, "tcp check: negative timeout -1ns"},
		{"negative fall", func(c *desired.Check) { c.Fall = -1 }, tg, "tcp check: negative rise or fall"},
		{"no port", func(*desired.Check) {}, Target{Addr: tg.Addr}, "tcp check of 198.51.100.1: no port to check (set connect_to's port)"},
		{"no address", func(*desired.Check) {}, Target{Port: 80}, "tcp check: no address to check"},
		{"path", func(c *desired.Check) { c.Type, c.Path = desired.CheckHTTP, "healthz" }, tg, `http check: path "healthz" does not start with /`},
		{"method", func(c *desired.Check) { c.Type, c.Method = desired.CheckHTTP, "GET /" }, tg, `http check: net/http: invalid method "GET /"`},
		{"no command", func(c *desired.Check) { c.Type = desired.CheckExec }, tg, "exec check: no command"},
		{"via_vip of a fwmark service", func(c *desired.Check) { c.ViaVIP = true }, tg, "via_vip needs the service's address (not a firewall-mark service)"},
	}
	dial := func(context.Context, string, netip.AddrPort, Target) (net.Conn, error) { return nil, nil }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := check(desired.CheckTCP)
			tt.modify(c)
			_, err := NewChecker(c, tt.target, Options{ViaVIPDial: dial})
			if err == nil || err.Error() != tt.want {
				t.Errorf("NewChecker: %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := NewChecker(nil, tg, Options{}); err == nil {
		t.Error("NewChecker(nil): no error")
	}
}

func TestNone(t *testing.T) {
	wantResult(t, runCheck(t, check(desired.CheckNone), Target{}, Options{}), Result{Up: true, Reason: "none"})
}

// httpRequest is what an HTTP test server saw of a request.
type httpRequest struct {
	Method, Path, Host, UserAgent, Connection, SNI string
	Proto                                          int
}

// httpServer answers with status and body and records each request.
type httpServer struct {
	*httptest.Server
	mu       sync.Mutex
	reqs     []httpRequest
	status   int
	body     string
	delay    time.Duration
	newConns int
}

func newHTTPServer(t *testing.T, tlsServer bool) *httpServer {
	s := &httpServer{status: 200, body: "ok\n"}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		req := httpRequest{Method: r.Method, Path: r.URL.RequestURI(), Host: r.Host, UserAgent: r.UserAgent(),
			Connection: r.Header.Get("Connection"), Proto: r.ProtoMajor}
		if r.TLS != nil {
			req.SNI = r.TLS.ServerName
		}
		s.reqs = append(s.reqs, req)
		status, body, delay := s.status, s.body, s.delay
		s.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		if status/100 == 3 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.mu.Lock()
			s.newConns++
			s.mu.Unlock()
		}
	}
	if tlsServer {
		s.EnableHTTP2 = true
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func (s *httpServer) set(status int, body string) {
	s.mu.Lock()
	s.status, s.body = status, body
	s.mu.Unlock()
}

func (s *httpServer) requests() []httpRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.reqs
	s.reqs = nil
	return r
}

func TestHTTP(t *testing.T) {
	srv := newHTTPServer(t, false)
	tg := targetOf(t, srv.Listener.Addr().String())
	hostport := srv.Listener.Addr().String()
	tests := []struct {
		name   string
		modify func(c *desired.Check)
		status int
		body   string
		want   Result
		req    httpRequest
	}{
		{"defaults", func(*desired.Check) {}, 200, "ok",
			Result{Up: true, Reason: "http 200"},
			httpRequest{Method: "GET", Path: "/", Host: hostport, UserAgent: "lvsadm-health", Connection: "close", Proto: 1}},
		{"503", func(*desired.Check) {}, 503, "",
			Result{Reason: "http 503"},
			httpRequest{Method: "GET", Path: "/", Host: hostport, UserAgent: "lvsadm-health", Connection: "close", Proto: 1}},
		{"method path host", func(c *desired.Check) {
			c.Method, c.Path, c.Host = "HEAD", "/healthz?full=1", "www.example.com"
		}, 204, "",
			Result{Up: true, Reason: "http 204"},
			httpRequest{Method: "HEAD", Path: "/healthz?full=1", Host: "www.example.com", UserAgent: "lvsadm-health", Connection: "close", Proto: 1}},
		{"status list", func(c *desired.Check) {
			c.Status = []desired.StatusRange{{Min: 200, Max: 200}, {Min: 300, Max: 399}}
		}, 302, "",
			Result{Up: true, Reason: "http 302"},
			httpRequest{Method: "GET", Path: "/", Host: hostport, UserAgent: "lvsadm-health", Connection: "close", Proto: 1}},
		{"redirect not followed", func(*desired.Check) {}, 302, "",
			Result{Reason: "http 302"},
			httpRequest{Method: "GET", Path: "/", Host: hostport, UserAgent: "lvsadm-health", Connection: "close", Proto: 1}},
		{"status not in list", func(c *desired.Check) {
			c.Status = []desired.StatusRange{{Min: 200, Max: 200}, {Min: 300, Max: 399}}
		}, 201, "",
			Result{Reason: "http 201"},
			httpRequest{Method: "GET", Path: "/", Host: hostport, UserAgent: "lvsadm-health", Connection: "close", Proto: 1}},
		{"body matches", func(c *desired.Check) { c.Body = regexp.MustCompile("ok|ready") }, 200, "all ready\n",
			Result{Up: true, Reason: "http 200"},
			httpRequest{Method: "GET", Path: "/", Host: hostport, UserAgent: "lvsadm-health", Connection: "close", Proto: 1}},
		{"body mismatch", func(c *desired.Check) { c.Body = regexp.MustCompile("^ok") }, 200, "not ok\n",
			Result{Reason: "http 200 body mismatch"},
			httpRequest{Method: "GET", Path: "/", Host: hostport, UserAgent: "lvsadm-health", Connection: "close", Proto: 1}},
		{"body beyond 64 KiB unseen", func(c *desired.Check) { c.Body = regexp.MustCompile("marker") }, 200, strings.Repeat("x", 64<<10) + "marker",
			Result{Reason: "http 200 body mismatch"},
			httpRequest{Method: "GET", Path: "/", Host: hostport, UserAgent: "lvsadm-health", Connection: "close", Proto: 1}},
		{"body within 64 KiB", func(c *desired.Check) { c.Body = regexp.MustCompile("marker") }, 200, strings.Repeat("x", 64<<10-6) + "marker",
			Result{Up: true, Reason: "http 200"},
			httpRequest{Method: "GET", Path: "/", Host: hostport, UserAgent: "lvsadm-health", Connection: "close", Proto: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := check(desired.CheckHTTP)
			tt.modify(c)
			srv.set(tt.status, tt.body)
			wantResult(t, runCheck(t, c, tg, Options{}), tt.want)
			if d := cmp.Diff([]httpRequest{tt.req}, srv.requests()); d != "" {
				t.Errorf("requests (-want +got):\n%s", d)
			}
		})
	}
}

func TestHTTPConnections(t *testing.T) {
	srv := newHTTPServer(t, false)
	ch, err := NewChecker(check(desired.CheckHTTP), targetOf(t, srv.Listener.Addr().String()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// No proxy, even one from the environment.
	if p := ch.(*httpChecker).client.Transport.(*http.Transport).Proxy; p != nil {
		t.Error("the transport has a proxy function")
	}
	// A new connection for each check.
	for i := 0; i < 3; i++ {
		wantResult(t, ch.Check(context.Background()), Result{Up: true, Reason: "http 200"})
	}
	srv.mu.Lock()
	n := srv.newConns
	srv.mu.Unlock()
	if n != 3 {
		t.Errorf("3 checks made %d connections", n)
	}
}

func TestHTTPFailures(t *testing.T) {
	srv := newHTTPServer(t, false)
	srv.delay = 5 * time.Second
	c := check(desired.CheckHTTP)
	c.Timeout = 300 * time.Millisecond
	start := time.Now()
	wantResult(t, runCheck(t, c, targetOf(t, srv.Listener.Addr().String()), Options{}), Result{Reason: "http timeout"})
	if el := time.Since(start); el > time.Second {
		t.Errorf("a check with a timeout of 300ms took %v", el)
	}
	wantResult(t, runCheck(t, c, targetOf(t, closedPort(t, "tcp")), Options{}), Result{Reason: "http connect refused"})
	wantResult(t, runCheck(t, c, targetOf(t, blackhole(t)), Options{}), Result{Reason: "http timeout"})

	// A plain HTTP check of an HTTPS server is a 400 from Go's server;
	// an HTTPS check of a plain HTTP server gets no TLS answer.
	tlsSrv := newHTTPServer(t, true)
	wantResult(t, runCheck(t, c, targetOf(t, tlsSrv.Listener.Addr().String()), Options{}), Result{Reason: "http 400"})
	c.Type = desired.CheckHTTPS
	wantResult(t, runCheck(t, c, targetOf(t, srv.Listener.Addr().String()), Options{}), Result{Reason: "https server gave HTTP response to HTTPS client"})
}

func TestHTTPS(t *testing.T) {
	srv := newHTTPServer(t, true)
	tg := targetOf(t, srv.Listener.Addr().String())
	hostport := srv.Listener.Addr().String()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate()) // valid for example.com and 127.0.0.1
	tests := []struct {
		name   string
		modify func(c *desired.Check)
		roots  *x509.CertPool
		want   Result
		req    []httpRequest
	}{
		{"verify off", func(*desired.Check) {}, nil,
			Result{Up: true, Reason: "https 200"},
			[]httpRequest{{Method: "GET", Path: "/", Host: hostport, UserAgent: "lvsadm-health", Connection: "close", Proto: 1}}},
		{"verify off, sni", func(c *desired.Check) { c.SNI = "www.example.com" }, nil,
			Result{Up: true, Reason: "https 200"},
			[]httpRequest{{Method: "GET", Path: "/", Host: hostport, UserAgent: "lvsadm-health", Connection: "close", Proto: 1, SNI: "www.example.com"}}},
		{"sni from host", func(c *desired.Check) { c.Host = "www.example.com:8443" }, nil,
			Result{Up: true, Reason: "https 200"},
			[]httpRequest{{Method: "GET", Path: "/", Host: "www.example.com:8443", UserAgent: "lvsadm-health", Connection: "close", Proto: 1, SNI: "www.example.com"}}},
		{"verify, unknown authority", func(c *desired.Check) { c.Verify = true }, nil,
			Result{Reason: "https certificate signed by unknown authority"}, nil},
		{"verify, address", func(c *desired.Check) { c.Verify = true }, roots,
			Result{Up: true, Reason: "https 200"},
			[]httpRequest{{Method: "GET", Path: "/", Host: hostport, UserAgent: "lvsadm-health", Connection: "close", Proto: 1}}},
		{"verify, name", func(c *desired.Check) { c.Verify, c.SNI = true, "example.com" }, roots,
			Result{Up: true, Reason: "https 200"},
			[]httpRequest{{Method: "GET", Path: "/", Host: hostport, UserAgent: "lvsadm-health", Connection: "close", Proto: 1, SNI: "example.com"}}},
		{"verify, wrong name", func(c *desired.Check) { c.Verify, c.SNI = true, "www.example.org" }, roots,
			Result{Reason: "https certificate name mismatch: x509: certificate is valid for example.com, *.example.com, not www.example.org"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := check(desired.CheckHTTPS)
			tt.modify(c)
			wantResult(t, runCheck(t, c, tg, Options{RootCAs: tt.roots}), tt.want)
			if d := cmp.Diff(tt.req, srv.requests()); d != "" {
				t.Errorf("requests (-want +got):\n%s", d)
			}
		})
	}
}

// udpServer answers each datagram with answer(payload), or not at all if
// that is nil.
func udpServer(t *testing.T, answer func([]byte) []byte) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if a := answer(buf[:n]); a != nil {
				pc.WriteTo(a, from)
			}
		}
	}()
	return pc.LocalAddr().String()
}

func TestUDP(t *testing.T) {
	echo := udpServer(t, func(b []byte) []byte { return append([]byte("pong "), b...) })
	silent := udpServer(t, func([]byte) []byte { return nil })
	closed := closedPort(t, "udp")
	tests := []struct {
		name   string
		target string
		expect string
		want   Result
	}{
		{"answer", echo, "", Result{Up: true, Reason: "udp answer"}},
		{"answer matches", echo, "^pong ping", Result{Up: true, Reason: "udp answer"}},
		{"answer mismatch", echo, "^ok", Result{Reason: "udp answer mismatch"}},
		{"silence", silent, "", Result{Up: true, Reason: "udp no answer"}},
		{"silence, answer expected", silent, "^pong", Result{Reason: "udp no answer"}},
		{"refused", closed, "", Result{Reason: "udp port unreachable"}},
		{"refused, answer expected", closed, "^pong", Result{Reason: "udp port unreachable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := check(desired.CheckUDP)
			c.Timeout = 300 * time.Millisecond
			c.Send = []byte("ping\n")
			if tt.expect != "" {
				c.Expect = regexp.MustCompile(tt.expect)
			}
			wantResult(t, runCheck(t, c, targetOf(t, tt.target), Options{}), tt.want)
		})
	}
}

func TestExec(t *testing.T) {
	dir := t.TempDir()
	script := func(name string) string {
		p, err := filepath.Abs(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		command []string
		dynamic bool
		want    Result
	}{
		{"exit 0", []string{script("exit.sh"), "0"}, true, Result{Up: true, Reason: "exec exit 0"}},
		{"exit 1", []string{script("exit.sh"), "1"}, true, Result{Reason: "exec exit 1"}},
		{"exit 2: weight 0", []string{script("exit.sh"), "2"}, true, Result{Up: true, Weighted: true, Weight: 0, Reason: "exec exit 2 (weight 0)"}},
		{"exit 7: weight 5", []string{script("exit.sh"), "7"}, true, Result{Up: true, Weighted: true, Weight: 5, Reason: "exec exit 7 (weight 5)"}},
		{"exit 255: weight 253", []string{script("exit.sh"), "255"}, true, Result{Up: true, Weighted: true, Weight: 253, Reason: "exec exit 255 (weight 253)"}},
		{"exit 7 without dynamic weight", []string{script("exit.sh"), "7"}, false, Result{Reason: "exec exit 7"}},
		{"exit 0 without dynamic weight", []string{script("exit.sh"), "0"}, false, Result{Up: true, Reason: "exec exit 0"}},
		{"signal", []string{script("signal.sh")}, true, Result{Reason: "exec signal: killed"}},
		{"missing", []string{filepath.Join(dir, "missing")}, true, Result{Reason: "exec " + filepath.Join(dir, "missing") + ": no such file or directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := check(desired.CheckExec)
			c.Command, c.DynamicWeight = tt.command, tt.dynamic
			wantResult(t, runCheck(t, c, Target{Addr: loopback, Port: 80}, Options{}), tt.want)
		})
	}
}

func TestExecEnvironment(t *testing.T) {
	out := filepath.Join(t.TempDir(), "env")
	c := check(desired.CheckExec)
	c.Command = []string{"testdata/env.sh", out}
	tg := Target{Addr: netip.MustParseAddr("198.51.100.1"), Port: 8080, VIP: netip.MustParseAddr("2001:db8::10"), VPort: 80}
	wantResult(t, runCheck(t, c, tg, Options{}), Result{Up: true, Reason: "exec exit 0"})
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "198.51.100.1\n8080\n2001:db8::10\n80\n"; string(b) != want {
		t.Errorf("environment %q, want %q", b, want)
	}

	// connect_to changes the address and port the command is given; a
	// firewall-mark service has no VIP.
	c.ConnectAddr, c.ConnectPort = netip.MustParseAddr("203.0.113.5"), 9000
	wantResult(t, runCheck(t, c, Target{Addr: tg.Addr, Port: 0}, Options{}), Result{Up: true, Reason: "exec exit 0"})
	b, err = os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "203.0.113.5\n9000\n\n0\n"; string(b) != want {
		t.Errorf("environment %q, want %q", b, want)
	}
}

// alive reports whether process pid exists (and is not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func TestExecTimeoutKillsGroup(t *testing.T) {
	pids := filepath.Join(t.TempDir(), "pids")
	c := check(desired.CheckExec)
	c.Timeout = 500 * time.Millisecond
	c.Command = []string{"testdata/hang.sh", pids}
	start := time.Now()
	wantResult(t, runCheck(t, c, Target{Addr: loopback, Port: 80}, Options{}), Result{Reason: "exec timeout"})
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("a check with a timeout of 500ms took %v", el)
	}
	b, err := os.ReadFile(pids)
	if err != nil {
		t.Fatalf("the script did not start: %v", err)
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		t.Fatalf("pids file %q", b)
	}
	// The child, in the same process group, is killed too (it is
	// reparented and reaped by init, so wait for it to go).
	for _, s := range f {
		pid, _ := strconv.Atoi(s)
		deadline := time.Now().Add(2 * time.Second)
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("process %d still runs after the timeout", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// The certificate errors come from crypto/x509 and crypto/tls; make sure
// the types describe looks for are the ones they use.
func TestDescribe(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		err  error
		want string
	}{
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, "refused"},
		{&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, "reset"},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.EHOSTUNREACH)}, "host unreachable"},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}, "network unreachable"},
		{context.DeadlineExceeded, "timeout"},
		{&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, "certificate signed by unknown authority"},
		{errors.New("something else"), "something else"},
	}
	for _, tt := range tests {
		if got := describe(ctx, tt.err); got != tt.want {
			t.Errorf("describe(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
