package virtual

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/shadowless-dev/shadowless/device"
)

// Bulk-only transport constants (USB Mass Storage Class BOT 1.0).
const (
	cbwSignature = 0x43425355 // "USBC"
	cswSignature = 0x53425355 // "USBS"
	cbwLen       = 31
	cswLen       = 13

	msEPOut = 0x02
	msEPIn  = 0x81

	botReset     = 0xFF
	botGetMaxLUN = 0xFE
)

// SCSI sense keys and additional sense codes we report.
const (
	senseNone           = 0x00
	senseNotReady       = 0x02
	senseMediumError    = 0x03
	senseIllegalRequest = 0x05
	senseDataProtect    = 0x07

	ascInvalidOpcode   = 0x20
	ascLBAOutOfRange   = 0x21
	ascInvalidField    = 0x24
	ascWriteProtected  = 0x27
	ascUnrecoveredRead = 0x11
	ascWriteFault      = 0x03
)

// BlockSize is the logical block size of the virtual mass storage device.
const BlockSize = 512

// MassStorage is a virtual USB flash drive: bulk-only transport with the SCSI commands an
// operating system needs, backed by an io.ReaderAt (and io.WriterAt unless read-only).
type MassStorage struct {
	*core
	r      io.ReaderAt
	w      io.WriterAt // nil = write protected
	blocks uint64
	syncer interface{ Sync() error }

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change
	state   msState
	sense   [3]uint8 // key, asc, ascq
	// data phase
	tag      uint32
	expected uint32 // dCBWDataTransferLength
	moved    uint32
	dirIn    bool
	inBuf    []byte // prepared IN data (non-READ commands)
	ioOff    int64  // READ/WRITE: byte offset of next transfer
	ioLeft   uint32 // READ/WRITE: bytes of the command left
	isRead   bool
	isWrite  bool
	failed   bool // command failed: CSW status 1
	phaseErr bool
	csw      []byte
}

type msState int

const (
	msIdle   msState = iota // waiting for a CBW
	msData                  // data phase
	msStatus                // CSW ready to be read
)

// NewMassStorage returns a virtual drive of size bytes (rounded down to BlockSize) read
// from r and written to w; w nil makes the medium write-protected.
func NewMassStorage(r io.ReaderAt, w io.WriterAt, size int64) *MassStorage {
	d := device.Descriptors{
		Speed: device.SpeedHigh,
		Device: device.DeviceDescriptor{USB: 0x0200, MaxPacketSize0: 64, Vendor: 0x1d6b, Product: 0x0106,
			Release: 0x0100, ManufacturerIndex: 1, ProductIndex: 2, SerialIndex: 3, NumConfigurations: 1},
		Configs: []device.ConfigDescriptor{{Value: 1, Attributes: 0x80, MaxPower: 100, Interfaces: []device.InterfaceDescriptor{{
			Number: 0, Class: device.ClassMassStorage, SubClass: 0x06, Protocol: 0x50, // SCSI transparent, bulk-only
			Endpoints: []device.EndpointDescriptor{
				{Address: msEPIn, Attributes: uint8(device.Bulk), MaxPacketSize: 512},
				{Address: msEPOut, Attributes: uint8(device.Bulk), MaxPacketSize: 512},
			},
		}}}},
		Strings: map[uint8]string{1: "Shadowless", 2: "Shadowless Virtual Storage", 3: "SLMSC00000000001"},
	}
	m := &MassStorage{r: r, w: w, blocks: uint64(size) / BlockSize, changed: make(chan struct{})}
	if s, ok := w.(interface{ Sync() error }); ok {
		m.syncer = s
	}
	m.core = newCore(d, m)
	return m
}

