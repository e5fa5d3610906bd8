package usbip

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/shadowless-dev/shadowless/device"
)

// ListDevices asks a USB/IP server for its exported devices (OP_REQ_DEVLIST) on conn,
// which it closes.
func ListDevices(ctx context.Context, conn io.ReadWriteCloser) ([]DeviceInfo, error) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if _, err := conn.Write(OpHeader{Version: Version, Code: OpReqDevlist}.append(nil)); err != nil {
		return nil, fmt.Errorf("usbip: %w", err)
	}
	var hb [opHeaderLen + 4]byte
	if _, err := io.ReadFull(conn, hb[:]); err != nil {
		return nil, fmt.Errorf("usbip: reading device list: %w", err)
	}
	h, _ := ParseOpHeader(hb[:])
	if h.Code != OpRepDevlist || h.Status != 0 {
		return nil, fmt.Errorf("%w: device list reply code %#04x status %d", ErrProtocol, h.Code, h.Status)
	}
	n := binary.BigEndian.Uint32(hb[opHeaderLen:])
	if n > 1024 {
		return nil, fmt.Errorf("%w: %d devices", ErrProtocol, n)
	}
	out := make([]DeviceInfo, 0, n)
	for range n {
		var b [deviceInfoLen]byte
		if _, err := io.ReadFull(conn, b[:]); err != nil {
			return nil, fmt.Errorf("usbip: reading device list: %w", err)
		}
		d, _ := ParseDeviceInfo(b[:])
		ib := make([]byte, 4*int(d.NumInterfaces))
		if _, err := io.ReadFull(conn, ib); err != nil {
			return nil, fmt.Errorf("usbip: reading device list: %w", err)
		}
		for i := range int(d.NumInterfaces) {
			d.Interfaces = append(d.Interfaces, InterfaceInfo{ib[4*i], ib[4*i+1], ib[4*i+2]})
		}
		out = append(out, d)
	}
	return out, nil
}

// Remote is a device imported from a USB/IP server; it implements device.Device,
// device.Pipeliner and device.Watcher.
type Remote struct {
	conn io.ReadWriteCloser
	info DeviceInfo
	desc device.Descriptors

	wmu sync.Mutex

	mu      sync.Mutex
	seq     uint32
	pending map[uint32]*call
	config  uint8
	alts    map[uint8]uint8
	err     error

	done     chan struct{}
	readDone chan struct{}
}

type call struct {
	in bool
	ch chan Message
}

// Import attaches the device busid from the server on conn (OP_REQ_IMPORT) and reads its
// descriptors. Close the Remote to detach; conn is closed with it.
func Import(ctx context.Context, conn io.ReadWriteCloser, busid string) (*Remote, error) {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	req := OpHeader{Version: Version, Code: OpReqImport}.append(nil)
	var id [32]byte
	copy(id[:31], busid)
	req = append(req, id[:]...)
	if _, err := conn.Write(req); err != nil {
		stop()
		conn.Close()
		return nil, fmt.Errorf("usbip: %w", err)
	}
	var hb [opHeaderLen]byte
	if _, err := io.ReadFull(conn, hb[:]); err != nil {
		stop()
		conn.Close()
		return nil, fmt.Errorf("usbip: reading import reply: %w", err)
	}
	h, _ := ParseOpHeader(hb[:])
	if h.Code != OpRepImport || h.Status != 0 {
		stop()
		conn.Close()
		return nil, fmt.Errorf("usbip: import of %q refused (status %d): %w", busid, h.Status, device.ErrNoDevice)
	}
	var db [deviceInfoLen]byte
	if _, err := io.ReadFull(conn, db[:]); err != nil {
		stop()
		conn.Close()
		return nil, fmt.Errorf("usbip: reading import reply: %w", err)
	}
	if !stop() {
		conn.Close()
		return nil, ctx.Err()
	}
	info, _ := ParseDeviceInfo(db[:])
	r := &Remote{conn: conn, info: info, pending: map[uint32]*call{}, alts: map[uint8]uint8{},
		config: info.ConfigurationValue, done: make(chan struct{}), readDone: make(chan struct{})}
	go r.readLoop()
	d, err := device.ReadDescriptors(ctx, r, info.Speed)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("usbip: %w", err)
	}
	r.mu.Lock()
	r.desc = d
	r.mu.Unlock()
	return r, nil
}

