package health

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/lvsadm/lvsadm/cmd/desired"
)

// httpChecker sends one request on a new connection and checks the status
// and, if asked, the beginning of the body.
type httpChecker struct {
	scheme string // "http" or "https", the first word of reasons
	method string
	url    string
	host   string // Host header; "" for the URL's
	status []desired.StatusRange
	body   *regexp.Regexp
	d      dialer
	client *http.Client
}

func newHTTPChecker(c *desired.Check, dst netip.AddrPort, d dialer, opts Options) (*httpChecker, error) {
	scheme := string(c.Type)
	path := c.Path
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("%s check: path %q does not start with /", scheme, path)
	}
	u := scheme + "://" + dst.String() + path
	if _, err := url.ParseRequestURI(u); err != nil {
		return nil, fmt.Errorf("%s check: path %q: %v", scheme, path, err)
	}
	method := c.Method
	if method == "" {
		method = http.MethodGet
	}
	status := c.Status
	if len(status) == 0 {
		status = []desired.StatusRange{{Min: 200, Max: 299}}
	}
	h := &httpChecker{scheme: scheme, method: method, url: u, host: c.Host, status: status, body: c.Body, d: d}
	// Make sure the request can be built (a method with a space cannot).
	if _, err := h.request(context.Background()); err != nil {
		return nil, fmt.Errorf("%s check: %v", scheme, err)
	}

	tr := &http.Transport{
		Proxy:                  nil, // never a proxy from the environment
		DialContext:            func(ctx context.Context, network, _ string) (net.Conn, error) { return h.d.dial(ctx, network) },
		DisableKeepAlives:      true,
		DisableCompression:     true,
		MaxResponseHeaderBytes: bodyLimit,
		// HTTP/1.1 only: an empty map turns HTTP/2 off.
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	if c.Type == desired.CheckHTTPS {
		sni := c.SNI
		if sni == "" {
			sni = c.Host
		}
		if host, _, err := net.SplitHostPort(sni); err == nil {
			sni = host
		}
		if sni == "" {
			sni = dst.Addr().String()
		}
		tr.TLSClientConfig = &tls.Config{
			ServerName:         sni,
			InsecureSkipVerify: !c.Verify,
			RootCAs:            opts.RootCAs,
		}
	}
	h.client = &http.Client{
		Transport: tr,
		// A redirect is an answer like any other: its status is checked.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return h, nil
}

func (h *httpChecker) request(ctx context.Context) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, h.method, h.url, nil)
	if err != nil {
		return nil, err
	}
	if h.host != "" {
		req.Host = h.host
	}
	req.Header.Set("User-Agent", "lvsadm-health")
	return req, nil
}

func (h *httpChecker) Check(ctx context.Context) Result {
	ctx, cancel := context.WithTimeout(ctx, h.d.timeout)
	defer cancel()
	req, err := h.request(ctx)
	if err != nil {
		return Result{Reason: h.scheme + " " + err.Error()}
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return Result{Reason: h.scheme + " " + h.describe(ctx, err)}
	}
	defer resp.Body.Close()
	code := strconv.Itoa(resp.StatusCode)
	if !h.statusOK(resp.StatusCode) {
		return Result{Reason: h.scheme + " " + code}
	}
	if h.body != nil {
		b, err := io.ReadAll(io.LimitReader(resp.Body, bodyLimit))
		if err != nil {
			return Result{Reason: h.scheme + " " + code + " body " + h.describe(ctx, err)}
		}
		if !h.body.Match(b) {
			return Result{Reason: h.scheme + " " + code + " body mismatch"}
		}
	}
	return Result{Up: true, Reason: h.scheme + " " + code}
}

func (h *httpChecker) statusOK(code int) bool {
	for _, r := range h.status {
		if r.Contains(code) {
			return true
		}
	}
	return false
}

// describe names where a request failed: connecting or later.
func (h *httpChecker) describe(ctx context.Context, err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return "connect " + describe(ctx, err)
	}
	return describe(ctx, err)
}
