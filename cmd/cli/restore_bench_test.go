package cli

import (
	"strings"
	"testing"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/cmd/internal/benchtable"
	"github.com/lvsadm/lvsadm/ipvs"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

// BenchmarkRestoreQueue is the user-space part of -R of the benchmark's
// 10,000 x 10 table (110,000 lines as ipvsadm -Sn writes them): scan,
// parse and encode every line into batches, without sending them.
func BenchmarkRestoreQueue(b *testing.B) {
	input := benchtable.Rules()
	c, err := ipvs.NewFromConn(ipvstest.New().NetlinkConn())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	e := newEnv(nil, nil, nil)
	batch := c.NewBatch()
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	for b.Loop() {
		lines := compat.NewRestoreScanner(strings.NewReader(input))
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