// Info returns the device description the server sent.
func (r *Remote) Info() DeviceInfo { return r.info }

func (r *Remote) readLoop() {
	defer close(r.readDone)
	dec := Decoder{Client: true, InDirection: func(seq uint32) bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		c := r.pending[seq]
		return c != nil && c.in
	}}
	buf := make([]byte, 256<<10)
	var err error
	for err == nil {
		var n int
		n, err = r.conn.Read(buf)
		if n > 0 {
			dec.Feed(buf[:n])
			for {
				m, ok, derr := dec.Next()
				if derr != nil {
					err = derr
					break
				}
				if !ok {
					break
				}
				r.mu.Lock()
				c := r.pending[m.SeqNum]
				delete(r.pending, m.SeqNum)
				r.mu.Unlock()
				if c != nil {
					c.ch <- m
				}
			}
		}
	}
	if errors.Is(err, io.EOF) {
		err = device.ErrNoDevice
	}
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
	close(r.done)
}

// Done is closed when the connection ended.
func (r *Remote) Done() <-chan struct{} { return r.done }

// Close detaches the device; pending URBs fail with ErrNoDevice.
func (r *Remote) Close() error {
	r.conn.Close()
	<-r.readDone
	return nil
}

func (r *Remote) goneErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if errors.Is(r.err, device.ErrNoDevice) {
		return r.err
	}
	return fmt.Errorf("%w: %w", device.ErrNoDevice, r.err)
}

// Descriptors implements device.Device.
func (r *Remote) Descriptors() device.Descriptors {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.desc
}

// Configuration implements device.Device.
func (r *Remote) Configuration() uint8 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.config
}

// AltSetting implements device.Device.
func (r *Remote) AltSetting(iface uint8) uint8 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.alts[iface]
}

func (r *Remote) control(ctx context.Context, s device.Setup) error {
	return r.Submit(ctx, &device.URB{Type: device.Control, Setup: s})
}

// SetConfiguration implements device.Device with a SET_CONFIGURATION request.
func (r *Remote) SetConfiguration(ctx context.Context, value uint8) error {
	if err := r.control(ctx, device.Setup{Request: device.ReqSetConfiguration, Value: uint16(value)}); err != nil {
		return err
	}
	r.mu.Lock()
	r.config, r.alts = value, map[uint8]uint8{}
	r.mu.Unlock()
	return nil
}

// SetAltSetting implements device.Device with a SET_INTERFACE request.
func (r *Remote) SetAltSetting(ctx context.Context, iface, alt uint8) error {
	if err := r.control(ctx, device.Setup{RequestType: device.RecipientIface, Request: device.ReqSetInterface, Value: uint16(alt), Index: uint16(iface)}); err != nil {
		return err
	}
	r.mu.Lock()
	r.alts[iface] = alt
	r.mu.Unlock()
	return nil
}

// Reset implements device.Device with the hub port-reset request the Linux stub driver
// turns into a device reset.
func (r *Remote) Reset(ctx context.Context) error {
	return r.control(ctx, device.Setup{RequestType: 0x23, Request: device.ReqSetFeature, Value: 4})
}

