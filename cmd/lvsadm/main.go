// Command lvsadm manages the Linux kernel's IP Virtual Server load balancer.
// Invoked as ipvsadm, ipvsadm-save or ipvsadm-restore it behaves as those
// programs.
package main

import (
	"os"

	"github.com/lvsadm/lvsadm/cmd/cli"
)

func main() { os.Exit(cli.Main(os.Args, os.Stdin, os.Stdout, os.Stderr)) }