// OpenStorageFile opens path read-write (read-only if readOnly) as a virtual drive. The
// returned close function closes the file.
func OpenStorageFile(path string, readOnly bool) (*MassStorage, func() error, error) {
	flag := os.O_RDWR
	if readOnly {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("virtual storage: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("virtual storage: %w", err)
	}
	var w io.WriterAt
	if !readOnly {
		w = f
	}
	return NewMassStorage(f, w, st.Size()), f.Close, nil
}

// Blocks returns the capacity in BlockSize blocks.
func (m *MassStorage) Blocks() uint64 { return m.blocks }

// notifyLocked wakes every waiter; m.mu must be held.
func (m *MassStorage) notifyLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

func (m *MassStorage) reset() {
	m.mu.Lock()
	m.state, m.inBuf, m.csw = msIdle, nil, nil
	m.notifyLocked()
	m.mu.Unlock()
}

func (m *MassStorage) classControl(_ context.Context, u *device.URB) error {
	s := u.Setup
	if s.RequestType&device.RequestTypeMask != device.TypeClass {
		return u.Complete(device.StatusStall, 0)
	}
	switch s.Request {
	case botGetMaxLUN:
		return reply(u, []byte{0})
	case botReset:
		m.reset()
		return u.Complete(device.StatusOK, 0)
	}
	return u.Complete(device.StatusStall, 0)
}

func (m *MassStorage) transfer(ctx context.Context, u *device.URB) error {
	switch u.Endpoint {
	case msEPOut:
		return m.out(u)
	case msEPIn:
		return m.in(ctx, u)
	}
	return u.Complete(device.StatusInvalid, 0)
}

// out handles a bulk OUT URB: a CBW, or data of a WRITE.
func (m *MassStorage) out(u *device.URB) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch m.state {
	case msIdle:
		if len(u.Data) != cbwLen || binary.LittleEndian.Uint32(u.Data) != cbwSignature {
			// Invalid CBW: stall both pipes until a reset recovery (BOT 6.6.1).
			m.core.setHalt(msEPIn, true)
			m.core.setHalt(msEPOut, true)
			return u.Complete(device.StatusStall, 0)
		}
		m.command(u.Data)
		m.notifyLocked()
		return u.Complete(device.StatusOK, len(u.Data))
	case msData:
		if m.dirIn {
			m.phaseErr = true
			m.finishLocked()
			return u.Complete(device.StatusStall, 0)
		}
		n := len(u.Data)
		if uint32(n) > m.expected-m.moved {
			n = int(m.expected - m.moved)
		}
		if m.isWrite && !m.failed {
			k := n
			if uint32(k) > m.ioLeft {
				k = int(m.ioLeft)
			}
			if _, err := m.w.WriteAt(u.Data[:k], m.ioOff); err != nil {
				m.fail(senseMediumError, ascWriteFault)
			}
			m.ioOff += int64(k)
			m.ioLeft -= uint32(k)
		}
		m.moved += uint32(n)
		if m.moved >= m.expected {
			m.finishLocked()
		}
		m.notifyLocked()
		return u.Complete(device.StatusOK, n)
	}
	// A CBW while a CSW is pending: phase error.
	return u.Complete(device.StatusStall, 0)
}

// in handles a bulk IN URB: data of the current command, or the CSW. It waits for the
// state to allow it, as a real device NAKs until it has something to send.
func (m *MassStorage) in(ctx context.Context, u *device.URB) error {
	for {
		m.mu.Lock()
		switch {
		case m.state == msData && m.dirIn:
			n, stall := m.readLocked(u.Data)
			m.mu.Unlock()
			if stall {
				// The IN pipe stays halted until the host clears it (BOT 6.7.2), so URBs
				// queued behind this one cannot swallow the CSW.
				m.core.setHalt(msEPIn, true)
				return u.Complete(device.StatusStall, 0)
			}
			return u.Complete(device.StatusOK, n)
		case m.state == msStatus:
			n := copy(u.Data, m.csw)
			m.state, m.csw = msIdle, nil
			m.notifyLocked()
			m.mu.Unlock()
			return u.Complete(device.StatusOK, n)
		}
		ch := m.changed
		m.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return u.Complete(device.StatusCancelled, 0)
		case <-m.closed:
			u.Status = device.StatusIOError
			return device.ErrNoDevice
		}
	}
}

