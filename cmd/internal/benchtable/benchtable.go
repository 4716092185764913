// Package benchtable writes the large table that make bench measures
// (scripts/bench), for the host-side benchmarks of the code it exercises.
package benchtable

import (
	"fmt"
	"strings"
)

// Rules is the 10,000 x 10 table as ipvsadm -Sn writes it (110,000 lines):
// services 198.18.x.y:80 -s rr, each with 10 masqueraded real servers
// 198.19.x.y:80 of weight 1.
func Rules() string {
	var sb strings.Builder
	for s := range 10000 {
		vip := fmt.Sprintf("198.18.%d.%d:80", s/250, s%250+1)
		fmt.Fprintf(&sb, "-A -t %s -s rr\n", vip)
		for d := range 10 {
			n := (s*10 + d) % 64000
			fmt.Fprintf(&sb, "-a -t %s -r 198.19.%d.%d:80 -m -w 1\n", vip, n/250, n%250+1)
		}
	}
	return sb.String()
}
