//go:build integration

package ipvs

// SetDumpReadSize makes c's dumps read size bytes at a time from fresh
// sockets, so a test can make the kernel's chunks larger than the reads.
func SetDumpReadSize(c *Client, size int) error {
	for _, sock := range []**dumpSocket{&c.svcDump, &c.destDump} {
		nl, err := c.dumpDial(size)
		if err != nil {
			return err
		}
		if *sock != nil {
			(*sock).nl.Close()
		}
		*sock = newDumpSocket(nl, size)
	}
	return nil
}

// DumpReadSizes reports the read sizes of c's service and destination dump
// sockets.
func DumpReadSizes(c *Client) (services, destinations int) {
	return len(c.svcDump.bufs[0]), len(c.destDump.bufs[0])
}
