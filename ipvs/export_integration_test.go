//go:build integration

package ipvs

// ReceiveBufferOf reports the receive buffer of c's socket, as the kernel
// accounts it.
func ReceiveBufferOf(c *Client) (int, error) { return c.nl.ReadBuffer() }
