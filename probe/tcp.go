package probe

import (
	"context"
	"net"

	"github.com/spofhq/spof/analysis"
)

// runTCP opens a connection to addr and closes it.
func runTCP(ctx context.Context, addr string) verdict {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return verdict{err: err}
	}
	conn.Close()
	return verdict{state: analysis.Up, detail: "connected"}
}
