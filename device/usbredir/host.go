package usbredir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shadowless-dev/shadowless/device"
)

// ErrRejected is returned by Serve when the usb-guest rejected the device (filter_reject,
// or its filter_filter rules deny it).
var ErrRejected = errors.New("usbredir: device rejected by the peer")

// Stats counts what a usb-host side served. All fields are safe to read concurrently.
type Stats struct {
	Control          atomic.Int64 // control transfers completed
	GetDescriptor    atomic.Int64 // of which standard GET_DESCRIPTOR
	Bulk             atomic.Int64
	BulkBytes        atomic.Int64
	Interrupt        atomic.Int64 // interrupt packets sent or completed
	InterruptStarts  atomic.Int64 // start_interrupt_receiving packets served
	ISO              atomic.Int64 // iso packets sent or received
	SetConfiguration atomic.Int64 // set_configuration packets and SET_CONFIGURATION requests
	SetAltSetting    atomic.Int64
	Reset            atomic.Int64
	Cancelled        atomic.Int64
}

// Option configures either role.
type Option func(*options)

type options struct {
	log     *slog.Logger
	stats   *Stats
	caps    Caps
	version string
	policy  *device.Policy
	hook    func(device.Setup, device.Status)
	timeout time.Duration
}

func buildOptions(opts []Option) options {
	o := options{log: slog.New(slog.DiscardHandler), caps: AllCaps, version: Version, timeout: 10 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithStats makes the usb-host side count what it serves into s.
func WithStats(s *Stats) Option { return func(o *options) { o.stats = s } }

// WithCaps overrides the announced capabilities (default AllCaps), e.g. to test a peer
// without 64-bit ids.
func WithCaps(c Caps) Option { return func(o *options) { o.caps = c } }

// WithPolicy makes the side check the device against p: the usb-guest rejects a denied
// device with filter_reject and announces p's rules with filter_filter; the usb-host
// refuses to connect a denied device.
func WithPolicy(p device.Policy) Option { return func(o *options) { o.policy = &p } }

// WithControlHook calls f after each control transfer the usb-host side served.
func WithControlHook(f func(device.Setup, device.Status)) Option {
	return func(o *options) { o.hook = f }
}

// WithConnectTimeout bounds how long NewRemote waits for the hello and device_connect of
// the peer (default 10 s).
func WithConnectTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// host is the usb-host role: it owns the device and serves the peer's requests.
type host struct {
	o     options
	w     *wire
	dev   device.Device
	stats *Stats

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	inflight map[uint64]context.CancelFunc
	workers  map[uint8]chan func()
	streams  map[uint8]*stream // interrupt/iso/bulk receiving per endpoint

	nextID     atomic.Uint64
	gone       atomic.Bool
	goneOnce   sync.Once
	peerFilter *device.Filter
}

type stream struct {
	cancel context.CancelFunc
	isoOut chan []byte // iso OUT packets from the guest
}

// Serve is the usb-host (device) side: it offers dev to the peer on conn and serves it
// until ctx is done, the peer closes or breaks the protocol, the peer rejects the device,
// or the device goes away (then it sends device_disconnect and returns an error wrapping
// device.ErrNoDevice). On return no transfer is in flight on dev and conn is closed; dev
// is not closed (the caller owns it).
func Serve(ctx context.Context, conn io.ReadWriteCloser, dev device.Device, opts ...Option) error {
	o := buildOptions(opts)
	if o.policy != nil {
		if err := o.policy.Check(device.IdentityOf(dev.Descriptors(), dev.Configuration())); err != nil {
			conn.Close()
			return err
		}
	}
	h := &host{o: o, w: newWire(conn, o.caps, o.log), dev: dev, stats: o.stats,
		inflight: map[uint64]context.CancelFunc{}, workers: map[uint8]chan func(){}, streams: map[uint8]*stream{}}
	if h.stats == nil {
		h.stats = &Stats{}
	}
	h.ctx, h.cancel = context.WithCancel(ctx)
	stop := context.AfterFunc(h.ctx, func() { conn.Close() })
	defer stop()
	err := h.run()
	h.cancel()
	conn.Close()
	h.wg.Wait()
	return err
}

func (h *host) run() error {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		if err := h.w.sendHello(Hello{Version: h.o.version, Caps: h.o.caps}); err != nil {
			h.cancel()
		}
	}()
	if wd, ok := h.dev.(device.Watcher); ok {
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			select {
			case <-wd.Done():
				h.unplugged()
			case <-h.ctx.Done():
			}
		}()
	}
	err := h.w.readLoop(h.handle)
	if h.gone.Load() {
		return fmt.Errorf("usbredir: device went away: %w", device.ErrNoDevice)
	}
	if h.ctx.Err() != nil && !errors.Is(err, ErrProtocol) && !errors.Is(err, ErrRejected) {
		return h.ctx.Err()
	}
	return err
}

