package usbip

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sort"
	"sync"

	"github.com/shadowless-dev/shadowless/device"
)

// ErrBusy is returned when a client imports a device another client is using.
var ErrBusy = errors.New("usbip: device already imported")

// Server exports devices over USB/IP: clients list them (OP_REQ_DEVLIST) and import one
// per connection (OP_REQ_IMPORT), then submit and unlink URBs. USB/IP has no
// authentication or encryption; listen on loopback or inside an authenticated tunnel.
type Server struct {
	log    *slog.Logger
	policy *device.Policy

	mu   sync.Mutex
	devs map[string]*export
	next uint32
}

type export struct {
	info DeviceInfo
	dev  device.Device
	busy bool
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the server's logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithPolicy checks each device against p when it is imported.
func WithPolicy(p device.Policy) Option { return func(s *Server) { s.policy = &p } }

// NewServer returns a server exporting nothing yet.
func NewServer(opts ...Option) *Server {
	s := &Server{log: slog.New(slog.DiscardHandler), devs: map[string]*export{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Export adds dev under a new bus id ("1-1", "1-2", ...) and returns that id.
func (s *Server) Export(dev device.Device) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	busid := fmt.Sprintf("1-%d", s.next)
	d := dev.Descriptors()
	info := DeviceInfo{Path: "/sys/devices/shadowless/usb1/" + busid, BusID: busid, BusNum: 1, DevNum: s.next + 1,
		Speed: d.Speed, Vendor: d.Device.Vendor, Product: d.Device.Product, Release: d.Device.Release,
		Class: d.Device.Class, SubClass: d.Device.SubClass, Protocol: d.Device.Protocol,
		ConfigurationValue: dev.Configuration(), NumConfigurations: d.Device.NumConfigurations}
	for _, i := range device.ActiveEndpoints(d, dev.Configuration(), dev.AltSetting) {
		info.Interfaces = append(info.Interfaces, InterfaceInfo{i.Class, i.SubClass, i.Protocol})
	}
	info.NumInterfaces = uint8(len(info.Interfaces))
	s.devs[busid] = &export{info: info, dev: dev}
	return busid
}

// Unexport removes a device from the server (a session using it keeps running until the
// device or the client goes away).
func (s *Server) Unexport(busid string) {
	s.mu.Lock()
	delete(s.devs, busid)
	s.mu.Unlock()
}

// pruneLocked forgets devices that went away (device.Watcher says so).
func (s *Server) pruneLocked() {
	for id, e := range s.devs {
		if w, ok := e.dev.(device.Watcher); ok {
			select {
			case <-w.Done():
				delete(s.devs, id)
			default:
			}
		}
	}
}

// Devices lists the exported devices that are still present.
func (s *Server) Devices() []DeviceInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	out := make([]DeviceInfo, 0, len(s.devs))
	for _, e := range s.devs {
		out = append(out, e.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DevNum < out[j].DevNum })
	return out
}

// Serve accepts connections on ln until ctx is done, serving each in its own goroutine.
// It returns after every connection has ended.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("usbip: accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.ServeConn(ctx, c); err != nil && !errors.Is(err, io.EOF) && ctx.Err() == nil {
				s.log.Info("usbip: connection ended", "remote", c.RemoteAddr().String(), "err", err)
			}
		}()
	}
}

// ServeConn serves one client connection: a device list, or an import followed by the URB
// traffic of that device until the client disconnects, ctx ends, the client breaks the
// protocol (an error wrapping ErrProtocol) or the device goes away. conn is closed on
// return and the device is released (not closed).
func (s *Server) ServeConn(ctx context.Context, conn io.ReadWriteCloser) error {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	var hb [opHeaderLen]byte
	if _, err := io.ReadFull(conn, hb[:]); err != nil {
		return fmt.Errorf("usbip: reading request: %w", err)
	}
	h, _ := ParseOpHeader(hb[:])
	switch h.Code {
	case OpReqDevlist:
		devs := s.Devices()
		b := OpHeader{Version: Version, Code: OpRepDevlist}.append(nil)
		b = binary.BigEndian.AppendUint32(b, uint32(len(devs)))
		for _, d := range devs {
			b = d.append(b, true)
		}
		_, err := conn.Write(b)
		return err
	case OpReqImport:
		var busid [32]byte
		if _, err := io.ReadFull(conn, busid[:]); err != nil {
			return fmt.Errorf("usbip: reading import request: %w", err)
		}
		e, err := s.claim(cstring(busid[:]))
		if err != nil {
			_, _ = conn.Write(OpHeader{Version: Version, Code: OpRepImport, Status: 1}.append(nil))
			return err
		}
		defer s.release(e)
		info := e.info
		info.ConfigurationValue = e.dev.Configuration()
		if _, err := conn.Write(info.append(OpHeader{Version: Version, Code: OpRepImport}.append(nil), false)); err != nil {
			return err
		}
		s.log.Info("usbip: device imported", "busid", info.BusID)
		return newSession(ctx, conn, e.dev, s.log).run()
	}
	return fmt.Errorf("%w: unknown operation %#04x (version %#04x)", ErrProtocol, h.Code, h.Version)
}

