//go:build integration && linux

package testnet

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestIntegrationClusters checks the clusters other packages' tests build:
// a wrr service with weights 1 and 3 splits 8 connections exactly 2:6.
func TestIntegrationClusters(t *testing.T) {
	NeedIPVS(t)
	for mode, method := range map[string]string{"nat": "-m", "dr": "-g"} {
		t.Run(mode, func(t *testing.T) {
			c := NewCluster(t, mode)
			c.Lvsadm(t, "-A", "-t", c.VIP+":80", "-s", "wrr")
			for i, w := range []string{"1", "3"} {
				c.Lvsadm(t, "-a", "-t", c.VIP+":80", "-r", c.RSAddr[i]+":80", method, "-w", w)
			}
			if diff := cmp.Diff(map[string]int{"rs1": 2, "rs2": 6}, c.Fetch(8)); diff != "" {
				t.Errorf("answers through the VIP (-want +got):\n%s", diff)
			}
			c.Web[1].Stop()
			if got := Fetch(c.Director, c.RSAddr[1], 1); got["rs2"] != 0 {
				t.Errorf("rs2 answers after Stop: %v", got)
			}
			c.Web[1].Start()
			if got := Fetch(c.Director, c.RSAddr[1], 1); got["rs2"] != 1 {
				t.Errorf("rs2 after Start answers %v", got)
			}
		})
	}
}