// unplugged tells the peer the device is gone and ends the session.
func (h *host) unplugged() {
	h.goneOnce.Do(func() {
		h.gone.Store(true)
		h.o.log.Info("usbredir: device gone, disconnecting")
		_ = h.w.send(0, DeviceDisconnect{})
		if h.w.negotiated().Has(CapDeviceDisconnectAck) {
			// Wait (briefly) for the ack in the read loop.
			t := time.AfterFunc(2*time.Second, h.cancel)
			context.AfterFunc(h.ctx, func() { t.Stop() })
			return
		}
		h.cancel()
	})
}

func (h *host) handle(p Packet) error {
	switch m := p.Msg.(type) {
	case Hello:
		h.o.log.Debug("usbredir: peer hello", "version", m.Version, "caps", fmt.Sprintf("%#x", m.Caps))
		return h.connect()
	case Reset:
		h.stats.Reset.Add(1)
		h.stopStreams()
		if err := h.dev.Reset(h.ctx); errors.Is(err, device.ErrNoDevice) {
			h.unplugged()
		}
	case SetConfiguration:
		h.onEP0(func() {
			st := h.setConfiguration(m.Configuration)
			_ = h.w.send(p.ID, ConfigurationStatus{Status: uint8(st), Configuration: h.dev.Configuration()})
		})
	case GetConfiguration:
		h.onEP0(func() {
			_ = h.w.send(p.ID, ConfigurationStatus{Status: 0, Configuration: h.dev.Configuration()})
		})
	case SetAltSetting:
		h.onEP0(func() {
			st := h.setAltSetting(m.Interface, m.Alt)
			_ = h.w.send(p.ID, AltSettingStatus{Status: uint8(st), Interface: m.Interface, Alt: h.dev.AltSetting(m.Interface)})
		})
	case GetAltSetting:
		h.onEP0(func() {
			_ = h.w.send(p.ID, AltSettingStatus{Status: 0, Interface: m.Interface, Alt: h.dev.AltSetting(m.Interface)})
		})
	case StartInterruptReceiving:
		h.stats.InterruptStarts.Add(1)
		st := h.startReceiving(m.Endpoint, device.Interrupt, func(ctx context.Context, ep device.EndpointDescriptor) {
			h.interruptLoop(ctx, ep)
		})
		return h.w.send(p.ID, InterruptReceivingStatus{Status: uint8(st), Endpoint: m.Endpoint})
	case StopInterruptReceiving:
		h.stopStream(m.Endpoint)
		return h.w.send(p.ID, InterruptReceivingStatus{Status: 0, Endpoint: m.Endpoint})
	case StartISOStream:
		st := h.startISO(m)
		return h.w.send(p.ID, ISOStreamStatus{Status: uint8(st), Endpoint: m.Endpoint})
	case StopISOStream:
		h.stopStream(m.Endpoint)
		return h.w.send(p.ID, ISOStreamStatus{Status: 0, Endpoint: m.Endpoint})
	case StartBulkReceiving:
		st := h.startReceiving(m.Endpoint, device.Bulk, func(ctx context.Context, ep device.EndpointDescriptor) {
			h.bulkReceivingLoop(ctx, m)
		})
		return h.w.send(p.ID, BulkReceivingStatus{StreamID: m.StreamID, Endpoint: m.Endpoint, Status: uint8(st)})
	case StopBulkReceiving:
		h.stopStream(m.Endpoint)
		return h.w.send(p.ID, BulkReceivingStatus{StreamID: m.StreamID, Endpoint: m.Endpoint, Status: 0})
	case AllocBulkStreams:
		// None of our devices has USB 3 bulk streams.
		return h.w.send(p.ID, BulkStreamsStatus{Endpoints: m.Endpoints, NumStreams: m.NumStreams, Status: uint8(device.StatusInvalid)})
	case FreeBulkStreams:
		return h.w.send(p.ID, BulkStreamsStatus{Endpoints: m.Endpoints, Status: 0})
	case CancelDataPacket:
		h.mu.Lock()
		c := h.inflight[p.ID]
		h.mu.Unlock()
		if c != nil {
			h.stats.Cancelled.Add(1)
			c()
		}
	case FilterReject:
		return ErrRejected
	case FilterFilter:
		f, err := device.ParseFilter(m.Rules)
		if err != nil {
			h.o.log.Warn("usbredir: ignoring unparsable peer filter", "err", err)
			return nil
		}
		if err := f.Check(device.IdentityOf(h.dev.Descriptors(), h.dev.Configuration())); err != nil {
			_ = h.w.send(0, DeviceDisconnect{})
			return fmt.Errorf("%w: %w", ErrRejected, err)
		}
	case DeviceDisconnectAck:
		if h.gone.Load() {
			return fmt.Errorf("usbredir: device went away: %w", device.ErrNoDevice)
		}
	case ControlPacket:
		h.control(p.ID, m)
	case BulkPacket:
		h.bulk(p.ID, m)
	case InterruptPacket:
		h.interruptOut(p.ID, m)
	case ISOPacket:
		h.isoOut(m)
	case DeviceConnect, DeviceDisconnect, InterfaceInfo, EPInfo, ConfigurationStatus, AltSettingStatus,
		ISOStreamStatus, InterruptReceivingStatus, BulkStreamsStatus, BulkReceivingStatus, BufferedBulkPacket:
		return fmt.Errorf("%w: usb-guest sent %T, which only a usb-host sends", ErrProtocol, m)
	}
	return nil
}