func (s *Server) claim(busid string) (*export, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	e := s.devs[busid]
	if e == nil {
		return nil, fmt.Errorf("usbip: no device %q: %w", busid, device.ErrNoDevice)
	}
	if e.busy {
		return nil, fmt.Errorf("usbip: %s: %w", busid, ErrBusy)
	}
	if s.policy != nil {
		if err := s.policy.Check(device.IdentityOf(e.dev.Descriptors(), e.dev.Configuration())); err != nil {
			return nil, err
		}
	}
	e.busy = true
	return e, nil
}

func (s *Server) release(e *export) {
	s.mu.Lock()
	e.busy = false
	s.mu.Unlock()
}

// session is the URB phase of one imported device.
type session struct {
	conn io.ReadWriteCloser
	dev  device.Device
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	wmu sync.Mutex
	mu  sync.Mutex
	// inflight maps seqnum to the cancel func and unlink mark of a submitted URB.
	inflight map[uint32]*inflight
	workers  map[uint32]chan func()
	gone     bool
}

type inflight struct {
	cancel   context.CancelFunc
	unlinked bool
}

func newSession(ctx context.Context, conn io.ReadWriteCloser, dev device.Device, log *slog.Logger) *session {
	s := &session{conn: conn, dev: dev, log: log, inflight: map[uint32]*inflight{}, workers: map[uint32]chan func(){}}
	s.ctx, s.cancel = context.WithCancel(ctx)
	return s
}

func (s *session) run() error {
	defer s.wg.Wait()
	defer s.cancel()
	if wd, ok := s.dev.(device.Watcher); ok {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			select {
			case <-wd.Done():
				s.markGone()
			case <-s.ctx.Done():
			}
		}()
	}
	var dec Decoder
	buf := make([]byte, 256<<10)
	for {
		n, err := s.conn.Read(buf)
		if n > 0 {
			dec.Feed(buf[:n])
			for {
				m, ok, derr := dec.Next()
				if derr != nil {
					return derr
				}
				if !ok {
					break
				}
				s.handle(m)
			}
		}
		if err != nil {
			if s.isGone() {
				return fmt.Errorf("usbip: device went away: %w", device.ErrNoDevice)
			}
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			return fmt.Errorf("usbip: read: %w", err)
		}
	}
}

func (s *session) markGone() {
	s.mu.Lock()
	s.gone = true
	s.mu.Unlock()
	// USB/IP has no disconnect message: closing the connection is how a server says the
	// device is gone (vhci-hcd then reports the port disconnected).
	s.conn.Close()
}

func (s *session) isGone() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gone
}

func (s *session) send(m Message) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_, _ = s.conn.Write(m.Append(nil))
}

func (s *session) handle(m Message) {
	switch m.Command {
	case CmdUnlink:
		s.mu.Lock()
		f := s.inflight[m.UnlinkSeqNum]
		if f != nil {
			f.unlinked = true
		}
		s.mu.Unlock()
		status := int32(0)
		if f != nil {
			f.cancel()
			status = -errnoECONNRESET
		}
		s.send(Message{Header: Header{Command: RetUnlink, SeqNum: m.SeqNum, Status: status}})
	case CmdSubmit:
		ctx, cancel := context.WithCancel(s.ctx)
		f := &inflight{cancel: cancel}
		s.mu.Lock()
		s.inflight[m.SeqNum] = f
		s.mu.Unlock()
		s.enqueue(m.EP<<1|m.Direction, func() { s.submit(ctx, m, f) })
	}
}