func (r *Remote) start(u *device.URB) (uint32, *call, error) {
	if len(u.Data) > MaxTransfer || len(u.ISO) > MaxISOPackets {
		return 0, nil, fmt.Errorf("usbip: transfer too large: %w", device.ErrInvalid)
	}
	in := u.In()
	m := Message{Header: Header{Command: CmdSubmit, DevID: r.info.DevID(), EP: uint32(u.Endpoint & 0x0f), TransferLength: int32(len(u.Data))}}
	if in {
		m.Direction = DirIn
	} else {
		m.Data = u.Data
	}
	if u.Type == device.Control {
		m.EP = 0
		m.Setup = u.Setup.Marshal()
		if !in {
			m.TransferLength = int32(len(u.Data))
		}
	}
	if u.Type == device.Isochronous {
		m.NumPackets = int32(len(u.ISO))
		off := 0
		for _, p := range u.ISO {
			m.ISO = append(m.ISO, ISODesc{Offset: uint32(off), Length: uint32(p.Length)})
			off += p.Length
		}
	}
	c := &call{in: in, ch: make(chan Message, 1)}
	r.mu.Lock()
	r.seq++
	m.SeqNum = r.seq
	r.pending[m.SeqNum] = c
	r.mu.Unlock()
	r.wmu.Lock()
	_, err := r.conn.Write(m.Append(nil))
	r.wmu.Unlock()
	if err != nil {
		r.forget(m.SeqNum)
		select {
		case <-r.done:
			return 0, nil, r.goneErr()
		default:
		}
		return 0, nil, fmt.Errorf("usbip: %w", err)
	}
	return m.SeqNum, c, nil
}

func (r *Remote) forget(seq uint32) {
	r.mu.Lock()
	delete(r.pending, seq)
	r.mu.Unlock()
}

// Submit implements device.Device.
func (r *Remote) Submit(ctx context.Context, u *device.URB) error {
	seq, c, err := r.start(u)
	if err != nil {
		return u.Fail(err)
	}
	return r.finish(ctx, u, seq, c)
}

// SubmitAll implements device.Pipeliner.
func (r *Remote) SubmitAll(ctx context.Context, urbs []*device.URB) error {
	type sent struct {
		seq uint32
		c   *call
	}
	var ss []sent
	var firstErr error
	for _, u := range urbs {
		seq, c, err := r.start(u)
		if err != nil {
			firstErr = u.Fail(err)
			break
		}
		ss = append(ss, sent{seq, c})
	}
	for i, s := range ss {
		if err := r.finish(ctx, urbs[i], s.seq, s.c); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

func (r *Remote) finish(ctx context.Context, u *device.URB, seq uint32, c *call) error {
	var m Message
	select {
	case m = <-c.ch:
	case <-r.done:
		r.forget(seq)
		return u.Fail(r.goneErr())
	case <-ctx.Done():
		if cancelled := r.unlink(seq, c, &m); cancelled {
			return u.Complete(device.StatusCancelled, 0)
		}
	}
	st := ErrnoToStatus(m.Status)
	n := int(m.ActualLength)
	switch {
	case u.Type == device.Isochronous && len(m.ISO) == len(u.ISO):
		off, packed := 0, 0
		n = 0
		for i := range u.ISO {
			p := &u.ISO[i]
			d := m.ISO[i]
			p.Actual, p.Status = int(d.ActualLength), ErrnoToStatus(d.Status)
			if p.Actual > p.Length {
				p.Actual, p.Status = p.Length, device.StatusBabble
			}
			if u.In() {
				if packed+p.Actual > len(m.Data) {
					return u.Fail(fmt.Errorf("%w: iso data shorter than its descriptors", ErrProtocol))
				}
				copy(u.Data[off:off+p.Actual], m.Data[packed:packed+p.Actual])
				packed += p.Actual
			}
			off += p.Length
			n += p.Actual
		}
	case u.In():
		n = copy(u.Data, m.Data)
	default:
		n = min(n, len(u.Data))
	}
	return u.Complete(st, n)
}

// unlink asks the server to cancel seq. It returns true when the URB was cancelled, or
// false with *m set when its completion arrived first.
func (r *Remote) unlink(seq uint32, c *call, m *Message) bool {
	uc := &call{ch: make(chan Message, 1)}
	r.mu.Lock()
	r.seq++
	useq := r.seq
	r.pending[useq] = uc
	r.mu.Unlock()
	req := Message{Header: Header{Command: CmdUnlink, SeqNum: useq, DevID: r.info.DevID(), UnlinkSeqNum: seq}}
	r.wmu.Lock()
	_, _ = r.conn.Write(req.Append(nil))
	r.wmu.Unlock()
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case *m = <-c.ch:
		r.forget(useq)
		return false
	case <-uc.ch:
		r.forget(seq)
		return true
	case <-r.done:
	case <-t.C:
	}
	r.forget(seq)
	r.forget(useq)
	return true
}
