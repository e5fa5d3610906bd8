package usbredir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shadowless-dev/shadowless/device"
)

// Remote is the usb-guest side: the device offered by a usbredir usb-host at the other end
// of a connection, usable as a device.Device (and device.Pipeliner, device.Watcher).
type Remote struct {
	o   options
	w   *wire
	rw  io.ReadWriteCloser
	log func(string, ...any)

	nextID atomic.Uint64

	mu        sync.Mutex
	pending   map[uint64]chan Packet
	connect   *DeviceConnect
	ifInfo    InterfaceInfo
	epInfo    EPInfo
	config    uint8
	alts      map[uint8]uint8
	intr      map[uint8]*queue // interrupt receiving, per IN endpoint
	iso       map[uint8]*queue // iso IN stream, per endpoint
	isoOut    map[uint8]bool   // iso OUT stream started
	running   map[uint8]bool   // interrupt receiving or iso IN stream started
	bulkRecv  map[uint8]*bulkBuffer
	connected chan struct{}
	desc      device.Descriptors

	done     chan struct{}
	doneOnce sync.Once
	err      error
	readDone chan struct{}
}

// bulkBuffer holds data that bulk receiving delivered ahead of the URBs asking for it.
type bulkBuffer struct {
	mu      sync.Mutex
	changed chan struct{}
	data    []byte
	status  device.Status // a non-OK status ends the stream
}

func (b *bulkBuffer) push(m BufferedBulkPacket) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.data = append(b.data, m.Data...)
	if m.Status != 0 {
		b.status = device.Status(m.Status)
	}
	close(b.changed)
	b.changed = make(chan struct{})
}

// queue buffers packets the usb-host sends unasked (interrupt, iso, buffered bulk).
type queue struct {
	ch chan Packet
}

