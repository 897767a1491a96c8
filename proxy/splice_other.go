//go:build !linux

package proxy

import (
	"io"
	"net"
)

// pipePool holds nothing where there is no splice(2): TCPConn.ReadFrom
// copies through a buffer.
type pipePool struct{}

func (*pipePool) release() {}

// spliceCopy copies up to limit bytes from src to dst; see the Linux
// version.
func spliceCopy(_ *pipePool, dst, src *net.TCPConn, limit int64) (int64, error) {
	return dst.ReadFrom(&io.LimitedReader{R: src, N: limit})
}