// connect sends ep_info, interface_info and device_connect, in that order.
func (h *host) connect() error {
	if err := h.sendInfo(); err != nil {
		return err
	}
	d := h.dev.Descriptors()
	return h.w.send(0, DeviceConnect{Speed: uint8(d.Speed), Class: d.Device.Class, SubClass: d.Device.SubClass,
		Protocol: d.Device.Protocol, VendorID: d.Device.Vendor, ProductID: d.Device.Product, DeviceVersion: d.Device.Release})
}

// sendInfo sends ep_info then interface_info for the active configuration.
func (h *host) sendInfo() error {
	d := h.dev.Descriptors()
	ifaces := device.ActiveEndpoints(d, h.dev.Configuration(), h.dev.AltSetting)
	var ep EPInfo
	for i := range ep.TransferType {
		ep.TransferType[i] = 255
	}
	ep.TransferType[0], ep.TransferType[16] = uint8(device.Control), uint8(device.Control)
	ep.MaxPacketSize[0], ep.MaxPacketSize[16] = uint16(d.Device.MaxPacketSize0), uint16(d.Device.MaxPacketSize0)
	var ii InterfaceInfo
	for _, i := range ifaces {
		if ii.Count < 32 {
			ii.Number[ii.Count], ii.Class[ii.Count], ii.SubClass[ii.Count], ii.Protocol[ii.Count] = i.Number, i.Class, i.SubClass, i.Protocol
			ii.Count++
		}
		for _, e := range i.Endpoints {
			x := EPIndex(e.Address)
			ep.TransferType[x] = uint8(e.Type())
			ep.Interval[x] = e.Interval
			ep.Interface[x] = i.Number
			ep.MaxPacketSize[x] = uint16(e.MaxPacketBytes())
		}
	}
	if err := h.w.send(0, ep); err != nil {
		return err
	}
	return h.w.send(0, ii)
}