// readLocked fills p with data of the current IN command.
func (m *MassStorage) readLocked(p []byte) (n int, stall bool) {
	left := m.expected - m.moved
	if uint32(len(p)) > left {
		p = p[:left]
	}
	switch {
	case m.isRead && !m.failed:
		k := len(p)
		if uint32(k) > m.ioLeft {
			k = int(m.ioLeft)
		}
		if _, err := m.r.ReadAt(p[:k], m.ioOff); err != nil && err != io.EOF {
			m.fail(senseMediumError, ascUnrecoveredRead)
			m.finishLocked()
			return 0, true
		}
		m.ioOff += int64(k)
		m.ioLeft -= uint32(k)
		n = k
	case !m.failed:
		n = copy(p, m.inBuf)
		m.inBuf = m.inBuf[n:]
	}
	m.moved += uint32(n)
	if n == 0 || m.moved >= m.expected || (!m.isRead && len(m.inBuf) == 0) || (m.isRead && m.ioLeft == 0) {
		// Short or complete: the data phase ends here (BOT case 5: short packet ends it).
		m.finishLocked()
		if n == 0 {
			// Nothing to send although the host expects data: stall, the host clears the
			// halt and reads the CSW (BOT case 4).
			return 0, true
		}
	}
	return n, false
}

// finishLocked builds the CSW and enters the status phase.
func (m *MassStorage) finishLocked() {
	csw := make([]byte, cswLen)
	binary.LittleEndian.PutUint32(csw[0:], cswSignature)
	binary.LittleEndian.PutUint32(csw[4:], m.tag)
	binary.LittleEndian.PutUint32(csw[8:], m.expected-m.moved)
	switch {
	case m.phaseErr:
		csw[12] = 2
	case m.failed:
		csw[12] = 1
	}
	m.csw, m.state = csw, msStatus
	m.inBuf = nil
}

func (m *MassStorage) fail(key, asc uint8) {
	m.failed = true
	m.sense = [3]uint8{key, asc, 0}
}

// command parses a CBW and runs the SCSI command in it, preparing the data phase.
func (m *MassStorage) command(cbw []byte) {
	m.tag = binary.LittleEndian.Uint32(cbw[4:])
	m.expected = binary.LittleEndian.Uint32(cbw[8:])
	m.dirIn = cbw[12]&0x80 != 0
	m.moved, m.inBuf, m.isRead, m.isWrite, m.failed, m.phaseErr = 0, nil, false, false, false, false
	cbLen := int(cbw[14] & 0x1f)
	if cbLen < 1 || cbLen > 16 {
		cbLen = 16
	}
	cdb := cbw[15 : 15+cbLen]
	m.scsi(cdb)
	if m.expected == 0 {
		m.finishLocked()
		return
	}
	m.state = msData
	if m.dirIn && !m.isRead && len(m.inBuf) > int(m.expected) {
		m.inBuf = m.inBuf[:m.expected]
	}
}

