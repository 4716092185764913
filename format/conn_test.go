package format

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// connResult is what one ipvsadm -c run produced.
type connResult struct {
	Stdout string
	Stderr string // the message line, without its newline
	Failed bool   // exit status 1
}

// readReference reads a capture: NAME.golden, and NAME.stderr and NAME.rc
// when ipvsadm wrote to stderr or failed.
func readReference(t *testing.T, name string) connResult {
	t.Helper()
	r := connResult{Stdout: readGolden(t, name+".golden")}
	if b, err := os.ReadFile(filepath.Join("testdata", name+".stderr")); err == nil {
		r.Stderr = strings.TrimSuffix(string(b), "\n")
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join("testdata", name+".rc")); err == nil {
		if rc := strings.TrimSpace(string(b)); rc != "1" {
			t.Fatalf("%s: exit status %s, ipvsadm -c only fails with 1", name, rc)
		}
		r.Failed = true
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return r
}

func runConnections(input io.Reader, o Options, n Names) (connResult, error) {
	var out bytes.Buffer
	err := Connections(&out, input, o, n)
	r := connResult{Stdout: out.String()}
	if err != nil {
		var ce *ConnectionsError
		if !errors.As(err, &ce) {
			return r, err
		}
		r.Stderr = ce.Message()
		r.Failed = true
	}
	return r, nil
}

// TestReferenceConnections feeds the crafted /proc/net/ip_vs_conn files
// (testdata/*.conn) that the reference ipvsadm read in the VM.
func TestReferenceConnections(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.conn")
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no testdata/*.conn")
	}
	modes := []struct {
		suffix string
		opts   Options
		names  Names
	}{
		{"", Options{Numeric: true}, nil},                          // -Lnc
		{"-pc", Options{Numeric: true, PersistentConn: true}, nil}, // -Lnc --persistent-conn
		{"-names", Options{}, referenceNames},                      // -Lc
	}
	for _, input := range inputs {
		data, err := os.ReadFile(input)
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range modes {
			name := "conn-" + strings.TrimSuffix(filepath.Base(input), ".conn") + mode.suffix
			t.Run(name, func(t *testing.T) {
				want := readReference(t, name)
				got, err := runConnections(bytes.NewReader(data), mode.opts, mode.names)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("differs from the reference ipvsadm (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestReferenceConnectionsRealFile reads what the VM kernel's (empty)
// connection table looks like.
func TestReferenceConnectionsRealFile(t *testing.T) {
	input := readGolden(t, "conn-real-proc.golden")
	want := readReference(t, "conn-real-empty")
	got, err := runConnections(strings.NewReader(input), Options{Numeric: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReferenceConnectionsMissingFile(t *testing.T) {
	want := readReference(t, "conn-missing")
	_, openErr := os.Open(filepath.Join(t.TempDir(), "ip_vs_conn"))
	err := CannotOpenConnections(openErr)
	var ce *ConnectionsError
	if !errors.As(err, &ce) {
		t.Fatalf("CannotOpenConnections returned %T", err)
	}
	got := connResult{Stderr: ce.Message(), Failed: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the open error is not wrapped: %v", err)
	}
}

// TestReferenceConnectionsDocumented checks the -Lnc output observed with
// Debian's ipvsadm 1.31 as quoted in the project's reference notes
// (shared/reference/ipvsadm-1.31.md, section 2.8); the input is those
// connections in the kernel's /proc format.
func TestReferenceConnectionsDocumented(t *testing.T) {
	input := "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n" +
		"TCP C0A80064 D431 0A000001 0050 C0A80101 0050 ESTABLISHED     899\n" +
		"SCTP C0A80066 1F90 0A000001 1F90 C0A80103 1F90 ESTABLISHED      61\n" +
		"TCP 2001:0db8:0000:0000:0000:0000:0000:0064 D431 2001:0db8:0000:0000:0000:0000:0000:0001 0050 2001:0db8:0000:0000:0000:0000:0000:0002 0050 TIME_WAIT        59\n" +
		"TCP 2001:0db8:0000:0000:0000:0000:0000:0064 D432 2001:0db8:0000:0000:0000:0000:0000:0001 0050 C0A80101 0050 SYN_RECV          3\n"
	want := "IPVS connection entries\n" +
		"pro expire state       source             virtual            destination\n" +
		"TCP 14:59  ESTABLISHED 192.168.0.100:54321 10.0.0.1:80        192.168.1.1:80\n" +
		"SCTP 01:01  ESTABLISHED 192.168.0.102:8080 10.0.0.1:8080      192.168.1.3:8080\n" +
		"TCP 00:59  TIME_WAIT   [2001:db8::64]:54321 [2001:db8::1]:80   [2001:db8::2]:80\n" +
		"TCP 00:03  SYN_RECV    [2001:db8::64]:54322 [2001:db8::1]:80   192.168.1.1:80\n"
	var got bytes.Buffer
	if err := Connections(&got, strings.NewReader(input), Options{Numeric: true}, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// errWriter fails every write.
type errWriter struct{}

var errWrite = errors.New("write failed")

func (errWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestConnectionsWriteError(t *testing.T) {
	input := readGolden(t, "conn-real-proc.golden") +
		"TCP C0000264 D431 C0000201 0050 C6336401 0050 ESTABLISHED     899\n"
	err := Connections(errWriter{}, strings.NewReader(input), Options{Numeric: true}, nil)
	if !errors.Is(err, errWrite) {
		t.Errorf("Connections = %v, want the writer's error", err)
	}
}

func FuzzConnections(f *testing.F) {
	inputs, err := filepath.Glob("testdata/*.conn")
	if err != nil {
		f.Fatal(err)
	}
	for _, input := range inputs {
		data, err := os.ReadFile(input)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, false)
		f.Add(data, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, persistentConn bool) {
		var out bytes.Buffer
		err := Connections(&out, bytes.NewReader(data), Options{PersistentConn: persistentConn}, referenceNames)
		var ce *ConnectionsError
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("Connections returned %T %v", err, err)
		}
		if err == nil && !strings.HasPrefix(out.String(), "IPVS connection entries\n") {
			t.Fatalf("no title in %q", out.String())
		}
		if !bytes.HasSuffix(out.Bytes(), []byte("\n")) && out.Len() > 0 {
			t.Fatalf("output does not end in a newline: %q", out.String())
		}
	})
}