func (h *host) endpoint(addr uint8) (device.EndpointDescriptor, bool) {
	for _, i := range device.ActiveEndpoints(h.dev.Descriptors(), h.dev.Configuration(), h.dev.AltSetting) {
		for _, e := range i.Endpoints {
			if e.Address == addr {
				return e, true
			}
		}
	}
	return device.EndpointDescriptor{}, false
}

func (h *host) setConfiguration(v uint8) device.Status {
	h.stats.SetConfiguration.Add(1)
	h.stopStreams()
	err := h.dev.SetConfiguration(h.ctx, v)
	if errors.Is(err, device.ErrNoDevice) {
		h.unplugged()
	}
	_ = h.sendInfo()
	return device.StatusOf(err)
}

func (h *host) setAltSetting(iface, alt uint8) device.Status {
	h.stats.SetAltSetting.Add(1)
	// Streams of that interface's endpoints end with the old setting.
	for _, i := range device.ActiveEndpoints(h.dev.Descriptors(), h.dev.Configuration(), h.dev.AltSetting) {
		if i.Number == iface {
			for _, e := range i.Endpoints {
				h.stopStream(e.Address)
			}
		}
	}
	err := h.dev.SetAltSetting(h.ctx, iface, alt)
	if errors.Is(err, device.ErrNoDevice) {
		h.unplugged()
	}
	_ = h.sendInfo()
	return device.StatusOf(err)
}

// onEP0 runs f on the default control pipe's worker, in order with control transfers.
func (h *host) onEP0(f func()) { h.enqueue(0, f) }

// enqueue runs f on the worker of endpoint ep; jobs of one endpoint run in order.
func (h *host) enqueue(ep uint8, f func()) {
	h.mu.Lock()
	ch, ok := h.workers[ep]
	if !ok {
		ch = make(chan func(), 256)
		h.workers[ep] = ch
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			for {
				select {
				case job := <-ch:
					job()
				case <-h.ctx.Done():
					return
				}
			}
		}()
	}
	h.mu.Unlock()
	select {
	case ch <- f:
	case <-h.ctx.Done():
	}
}

// track registers a cancellable context for a data packet id.
func (h *host) track(id uint64) (context.Context, func()) {
	ctx, cancel := context.WithCancel(h.ctx)
	h.mu.Lock()
	h.inflight[id] = cancel
	h.mu.Unlock()
	return ctx, func() {
		h.mu.Lock()
		delete(h.inflight, id)
		h.mu.Unlock()
		cancel()
	}
}

func (h *host) submit(ctx context.Context, u *device.URB) {
	err := h.dev.Submit(ctx, u)
	if errors.Is(err, device.ErrNoDevice) {
		u.Status = device.StatusIOError
		h.unplugged()
	}
}

func (h *host) control(id uint64, m ControlPacket) {
	ctx, done := h.track(id)
	h.onEP0(func() {
		defer done()
		setup := device.Setup{RequestType: m.RequestType, Request: m.Request, Value: m.Value, Index: m.Index, Length: m.Length}
		u := &device.URB{ID: id, Type: device.Control, Setup: setup}
		if setup.In() {
			u.Data = make([]byte, m.Length)
		} else {
			u.Data = m.Data
		}
		std := setup.RequestType & (device.RequestTypeMask | device.RecipientMask)
		switch {
		case std == device.TypeStandard|device.RecipientDevice && setup.Request == device.ReqSetConfiguration:
			u.Status = h.setConfiguration(uint8(setup.Value))
		case std == device.TypeStandard|device.RecipientIface && setup.Request == device.ReqSetInterface:
			u.Status = h.setAltSetting(uint8(setup.Index), uint8(setup.Value))
		default:
			h.submit(ctx, u)
		}
		h.stats.Control.Add(1)
		if setup.RequestType&device.RequestTypeMask == device.TypeStandard && setup.Request == device.ReqGetDescriptor {
			h.stats.GetDescriptor.Add(1)
		}
		if h.o.hook != nil {
			h.o.hook(setup, u.Status)
		}
		r := ControlPacket{Endpoint: m.Endpoint, Request: m.Request, RequestType: m.RequestType, Status: uint8(u.Status),
			Value: m.Value, Index: m.Index, Length: uint16(u.Actual)}
		if setup.In() {
			r.Data = u.Data[:u.Actual]
		}
		_ = h.w.send(id, r)
	})
}