func (m *MassStorage) scsi(cdb []byte) {
	okSense := [3]uint8{}
	switch cdb[0] {
	case 0x00: // TEST UNIT READY
	case 0x03: // REQUEST SENSE
		s := make([]byte, 18)
		s[0], s[2], s[7], s[12], s[13] = 0x70, m.sense[0], 10, m.sense[1], m.sense[2]
		m.inBuf = s
		m.sense = okSense
		return
	case 0x12: // INQUIRY
		m.inBuf = m.inquiry(cdb)
	case 0x25: // READ CAPACITY(10)
		b := make([]byte, 8)
		last := m.blocks - 1
		if last > 0xFFFFFFFF {
			last = 0xFFFFFFFF
		}
		putBE32(b, uint32(last))
		putBE32(b[4:], BlockSize)
		m.inBuf = b
	case 0x9E: // SERVICE ACTION IN(16)
		if len(cdb) < 16 || cdb[1]&0x1f != 0x10 { // READ CAPACITY(16)
			m.fail(senseIllegalRequest, ascInvalidField)
			break
		}
		b := make([]byte, 32)
		binary.BigEndian.PutUint64(b, m.blocks-1)
		putBE32(b[8:], BlockSize)
		m.inBuf = b
	case 0x1A, 0x5A: // MODE SENSE(6), MODE SENSE(10)
		var wp uint8
		if m.w == nil {
			wp = 0x80
		}
		// Header only, plus the caching page when asked for it or for all pages.
		page := cdb[2] & 0x3f
		var pages []byte
		if page == 0x08 || page == 0x3f {
			pages = []byte{0x08, 0x12, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // WCE set
		}
		if cdb[0] == 0x1A {
			m.inBuf = append([]byte{uint8(3 + len(pages)), 0, wp, 0}, pages...)
		} else {
			l := 6 + len(pages)
			m.inBuf = append([]byte{uint8(l >> 8), uint8(l), 0, wp, 0, 0, 0, 0}, pages...)
		}
	case 0x1E: // PREVENT ALLOW MEDIUM REMOVAL
	case 0x1B: // START STOP UNIT
	case 0x35, 0x91: // SYNCHRONIZE CACHE(10/16)
		if m.syncer != nil {
			if err := m.syncer.Sync(); err != nil {
				m.fail(senseMediumError, ascWriteFault)
			}
		}
	case 0x2F: // VERIFY(10)
	case 0x23: // READ FORMAT CAPACITIES
		b := make([]byte, 12)
		b[3] = 8
		putBE32(b[4:], uint32(min(m.blocks, 0xFFFFFFFF)))
		b[8] = 0x02 // formatted media
		b[9], b[10], b[11] = 0, BlockSize>>8, BlockSize&0xff
		m.inBuf = b
	case 0x28, 0x2A, 0x88, 0x8A: // READ(10), WRITE(10), READ(16), WRITE(16)
		var lba uint64
		var count uint32
		if cdb[0] == 0x28 || cdb[0] == 0x2A {
			lba, count = uint64(binary.BigEndian.Uint32(cdb[2:])), uint32(binary.BigEndian.Uint16(cdb[7:]))
		} else {
			if len(cdb) < 16 {
				m.fail(senseIllegalRequest, ascInvalidField)
				break
			}
			lba, count = binary.BigEndian.Uint64(cdb[2:]), binary.BigEndian.Uint32(cdb[10:])
		}
		write := cdb[0] == 0x2A || cdb[0] == 0x8A
		switch {
		case lba+uint64(count) > m.blocks || lba+uint64(count) < lba:
			m.fail(senseIllegalRequest, ascLBAOutOfRange)
		case write && m.w == nil:
			m.fail(senseDataProtect, ascWriteProtected)
		default:
			m.isRead, m.isWrite = !write, write
			m.ioOff, m.ioLeft = int64(lba)*BlockSize, count*BlockSize
		}
	default:
		m.fail(senseIllegalRequest, ascInvalidOpcode)
	}
	if !m.failed {
		m.sense = okSense
	}
}

func (m *MassStorage) inquiry(cdb []byte) []byte {
	if cdb[1]&1 != 0 { // EVPD
		switch cdb[2] {
		case 0x00:
			return []byte{0, 0x00, 0, 2, 0x00, 0x80}
		case 0x80:
			sn := m.desc.Strings[3]
			return append([]byte{0, 0x80, 0, uint8(len(sn))}, sn...)
		}
		m.fail(senseIllegalRequest, ascInvalidField)
		return nil
	}
	b := make([]byte, 36)
	b[1] = 0x80 // removable
	b[2] = 0x06 // SPC-4
	b[3] = 0x02 // response data format
	b[4] = 31
	copy(b[8:16], fmt.Sprintf("%-8s", "Shadowls"))
	copy(b[16:32], fmt.Sprintf("%-16s", "Virtual Storage"))
	copy(b[32:36], "1.00")
	return b
}
