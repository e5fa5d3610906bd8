package chunk

import (
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// An fsync is a blocking system call, and a goroutine in a blocking system call keeps its
// scheduler slot (P) until the runtime's monitor takes it away, which in a busy process
// happens only after milliseconds. A process with two Ps that appends to three replicas'
// logs at once therefore ran the third replica's write only after one of the first two
// had finished its fsync. So a store submits its fsyncs through Linux native AIO
// (IOCB_CMD_FSYNC, which the kernel runs on a worker thread) and waits for the completion
// on an eventfd in the runtime's network poller: the waiting goroutine parks and gives its
// P back. Where native AIO is unavailable (no io_setup, aio-max-nr exhausted, a file
// system without it) the store calls fsync as before. Durability is the same: an append
// returns only after the kernel reported the fsync done.

const (
	iocbCmdFsync  = 2
	iocbFlagResfd = 1 << 0
	aioDepth      = 64
)

// iocb is the kernel's struct iocb (its key and rw_flags swap places on big-endian
// machines; both are zero here, so the layout serves every byte order).
type iocb struct {
	data    uint64
	key     uint32
	rwFlags uint32
	opcode  uint16
	reqprio int16
	fildes  uint32
	buf     uint64
	nbytes  uint64
	offset  int64
	_       uint64
	flags   uint32
	resfd   uint32
}

// ioEvent is the kernel's struct io_event.
type ioEvent struct {
	data uint64
	obj  uint64
	res  int64
	res2 int64
}

// aioSyncer submits fsyncs through one native AIO context and completes them from a
// reaper goroutine woken through an eventfd.
type aioSyncer struct {
	ctx    uintptr
	efd    *os.File
	efdNum int // the eventfd's number (efd.Fd would make it blocking)
	// inflight counts submitted fsyncs whose completion was not delivered yet.
	inflight sync.WaitGroup

	mu      sync.Mutex
	next    uint64
	waiting map[uint64]chan int64
	closed  bool
	off     bool // a submit failed as unsupported: fsync directly from now on
	reaped  chan struct{}
}

// newAIOSyncer returns nil when native AIO is not available.
func newAIOSyncer() *aioSyncer {
	var ctx uintptr
	if _, _, e := unix.Syscall(unix.SYS_IO_SETUP, aioDepth, uintptr(unsafe.Pointer(&ctx)), 0); e != 0 {
		return nil
	}
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Syscall(unix.SYS_IO_DESTROY, ctx, 0, 0)
		return nil
	}
	a := &aioSyncer{ctx: ctx, efd: os.NewFile(uintptr(fd), "aio-eventfd"), efdNum: fd, waiting: map[uint64]chan int64{}, reaped: make(chan struct{})}
	go a.reap()
	return a
}

// fsync makes f durable like f.Sync, parking the caller instead of blocking its thread.
func (a *aioSyncer) fsync(f *os.File) error {
	if a == nil {
		return f.Sync()
	}
	sc, err := f.SyscallConn()
	if err != nil {
		return f.Sync()
	}
	done := make(chan int64, 1)
	a.mu.Lock()
	if a.closed || a.off {
		a.mu.Unlock()
		return f.Sync()
	}
	id := a.next
	a.next++
	a.waiting[id] = done
	a.inflight.Add(1)
	a.mu.Unlock()
	var submitErr syscall.Errno
	cerr := sc.Control(func(fd uintptr) {
		cb := &iocb{data: id, opcode: iocbCmdFsync, fildes: uint32(fd), flags: iocbFlagResfd, resfd: uint32(a.efdNum)}
		// The kernel copies the iocb during io_submit and keeps no pointer to it.
		n, _, e := unix.Syscall(unix.SYS_IO_SUBMIT, a.ctx, 1, uintptr(unsafe.Pointer(&cb)))
		if e == 0 && n != 1 {
			e = syscall.EAGAIN
		}
		submitErr = e
	})
	if cerr != nil || submitErr != 0 {
		a.mu.Lock()
		delete(a.waiting, id)
		a.inflight.Done()
		if cerr == nil && submitErr != syscall.EAGAIN && submitErr != syscall.EINTR {
			// Not a full queue: the kernel or a sandbox refuses (EINVAL for a file
			// system without AIO fsync, ENOSYS, EPERM). Stop trying.
			a.off = true
		}
		a.mu.Unlock()
		return f.Sync()
	}
	res := <-done
	if res < 0 {
		return &os.PathError{Op: "sync", Path: f.Name(), Err: syscall.Errno(-res)}
	}
	return nil
}

// reap delivers completions until the eventfd is closed.
func (a *aioSyncer) reap() {
	defer close(a.reaped)
	var cnt [8]byte
	var evs [aioDepth]ioEvent
	var zero unix.Timespec
	for {
		if _, err := a.efd.Read(cnt[:]); err != nil {
			return
		}
		for {
			n, _, e := unix.Syscall6(unix.SYS_IO_GETEVENTS, a.ctx, 0, aioDepth, uintptr(unsafe.Pointer(&evs[0])), uintptr(unsafe.Pointer(&zero)), 0)
			if e == syscall.EINTR {
				continue
			}
			if e != 0 || n == 0 {
				break
			}
			a.mu.Lock()
			for _, ev := range evs[:n] {
				if ch, ok := a.waiting[ev.data]; ok {
					delete(a.waiting, ev.data)
					ch <- ev.res
					a.inflight.Done()
				}
			}
			a.mu.Unlock()
		}
	}
}

// close waits for the fsyncs in flight, then releases the AIO context and stops the
// reaper. fsyncs asked for after close run directly.
func (a *aioSyncer) close() {
	if a == nil {
		return
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.closed = true
	a.mu.Unlock()
	a.inflight.Wait()
	unix.Syscall(unix.SYS_IO_DESTROY, a.ctx, 0, 0)
	a.efd.Close()
	<-a.reaped
}