// NewRemote runs the usb-guest side on conn: it exchanges hello, waits for the usb-host's
// device (ep_info, interface_info, device_connect), applies the policy given with
// WithPolicy (rejecting a denied device with filter_reject and returning an error wrapping
// device.ErrDenied), and reads the device's descriptors. Close the Remote to end the
// session; conn is closed with it.
func NewRemote(ctx context.Context, conn io.ReadWriteCloser, opts ...Option) (*Remote, error) {
	o := buildOptions(opts)
	r := &Remote{o: o, w: newWire(conn, o.caps, o.log), rw: conn, pending: map[uint64]chan Packet{},
		alts: map[uint8]uint8{}, intr: map[uint8]*queue{}, iso: map[uint8]*queue{}, isoOut: map[uint8]bool{}, running: map[uint8]bool{}, bulkRecv: map[uint8]*bulkBuffer{},
		connected: make(chan struct{}), done: make(chan struct{}), readDone: make(chan struct{})}
	r.nextID.Store(1 << 33) // exercise 64-bit ids, as QEMU does
	go r.readLoop()
	if err := r.w.sendHello(Hello{Version: o.version, Caps: o.caps}); err != nil {
		return nil, r.closeWith(err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	select {
	case <-r.connected:
	case <-r.done:
		return nil, r.closeWith(r.err)
	case <-ctx.Done():
		return nil, r.closeWith(fmt.Errorf("usbredir: waiting for the device: %w", ctx.Err()))
	}
	if o.policy != nil {
		if err := o.policy.Check(r.identity()); err != nil {
			if r.w.negotiated().Has(CapFilter) {
				_ = r.w.send(0, FilterReject{})
			}
			return nil, r.closeWith(err)
		}
	}
	if err := r.fetchDescriptors(ctx); err != nil {
		return nil, r.closeWith(err)
	}
	return r, nil
}

func (r *Remote) closeWith(err error) error {
	r.rw.Close()
	<-r.readDone
	return err
}

// identity builds the filter identity from device_connect and interface_info.
func (r *Remote) identity() device.Identity {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.connect
	id := device.Identity{Class: c.Class, SubClass: c.SubClass, Protocol: c.Protocol, Vendor: c.VendorID, Product: c.ProductID, Version: c.DeviceVersion}
	for i := 0; i < int(r.ifInfo.Count); i++ {
		id.Interfaces = append(id.Interfaces, device.InterfaceClass{Number: r.ifInfo.Number[i], Class: r.ifInfo.Class[i], SubClass: r.ifInfo.SubClass[i], Protocol: r.ifInfo.Protocol[i]})
	}
	return id
}

func (r *Remote) readLoop() {
	defer close(r.readDone)
	err := r.w.readLoop(r.handle)
	if errors.Is(err, io.EOF) || errors.Is(err, errDisconnected) {
		err = device.ErrNoDevice
	}
	r.finish(err)
}

var errDisconnected = errors.New("usbredir: device disconnected by the usb-host")

// finish fails everything pending and marks the device gone.
func (r *Remote) finish(err error) {
	r.doneOnce.Do(func() {
		r.mu.Lock()
		r.err = err
		r.mu.Unlock()
		close(r.done)
	})
}

func (r *Remote) handle(p Packet) error {
	switch m := p.Msg.(type) {
	case Hello:
		if r.o.policy != nil && len(r.o.policy.Filter.Rules) > 0 && r.w.negotiated().Has(CapFilter) {
			return r.w.send(0, FilterFilter{Rules: r.o.policy.Filter.String()})
		}
	case EPInfo:
		r.mu.Lock()
		r.epInfo = m
		r.mu.Unlock()
	case InterfaceInfo:
		r.mu.Lock()
		r.ifInfo = m
		r.mu.Unlock()
	case DeviceConnect:
		r.mu.Lock()
		already := r.connect != nil
		r.connect = &m
		r.mu.Unlock()
		if already {
			return fmt.Errorf("%w: second device_connect", ErrProtocol)
		}
		close(r.connected)
	case DeviceDisconnect:
		if r.w.negotiated().Has(CapDeviceDisconnectAck) {
			_ = r.w.send(0, DeviceDisconnectAck{})
		}
		return errDisconnected
	case InterruptPacket:
		if m.Endpoint&device.DirIn != 0 {
			r.enqueue(r.intr, m.Endpoint, p)
			return nil
		}
		r.reply(p)
	case ISOPacket:
		r.enqueue(r.iso, m.Endpoint, p)
	case BufferedBulkPacket:
		r.mu.Lock()
		bb := r.bulkRecv[m.Endpoint]
		r.mu.Unlock()
		if bb == nil {
			return fmt.Errorf("%w: buffered bulk packet on %#02x without bulk receiving", ErrProtocol, m.Endpoint)
		}
		bb.push(m)
	case ControlPacket, BulkPacket, ConfigurationStatus, AltSettingStatus, InterruptReceivingStatus,
		ISOStreamStatus, BulkStreamsStatus, BulkReceivingStatus:
		r.reply(p)
	case FilterFilter, FilterReject, DeviceDisconnectAck:
	default:
		return fmt.Errorf("%w: usb-host sent %T, which only a usb-guest sends", ErrProtocol, m)
	}
	return nil
}

func (r *Remote) enqueue(qs map[uint8]*queue, ep uint8, p Packet) {
	r.mu.Lock()
	q := qs[ep]
	r.mu.Unlock()
	if q == nil {
		return
	}
	select {
	case q.ch <- p:
	default: // overrun: the oldest data is the least useful, but dropping the newest is simpler and bounded
	}
}

func (r *Remote) reply(p Packet) {
	r.mu.Lock()
	ch := r.pending[p.ID]
	delete(r.pending, p.ID)
	r.mu.Unlock()
	if ch != nil {
		ch <- p
	}
}

// request sends m with a fresh id and returns the channel its reply arrives on.
func (r *Remote) request(m Message) (uint64, chan Packet, error) {
	id := r.newID()
	ch := make(chan Packet, 1)
	r.mu.Lock()
	r.pending[id] = ch
	r.mu.Unlock()
	if err := r.w.send(id, m); err != nil {
		r.forget(id)
		return 0, nil, r.goneErr(err)
	}
	return id, ch, nil
}

// call sends m and waits for its reply: the round trip of every control-like request.
func (r *Remote) call(ctx context.Context, m Message) (Packet, error) {
	id, ch, err := r.request(m)
	if err != nil {
		return Packet{}, err
	}
	return r.wait(ctx, id, ch)
}

func (r *Remote) forget(id uint64) {
	r.mu.Lock()
	delete(r.pending, id)
	r.mu.Unlock()
}

func (r *Remote) goneErr(err error) error {
	select {
	case <-r.done:
		r.mu.Lock()
		defer r.mu.Unlock()
		if errors.Is(r.err, device.ErrNoDevice) {
			return r.err
		}
		return fmt.Errorf("%w: %w", device.ErrNoDevice, r.err)
	default:
		return err
	}
}

// wait waits for the reply to id; when ctx ends first it cancels the packet and waits a
// little for the usb-host to confirm.
func (r *Remote) wait(ctx context.Context, id uint64, ch chan Packet) (Packet, error) {
	select {
	case p := <-ch:
		return p, nil
	case <-r.done:
		r.forget(id)
		return Packet{}, r.goneErr(device.ErrNoDevice)
	case <-ctx.Done():
	}
	_ = r.w.send(id, CancelDataPacket{})
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case p := <-ch:
		return p, nil
	case <-r.done:
		r.forget(id)
		return Packet{}, r.goneErr(device.ErrNoDevice)
	case <-t.C:
		r.forget(id)
		return Packet{}, device.ErrCancelled
	}
}

// newID returns a fresh packet id, 64-bit when both sides support it.
func (r *Remote) newID() uint64 {
	id := r.nextID.Add(1)
	if !r.w.negotiated().Has(Cap64BitIDs) {
		id &= 0xffffffff
	}
	return id
}

// Done is closed when the device was disconnected or the connection ended.
func (r *Remote) Done() <-chan struct{} { return r.done }

// Err returns why the session ended (nil while it runs).
func (r *Remote) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close ends the session and closes the connection; pending URBs fail with ErrNoDevice.
func (r *Remote) Close() error {
	r.rw.Close()
	<-r.readDone
	return nil
}

// Connect returns the device_connect information the usb-host sent.
func (r *Remote) Connect() DeviceConnect {
	r.mu.Lock()
	defer r.mu.Unlock()
	return *r.connect
}

// Descriptors implements device.Device (read once at connect time).
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

func (r *Remote) fetchDescriptors(ctx context.Context) error {
	d, err := device.ReadDescriptors(ctx, r, device.Speed(r.Connect().Speed))
	if err != nil {
		return fmt.Errorf("usbredir: %w", err)
	}
	p, err := r.call(ctx, GetConfiguration{})
	if err != nil {
		return err
	}
	cs, ok := p.Msg.(ConfigurationStatus)
	if !ok {
		return fmt.Errorf("%w: get_configuration answered with %T", ErrProtocol, p.Msg)
	}
	r.mu.Lock()
	r.desc, r.config = d, cs.Configuration
	r.mu.Unlock()
	return nil
}

// SetConfiguration implements device.Device with a set_configuration packet.
func (r *Remote) SetConfiguration(ctx context.Context, value uint8) error {
	p, err := r.call(ctx, SetConfiguration{Configuration: value})
	if err != nil {
		return err
	}
	cs, ok := p.Msg.(ConfigurationStatus)
	if !ok {
		return fmt.Errorf("%w: set_configuration answered with %T", ErrProtocol, p.Msg)
	}
	if err := device.Status(cs.Status).Err(); err != nil {
		return fmt.Errorf("usbredir: set configuration %d: %w", value, err)
	}
	r.mu.Lock()
	r.config = cs.Configuration
	r.alts = map[uint8]uint8{}
	r.intr, r.iso, r.isoOut, r.running, r.bulkRecv = map[uint8]*queue{}, map[uint8]*queue{}, map[uint8]bool{}, map[uint8]bool{}, map[uint8]*bulkBuffer{}
	r.mu.Unlock()
	return nil
}

// SetAltSetting implements device.Device with a set_alt_setting packet.
func (r *Remote) SetAltSetting(ctx context.Context, iface, alt uint8) error {
	p, err := r.call(ctx, SetAltSetting{Interface: iface, Alt: alt})
	if err != nil {
		return err
	}
	as, ok := p.Msg.(AltSettingStatus)
	if !ok {
		return fmt.Errorf("%w: set_alt_setting answered with %T", ErrProtocol, p.Msg)
	}
	if err := device.Status(as.Status).Err(); err != nil {
		return fmt.Errorf("usbredir: set interface %d alt %d: %w", iface, alt, err)
	}
	r.mu.Lock()
	r.alts[iface] = as.Alt
	r.mu.Unlock()
	return nil
}

// Reset implements device.Device: a reset packet, then a get_configuration round trip so
// that the reset has been performed when Reset returns.
func (r *Remote) Reset(ctx context.Context) error {
	if err := r.w.send(0, Reset{}); err != nil {
		return r.goneErr(err)
	}
	r.mu.Lock()
	r.intr, r.iso, r.isoOut, r.running, r.bulkRecv = map[uint8]*queue{}, map[uint8]*queue{}, map[uint8]bool{}, map[uint8]bool{}, map[uint8]*bulkBuffer{}
	r.mu.Unlock()
	_, err := r.call(ctx, GetConfiguration{})
	return err
}

// EPType returns the transfer type of an endpoint as the usb-host described it.
func (r *Remote) EPType(ep uint8) (device.TransferType, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.epInfo.TransferType[EPIndex(ep)]
	return device.TransferType(t), t != 255
}

// StartBulkReceiving asks the usb-host to read the bulk IN endpoint ep continuously, in
// transfers of bytesPerTransfer with numTransfers in flight, and to stream the data ahead
// (usbredir "buffered bulk"). Later bulk IN URBs on ep are served from that stream, which
// suits serial adapters and other devices that send data unasked; it must not be used on
// request/response endpoints such as mass storage.
func (r *Remote) StartBulkReceiving(ctx context.Context, ep uint8, bytesPerTransfer uint32, numTransfers uint8) error {
	if !r.w.negotiated().Has(CapBulkReceiving) {
		return fmt.Errorf("usbredir: the usb-host lacks bulk receiving: %w", device.ErrInvalid)
	}
	r.mu.Lock()
	if r.bulkRecv[ep] == nil {
		r.bulkRecv[ep] = &bulkBuffer{changed: make(chan struct{})}
	}
	r.mu.Unlock()
	p, err := r.call(ctx, StartBulkReceiving{Endpoint: ep, BytesPerTransfer: bytesPerTransfer, NumTransfers: numTransfers})
	if err != nil {
		return err
	}
	if st, ok := p.Msg.(BulkReceivingStatus); !ok || st.Status != 0 {
		r.mu.Lock()
		delete(r.bulkRecv, ep)
		r.mu.Unlock()
		return fmt.Errorf("usbredir: bulk receiving on %#02x refused: %w", ep, device.ErrInvalid)
	}
	return nil
}

func (r *Remote) bulkFromBuffer(ctx context.Context, u *device.URB, b *bulkBuffer) error {
	for {
		b.mu.Lock()
		if len(b.data) > 0 {
			n := copy(u.Data, b.data)
			b.data = b.data[n:]
			b.mu.Unlock()
			return u.Complete(device.StatusOK, n)
		}
		if b.status != device.StatusOK {
			st := b.status
			b.mu.Unlock()
			return u.Complete(st, 0)
		}
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return u.Complete(device.StatusCancelled, 0)
		case <-r.done:
			return u.Fail(r.goneErr(device.ErrNoDevice))
		}
	}
}