func (s *session) enqueue(key uint32, job func()) {
	s.mu.Lock()
	ch, ok := s.workers[key]
	if !ok {
		ch = make(chan func(), 256)
		s.workers[key] = ch
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for {
				select {
				case j := <-ch:
					j()
				case <-s.ctx.Done():
					return
				}
			}
		}()
	}
	s.mu.Unlock()
	select {
	case ch <- job:
	case <-s.ctx.Done():
	}
}

func (s *session) endpointType(addr uint8) (device.TransferType, bool) {
	if addr&0x0f == 0 {
		return device.Control, true
	}
	for _, i := range device.ActiveEndpoints(s.dev.Descriptors(), s.dev.Configuration(), s.dev.AltSetting) {
		for _, e := range i.Endpoints {
			if e.Address == addr {
				return e.Type(), true
			}
		}
	}
	return 0, false
}

func (s *session) submit(ctx context.Context, m Message, f *inflight) {
	defer func() {
		s.mu.Lock()
		delete(s.inflight, m.SeqNum)
		s.mu.Unlock()
		f.cancel()
	}()
	in := m.Direction == DirIn
	addr := uint8(m.EP)
	if in {
		addr |= device.DirIn
	}
	u := &device.URB{ID: uint64(m.SeqNum), Endpoint: addr}
	typ, ok := s.endpointType(addr)
	if !ok {
		u.Status = device.StatusInvalid
	} else {
		u.Type = typ
		if in {
			u.Data = make([]byte, m.TransferLength)
		} else {
			u.Data = m.Data
		}
		if typ == device.Isochronous {
			for _, d := range m.ISO {
				u.ISO = append(u.ISO, device.ISOPacket{Length: int(d.Length)})
			}
		}
		if typ == device.Control {
			u.Endpoint = 0
			u.Setup, _ = device.ParseSetup(m.Setup[:])
		}
		s.perform(ctx, u)
	}
	s.mu.Lock()
	unlinked := f.unlinked
	s.mu.Unlock()
	if unlinked {
		return // RET_UNLINK answered for it
	}
	r := Message{Header: Header{Command: RetSubmit, SeqNum: m.SeqNum, Status: StatusToErrno(u.Status),
		ActualLength: int32(u.Actual), NumPackets: m.NumPackets, StartFrame: m.StartFrame}}
	if typ == device.Isochronous && len(u.ISO) > 0 {
		off := 0
		var packed []byte
		for _, p := range u.ISO {
			d := ISODesc{Offset: uint32(off), Length: uint32(p.Length), ActualLength: uint32(p.Actual), Status: StatusToErrno(p.Status)}
			if p.Status != device.StatusOK {
				r.ErrorCount++
			}
			if in {
				packed = append(packed, u.Data[off:off+p.Actual]...)
			}
			r.ISO = append(r.ISO, d)
			off += p.Length
		}
		if in {
			r.Data = packed
			r.ActualLength = int32(len(packed))
		}
	} else if in {
		r.Data = u.Data[:u.Actual]
	}
	s.send(r)
}

// perform runs the URB, turning the standard requests that change device state into the
// device's own methods, as the Linux stub driver does.
func (s *session) perform(ctx context.Context, u *device.URB) {
	var err error
	st := u.Setup
	switch {
	case u.Type == device.Control && st.RequestType == device.RecipientDevice && st.Request == device.ReqSetConfiguration:
		err = s.dev.SetConfiguration(ctx, uint8(st.Value))
		u.Status = device.StatusOf(err)
	case u.Type == device.Control && st.RequestType == device.RecipientIface && st.Request == device.ReqSetInterface:
		err = s.dev.SetAltSetting(ctx, uint8(st.Index), uint8(st.Value))
		u.Status = device.StatusOf(err)
	case u.Type == device.Control && st.RequestType == 0x23 && st.Request == device.ReqSetFeature && st.Value == 4: // hub port reset
		err = s.dev.Reset(ctx)
		u.Status = device.StatusOf(err)
	default:
		err = s.dev.Submit(ctx, u)
	}
	if errors.Is(err, device.ErrNoDevice) {
		u.Status = device.StatusIOError
		s.markGone()
	}
}