func (h *host) bulk(id uint64, m BulkPacket) {
	ctx, done := h.track(id)
	h.enqueue(m.Endpoint, func() {
		defer done()
		u := &device.URB{ID: id, Type: device.Bulk, Endpoint: m.Endpoint, StreamID: m.StreamID}
		in := m.Endpoint&device.DirIn != 0
		if in {
			u.Data = make([]byte, m.Length)
		} else {
			u.Data = m.Data
		}
		if e, ok := h.endpoint(m.Endpoint); !ok || e.Type() != device.Bulk {
			u.Status = device.StatusInvalid
		} else {
			h.submit(ctx, u)
		}
		h.stats.Bulk.Add(1)
		h.stats.BulkBytes.Add(int64(u.Actual))
		r := BulkPacket{Endpoint: m.Endpoint, Status: uint8(u.Status), Length: uint32(u.Actual), StreamID: m.StreamID}
		if in {
			r.Data = u.Data[:u.Actual]
		}
		_ = h.w.send(id, r)
	})
}

func (h *host) interruptOut(id uint64, m InterruptPacket) {
	if m.Endpoint&device.DirIn != 0 {
		// Interrupt IN goes through interrupt receiving only.
		_ = h.w.send(id, InterruptPacket{Endpoint: m.Endpoint, Status: uint8(device.StatusInvalid)})
		return
	}
	ctx, done := h.track(id)
	h.enqueue(m.Endpoint, func() {
		defer done()
		u := &device.URB{ID: id, Type: device.Interrupt, Endpoint: m.Endpoint, Data: m.Data}
		h.submit(ctx, u)
		h.stats.Interrupt.Add(1)
		_ = h.w.send(id, InterruptPacket{Endpoint: m.Endpoint, Status: uint8(u.Status), Length: uint16(u.Actual)})
	})
}

// startReceiving starts a loop reading an IN endpoint of type t.
func (h *host) startReceiving(addr uint8, t device.TransferType, loop func(context.Context, device.EndpointDescriptor)) device.Status {
	e, ok := h.endpoint(addr)
	if !ok || e.Type() != t || addr&device.DirIn == 0 {
		return device.StatusInvalid
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, running := h.streams[addr]; running {
		return device.StatusOK
	}
	ctx, cancel := context.WithCancel(h.ctx)
	h.streams[addr] = &stream{cancel: cancel}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		loop(ctx, e)
	}()
	return device.StatusOK
}

func (h *host) stopStream(addr uint8) {
	h.mu.Lock()
	s := h.streams[addr]
	delete(h.streams, addr)
	h.mu.Unlock()
	if s != nil {
		s.cancel()
	}
}

func (h *host) stopStreams() {
	h.mu.Lock()
	all := h.streams
	h.streams = map[uint8]*stream{}
	h.mu.Unlock()
	for _, s := range all {
		s.cancel()
	}
}

func (h *host) interruptLoop(ctx context.Context, e device.EndpointDescriptor) {
	size := e.MaxPacketBytes()
	for ctx.Err() == nil {
		u := &device.URB{ID: h.nextID.Add(1), Type: device.Interrupt, Endpoint: e.Address, Data: make([]byte, size)}
		h.submit(ctx, u)
		if ctx.Err() != nil || u.Status == device.StatusCancelled {
			return
		}
		h.stats.Interrupt.Add(1)
		if err := h.w.send(u.ID, InterruptPacket{Endpoint: e.Address, Status: uint8(u.Status), Length: uint16(u.Actual), Data: u.Data[:u.Actual]}); err != nil {
			return
		}
		if u.Status != device.StatusOK {
			// Do not spin on a failing endpoint: the guest sees the error and decides.
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(max(e.Interval, 1)) * time.Millisecond):
			}
		}
	}
}

