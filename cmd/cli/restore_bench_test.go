package cli

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/ipvs"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

// BenchmarkRestoreQueue is the user-space part of -R of the benchmark's
// 10,000 x 10 table (110,000 lines as ipvsadm -Sn writes them): scan,
// parse and encode every line into batches, without sending them.
func BenchmarkRestoreQueue(b *testing.B) {
	var input bytes.Buffer
	for s := range 10000 {
		vip := fmt.Sprintf("198.18.%d.%d:80", s/250, s%250+1)
		fmt.Fprintf(&input, "-A -t %s -s rr\n", vip)
		for d := range 10 {
			n := (s*10 + d) % 64000
			fmt.Fprintf(&input, "-a -t %s -r 198.19.%d.%d:80 -m -w 1\n", vip, n/250, n%250+1)
		}
	}
	c, err := ipvs.NewFromConn(ipvstest.New().NetlinkConn())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	e := newEnv(nil, nil, nil)
	batch := c.NewBatch()
	b.SetBytes(int64(input.Len()))
	b.ReportAllocs()
	for b.Loop() {
		lines := compat.NewRestoreScanner(bytes.NewReader(input.Bytes()))
		parser := e.parser()
		inv := new(compat.Invocation)
		batch.Reset()
		queued := 0
		for lines.Scan() {
			if err := parser.ParseInto(inv, "ipvsadm-restore", lines.Args()); err != nil {
				b.Fatal(err)
			}
			if _, ok := queueChange(batch, inv); !ok {
				b.Fatalf("%q not queued", lines.Args())
			}
			if batch.Len() == 1000 {
				queued += batch.Len()
				batch.Reset() // as Send leaves it
			}
		}
		if queued += batch.Len(); queued != 110000 {
			b.Fatalf("queued %d requests", queued)
		}
	}
}