// Submit implements device.Device.
func (r *Remote) Submit(ctx context.Context, u *device.URB) error {
	if u.Type == device.Bulk && u.In() {
		r.mu.Lock()
		b := r.bulkRecv[u.Endpoint]
		r.mu.Unlock()
		if b != nil {
			return r.bulkFromBuffer(ctx, u, b)
		}
	}
	switch {
	case u.Type == device.Interrupt && u.In():
		return r.interruptIn(ctx, u)
	case u.Type == device.Isochronous:
		return r.isoTransfer(ctx, u)
	}
	id, ch, err := r.start(u)
	if err != nil {
		return u.Fail(err)
	}
	return r.finishURB(ctx, u, id, ch)
}

// SubmitAll implements device.Pipeliner: every request is sent before any reply is
// awaited, so the link carries several URBs at once.
func (r *Remote) SubmitAll(ctx context.Context, urbs []*device.URB) error {
	type sent struct {
		id uint64
		ch chan Packet
	}
	ss := make([]sent, len(urbs))
	var firstErr error
	// Validate everything before sending anything, so a bad URB cannot leave the device
	// half-way through a sequence.
	for _, u := range urbs {
		if (u.Type == device.Interrupt && u.In()) || u.Type == device.Isochronous {
			return u.Fail(fmt.Errorf("usbredir: SubmitAll supports control, bulk and interrupt OUT only: %w", device.ErrInvalid))
		}
		if err := r.check(u); err != nil {
			return u.Fail(err)
		}
	}
	for i, u := range urbs {
		id, ch, err := r.start(u)
		if err != nil {
			u.Fail(err)
			firstErr = err
			ss = ss[:i]
			break
		}
		ss[i] = sent{id, ch}
	}
	for i, s := range ss {
		if err := r.finishURB(ctx, urbs[i], s.id, s.ch); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// check reports URBs the negotiated protocol cannot carry.
func (r *Remote) check(u *device.URB) error {
	if u.Type == device.Bulk && len(u.Data) > 0xffff && !r.w.negotiated().Has(Cap32BitBulkLength) {
		return fmt.Errorf("usbredir: bulk transfer of %d bytes needs 32-bit bulk lengths: %w", len(u.Data), device.ErrInvalid)
	}
	if len(u.Data) > MaxDataLen {
		return fmt.Errorf("usbredir: transfer of %d bytes exceeds %d: %w", len(u.Data), MaxDataLen, device.ErrInvalid)
	}
	return nil
}

func (r *Remote) start(u *device.URB) (uint64, chan Packet, error) {
	switch u.Type {
	case device.Control:
		m := ControlPacket{Endpoint: u.Setup.RequestType & device.DirIn, Request: u.Setup.Request, RequestType: u.Setup.RequestType,
			Value: u.Setup.Value, Index: u.Setup.Index, Length: u.Setup.Length}
		if !u.Setup.In() {
			m.Data = u.Data
			m.Length = uint16(len(u.Data))
		}
		return r.request(m)
	case device.Bulk:
		if err := r.check(u); err != nil {
			return 0, nil, err
		}
		m := BulkPacket{Endpoint: u.Endpoint, Length: uint32(len(u.Data)), StreamID: u.StreamID}
		if !u.In() {
			m.Data = u.Data
		}
		return r.request(m)
	case device.Interrupt:
		return r.request(InterruptPacket{Endpoint: u.Endpoint, Length: uint16(len(u.Data)), Data: u.Data})
	}
	return 0, nil, fmt.Errorf("usbredir: transfer type %v: %w", u.Type, device.ErrInvalid)
}

func (r *Remote) finishURB(ctx context.Context, u *device.URB, id uint64, ch chan Packet) error {
	p, err := r.wait(ctx, id, ch)
	if err != nil {
		return u.Fail(err)
	}
	var st uint8
	var n int
	var data []byte
	switch m := p.Msg.(type) {
	case ControlPacket:
		st, n, data = m.Status, int(m.Length), m.Data
	case BulkPacket:
		st, n, data = m.Status, int(m.Length), m.Data
	case InterruptPacket:
		st, n, data = m.Status, int(m.Length), m.Data
	default:
		return u.Fail(fmt.Errorf("%w: transfer answered with %T", ErrProtocol, p.Msg))
	}
	if u.In() {
		n = copy(u.Data, data)
	} else if n > len(u.Data) {
		n = len(u.Data)
	}
	return u.Complete(device.Status(st), n)
}

func (r *Remote) interruptIn(ctx context.Context, u *device.URB) error {
	r.mu.Lock()
	q := r.intr[u.Endpoint]
	if q == nil {
		q = &queue{ch: make(chan Packet, 256)}
		r.intr[u.Endpoint] = q
	}
	r.mu.Unlock()
	if !r.started(u.Endpoint) {
		p, err := r.call(ctx, StartInterruptReceiving{Endpoint: u.Endpoint})
		if err != nil {
			return u.Fail(err)
		}
		if st, ok := p.Msg.(InterruptReceivingStatus); !ok || st.Status != 0 {
			r.mu.Lock()
			delete(r.intr, u.Endpoint)
			delete(r.running, u.Endpoint)
			r.mu.Unlock()
			return u.Complete(device.StatusInvalid, 0)
		}
	}
	select {
	case p := <-q.ch:
		m := p.Msg.(InterruptPacket)
		n := copy(u.Data, m.Data)
		st := device.Status(m.Status)
		if n < len(m.Data) && st == device.StatusOK {
			st = device.StatusBabble
		}
		return u.Complete(st, n)
	case <-ctx.Done():
		return u.Complete(device.StatusCancelled, 0)
	case <-r.done:
		return u.Fail(r.goneErr(device.ErrNoDevice))
	}
}

// started marks q's stream as started and reports whether it already was.
func (r *Remote) started(ep uint8) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running[ep] {
		return true
	}
	r.running[ep] = true
	return false
}

func (r *Remote) isoTransfer(ctx context.Context, u *device.URB) error {
	if !u.In() {
		r.mu.Lock()
		startedOut := r.isoOut[u.Endpoint]
		r.isoOut[u.Endpoint] = true
		r.mu.Unlock()
		if !startedOut {
			if err := r.startISO(ctx, u.Endpoint, len(u.ISO)); err != nil {
				return u.Fail(err)
			}
		}
		off, total := 0, 0
		for i := range u.ISO {
			p := &u.ISO[i]
			if err := r.w.send(r.newID(), ISOPacket{Endpoint: u.Endpoint, Length: uint16(p.Length), Data: u.Data[off : off+p.Length]}); err != nil {
				return u.Fail(r.goneErr(err))
			}
			p.Actual, p.Status = p.Length, device.StatusOK
			off += p.Length
			total += p.Length
		}
		return u.Complete(device.StatusOK, total)
	}
	r.mu.Lock()
	q := r.iso[u.Endpoint]
	if q == nil {
		q = &queue{ch: make(chan Packet, 1024)}
		r.iso[u.Endpoint] = q
	}
	r.mu.Unlock()
	if !r.started(u.Endpoint) {
		if err := r.startISO(ctx, u.Endpoint, len(u.ISO)); err != nil {
			return u.Fail(err)
		}
	}
	off, total := 0, 0
	for i := range u.ISO {
		pk := &u.ISO[i]
		select {
		case p := <-q.ch:
			m := p.Msg.(ISOPacket)
			n := copy(u.Data[off:off+pk.Length], m.Data)
			pk.Actual, pk.Status = n, device.Status(m.Status)
			if n < len(m.Data) && pk.Status == device.StatusOK {
				pk.Status = device.StatusBabble
			}
			total += n
		case <-ctx.Done():
			return u.Complete(device.StatusCancelled, total)
		case <-r.done:
			return u.Fail(r.goneErr(device.ErrNoDevice))
		}
		off += pk.Length
	}
	return u.Complete(device.StatusOK, total)
}

func (r *Remote) startISO(ctx context.Context, ep uint8, pkts int) error {
	p, err := r.call(ctx, StartISOStream{Endpoint: ep, PacketsPerURB: uint8(max(1, min(pkts, 32))), NumURBs: 3})
	if err != nil {
		return err
	}
	if st, ok := p.Msg.(ISOStreamStatus); !ok || st.Status != 0 {
		return fmt.Errorf("usbredir: start iso stream on %#02x refused: %w", ep, device.ErrInvalid)
	}
	return nil
}