func (h *host) bulkReceivingLoop(ctx context.Context, m StartBulkReceiving) {
	size := int(m.BytesPerTransfer)
	if size <= 0 || size > MaxDataLen {
		size = 16 << 10
	}
	for ctx.Err() == nil {
		u := &device.URB{ID: h.nextID.Add(1), Type: device.Bulk, Endpoint: m.Endpoint, StreamID: m.StreamID, Data: make([]byte, size)}
		h.submit(ctx, u)
		if ctx.Err() != nil || u.Status == device.StatusCancelled {
			return
		}
		if err := h.w.send(u.ID, BufferedBulkPacket{StreamID: m.StreamID, Length: uint32(u.Actual), Endpoint: m.Endpoint, Status: uint8(u.Status), Data: u.Data[:u.Actual]}); err != nil {
			return
		}
		if u.Status != device.StatusOK {
			return
		}
	}
}

func (h *host) startISO(m StartISOStream) device.Status {
	e, ok := h.endpoint(m.Endpoint)
	if !ok || e.Type() != device.Isochronous || m.PacketsPerURB == 0 {
		return device.StatusInvalid
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, running := h.streams[m.Endpoint]; running {
		return device.StatusOK
	}
	ctx, cancel := context.WithCancel(h.ctx)
	s := &stream{cancel: cancel}
	if m.Endpoint&device.DirIn == 0 {
		s.isoOut = make(chan []byte, int(m.PacketsPerURB)*int(max(m.NumURBs, 1))*2)
	}
	h.streams[m.Endpoint] = s
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		if s.isoOut != nil {
			h.isoOutLoop(ctx, e, int(m.PacketsPerURB), s.isoOut)
		} else {
			h.isoInLoop(ctx, e, int(m.PacketsPerURB))
		}
	}()
	return device.StatusOK
}

func (h *host) isoInLoop(ctx context.Context, e device.EndpointDescriptor, n int) {
	size := e.MaxPacketBytes()
	for ctx.Err() == nil {
		u := &device.URB{ID: h.nextID.Add(1), Type: device.Isochronous, Endpoint: e.Address, Data: make([]byte, size*n), ISO: make([]device.ISOPacket, n)}
		for i := range u.ISO {
			u.ISO[i].Length = size
		}
		h.submit(ctx, u)
		if ctx.Err() != nil || u.Status == device.StatusCancelled {
			return
		}
		for i, p := range u.ISO {
			off := i * size
			st := p.Status
			if u.Status != device.StatusOK {
				st = u.Status
			}
			h.stats.ISO.Add(1)
			if err := h.w.send(h.nextID.Add(1), ISOPacket{Endpoint: e.Address, Status: uint8(st), Length: uint16(p.Actual), Data: u.Data[off : off+p.Actual]}); err != nil {
				return
			}
		}
		if u.Status != device.StatusOK {
			_ = h.w.send(0, ISOStreamStatus{Status: uint8(u.Status), Endpoint: e.Address})
			return
		}
	}
}

func (h *host) isoOutLoop(ctx context.Context, e device.EndpointDescriptor, n int, in <-chan []byte) {
	for {
		var pkts [][]byte
		select {
		case p := <-in:
			pkts = append(pkts, p)
		case <-ctx.Done():
			return
		}
		// Gather up to n packets that are already waiting.
	gather:
		for len(pkts) < n {
			select {
			case p := <-in:
				pkts = append(pkts, p)
			default:
				break gather
			}
		}
		u := &device.URB{ID: h.nextID.Add(1), Type: device.Isochronous, Endpoint: e.Address, ISO: make([]device.ISOPacket, len(pkts))}
		for i, p := range pkts {
			u.ISO[i].Length = len(p)
			u.Data = append(u.Data, p...)
		}
		h.submit(ctx, u)
		if ctx.Err() != nil {
			return
		}
		if u.Status != device.StatusOK {
			_ = h.w.send(0, ISOStreamStatus{Status: uint8(u.Status), Endpoint: e.Address})
			return
		}
	}
}

func (h *host) isoOut(m ISOPacket) {
	h.mu.Lock()
	s := h.streams[m.Endpoint]
	h.mu.Unlock()
	if s == nil || s.isoOut == nil {
		return // not streaming: dropped, as a real bus drops late iso data
	}
	h.stats.ISO.Add(1)
	select {
	case s.isoOut <- m.Data:
	default: // overrun: drop
	}
}
