package proxy

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The fast path splices through a pipe of its own rather than through
// TCPConn.ReadFrom, whose pipes wait in a sync.Pool for the garbage
// collector: after a burst of connections an idle proxy, which allocates
// nothing and so runs no collection, held thousands of pipe descriptors
// for minutes. A proxy keeps at most maxIdlePipes idle pipes and closes
// them all when its last connection ends.

// maxIdlePipes bounds the idle pipes a proxy keeps for new connections.
const maxIdlePipes = 32

// pipeSize is how much a pipe holds, and so the most one splice moves.
const pipeSize = 1 << 20

// A splicePipe is a pipe between two splice(2) calls, empty between
// copies.
type splicePipe struct{ r, w int }

func newSplicePipe() (*splicePipe, error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, err
	}
	// The default of 64 KiB costs many more calls on a bulk transfer;
	// a system whose limit is lower keeps its default.
	unix.FcntlInt(uintptr(fds[1]), unix.F_SETPIPE_SZ, pipeSize)
	return &splicePipe{r: fds[0], w: fds[1]}, nil
}

func (sp *splicePipe) close() {
	unix.Close(sp.r)
	unix.Close(sp.w)
}

// A pipePool holds a proxy's idle pipes.
type pipePool struct {
	mu   sync.Mutex
	idle []*splicePipe
}

func (pp *pipePool) get() (*splicePipe, error) {
	pp.mu.Lock()
	if n := len(pp.idle); n > 0 {
		sp := pp.idle[n-1]
		pp.idle = pp.idle[:n-1]
		pp.mu.Unlock()
		return sp, nil
	}
	pp.mu.Unlock()
	return newSplicePipe()
}

// put gives back a pipe; dirty is true when a copy ended with data still
// in it, which no other copy may see.
func (pp *pipePool) put(sp *splicePipe, dirty bool) {
	pp.mu.Lock()
	if !dirty && len(pp.idle) < maxIdlePipes {
		pp.idle = append(pp.idle, sp)
		sp = nil
	}
	pp.mu.Unlock()
	if sp != nil {
		sp.close()
	}
}

// release closes every idle pipe.
func (pp *pipePool) release() {
	pp.mu.Lock()
	idle := pp.idle
	pp.idle = nil
	pp.mu.Unlock()
	for _, sp := range idle {
		sp.close()
	}
}

// spliceCopy moves up to limit bytes from src to dst through a pipe from
// pool, in the kernel, and returns how many it moved. It stops early, with
// a nil error, at the end of src's stream, and with src's read deadline
// as the error when it passes.
func spliceCopy(pool *pipePool, dst, src *net.TCPConn, limit int64) (int64, error) {
	srcRaw, err := src.SyscallConn()
	if err != nil {
		return 0, err
	}
	dstRaw, err := dst.SyscallConn()
	if err != nil {
		return 0, err
	}
	var written int64
	for written < limit {
		// Wait for data (or the end of the stream) without a pipe, so
		// that an idle connection holds none. A peek reports, and so
		// clears, the socket's pending error (a reset): keep it.
		var perr syscall.Errno
		rerr := srcRaw.Read(func(fd uintptr) bool {
			var b byte
			for {
				_, _, perr = unix.Syscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b)), 1, unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
				if perr != unix.EINTR {
					return perr != unix.EAGAIN
				}
			}
		})
		if rerr != nil {
			return written, rerr
		}
		if perr != 0 {
			return written, opError(os.NewSyscallError("recvfrom", perr), src, dst)
		}
		n, err := spliceOnce(pool, srcRaw, dstRaw, min(limit-written, pipeSize))
		written += n
		if err != nil {
			return written, opError(err, src, dst)
		}
		if n == 0 {
			return written, nil // end of stream
		}
	}
	return written, nil
}

// errSpliceWrite marks an error writing to the destination.
type errSpliceWrite struct{ err error }

func (e errSpliceWrite) Error() string { return e.err.Error() }
func (e errSpliceWrite) Unwrap() error { return e.err }

// opError names the connection that failed, as net's errors do.
func opError(err error, src, dst *net.TCPConn) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return err
	}
	c := src
	if errors.As(err, new(errSpliceWrite)) {
		c = dst
	}
	return &net.OpError{Op: "splice", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}

// spliceOnce moves what src has to read, up to size bytes, to dst through
// a pipe it takes from pool for the time of the move. It returns 0 at the
// end of src's stream.
func spliceOnce(pool *pipePool, srcRaw, dstRaw syscall.RawConn, size int64) (written int64, err error) {
	sp, err := pool.get()
	if err != nil {
		return 0, err
	}
	var inPipe int64
	defer func() { pool.put(sp, inPipe > 0) }()

	// Socket to pipe. The pipe is empty here, so EAGAIN means that
	// the socket has nothing to read: wait until it has.
	var n int64
	var serr error
	rerr := srcRaw.Read(func(fd uintptr) bool {
		for {
			n, serr = unix.Splice(int(fd), nil, sp.w, nil, int(size), unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
			if serr != unix.EINTR {
				return serr != unix.EAGAIN
			}
		}
	})
	if rerr != nil {
		return 0, rerr
	}
	if serr != nil {
		return 0, serr
	}
	inPipe = n
	// Pipe to socket, all of it.
	for inPipe > 0 {
		var m int64
		werr := dstRaw.Write(func(fd uintptr) bool {
			for {
				m, serr = unix.Splice(sp.r, nil, int(fd), nil, int(inPipe), unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
				if serr != unix.EINTR {
					return serr != unix.EAGAIN
				}
			}
		})
		if werr == nil && serr != nil {
			werr = serr
		}
		if werr == nil && m == 0 {
			werr = errors.New("pipe returned no data")
		}
		if werr != nil {
			return written, errSpliceWrite{werr}
		}
		inPipe -= m
		written += m
	}
	return written, nil
}
