package device_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/device"
)

func TestDescriptorRoundTrip(t *testing.T) {
	dd := device.DeviceDescriptor{USB: 0x0200, MaxPacketSize0: 64, Vendor: 0x1234, Product: 0x5678, Release: 0x0102, ManufacturerIndex: 1, ProductIndex: 2, NumConfigurations: 1}
	got, err := device.ParseDeviceDescriptor(dd.Marshal())
	require.NoError(t, err)
	assert.Equal(t, dd, got)

	c := device.ConfigDescriptor{Value: 1, Attributes: 0x80, MaxPower: 50, Interfaces: []device.InterfaceDescriptor{
		{Number: 0, Class: 3, SubClass: 1, Protocol: 1, Extra: []byte{9, 0x21, 0x11, 1, 0, 1, 0x22, 63, 0},
			Endpoints: []device.EndpointDescriptor{{Address: 0x81, Attributes: 3, MaxPacketSize: 8, Interval: 10}}},
		{Number: 1, AltSetting: 0, Class: 0xff},
		{Number: 1, AltSetting: 1, Class: 0xff, Endpoints: []device.EndpointDescriptor{{Address: 0x82, Attributes: 1, MaxPacketSize: 0x1400, Interval: 1, Extra: []byte{6, 0x30, 0, 0, 0, 0}}}},
	}}
	b := c.Marshal()
	assert.Equal(t, 2, int(b[4]), "bNumInterfaces counts interface numbers, not alt settings")
	back, err := device.ParseConfigDescriptor(b)
	require.NoError(t, err)
	c.Attributes |= 0x80
	assert.Equal(t, c, back)
	assert.Equal(t, 3*1024, back.Interfaces[2].Endpoints[0].MaxPacketBytes(), "high-bandwidth: 1024 bytes x 3 transactions")

	_, err = device.ParseConfigDescriptor(b[:20])
	require.ErrorIs(t, err, device.ErrInvalid)
	bad := append([]byte(nil), b...)
	bad[9] = 0 // zero-length descriptor
	_, err = device.ParseConfigDescriptor(bad)
	require.ErrorIs(t, err, device.ErrInvalid)

	s, err := device.ParseStringDescriptor(device.StringDescriptor("Größe ✓"))
	require.NoError(t, err)
	assert.Equal(t, "Größe ✓", s)
}

func TestSetupAndStatus(t *testing.T) {
	s := device.Setup{RequestType: 0x80, Request: 6, Value: 0x0100, Length: 18}
	b := s.Marshal()
	assert.Equal(t, []byte{0x80, 6, 0, 1, 0, 0, 18, 0}, b[:])
	back, err := device.ParseSetup(b[:])
	require.NoError(t, err)
	assert.Equal(t, s, back)
	for _, st := range []device.Status{device.StatusOK, device.StatusCancelled, device.StatusInvalid, device.StatusIOError, device.StatusStall, device.StatusTimeout, device.StatusBabble} {
		assert.Equal(t, st, device.StatusOf(st.Err()), st.String())
	}
	u := &device.URB{Type: device.Isochronous, ISO: []device.ISOPacket{{Length: 3}, {Length: 0}, {Length: 7}}}
	assert.Equal(t, 3, u.ISOOffset(2))
}

func keyboard() device.Identity {
	return device.Identity{Vendor: 0x046d, Product: 0xc31c, Version: 0x6400, Interfaces: []device.InterfaceClass{{0, 3, 1, 1}}}
}

func TestFilter(t *testing.T) {
	f, err := device.ParseFilter("0x03,-1,-1,-1,0 | -1,0x046d,-1,-1,1|-1,-1,-1,-1,1")
	require.NoError(t, err)
	require.Len(t, f.Rules, 3)
	assert.ErrorIs(t, f.Check(keyboard()), device.ErrDenied, "first match (HID deny) wins over the vendor allow")

	f2, err := device.ParseFilter("-1,0x046d,0xc31c,-1,1|0x03,-1,-1,-1,0")
	require.NoError(t, err)
	assert.NoError(t, f2.Check(keyboard()))

	// Composite: storage allowed, HID denied -> the device is denied.
	comp := device.Identity{Vendor: 1, Product: 2, Interfaces: []device.InterfaceClass{{0, 8, 6, 0x50}, {1, 3, 0, 0}}}
	f3, err := device.ParseFilter("8,-1,-1,-1,1|3,-1,-1,-1,0")
	require.NoError(t, err)
	assert.ErrorIs(t, f3.Check(comp), device.ErrDenied)
	// No rule matches: default deny, unless DefaultAllow.
	f4, err := device.ParseFilter("0x0e,-1,-1,-1,1")
	require.NoError(t, err)
	assert.ErrorIs(t, f4.Check(keyboard()), device.ErrDenied)
	f4.DefaultAllow = true
	assert.NoError(t, f4.Check(keyboard()))

	// Hubs and wireless controllers are denied whatever the rules say.
	allowAll, _ := device.ParseFilter("-1,-1,-1,-1,1")
	assert.ErrorIs(t, allowAll.Check(device.Identity{Class: device.ClassHub}), device.ErrDenied)
	assert.ErrorIs(t, allowAll.Check(device.Identity{Interfaces: []device.InterfaceClass{{0, 0xE0, 1, 1}}}), device.ErrDenied)

	// Round trip through String.
	again, err := device.ParseFilter(f.String())
	require.NoError(t, err)
	assert.Equal(t, f.Rules, again.Rules)

	for _, bad := range []string{"1,2,3", "x,-1,-1,-1,1", "0x100,-1,-1,-1,1", "-1,-1,-1,-1,2", "-2,-1,-1,-1,1"} {
		_, err := device.ParseFilter(bad)
		assert.Error(t, err, bad)
	}
	_, err = device.ParseFilter("3,-1,-1,-1,0|bogus")
	assert.ErrorContains(t, err, "rule 2")
}

func TestPolicyDecision(t *testing.T) {
	allowAll, _ := device.ParseFilter("-1,-1,-1,-1,1")
	calls := 0
	p := device.Policy{Filter: allowAll, Decide: func(id device.Identity) error {
		calls++
		if id.Vendor == 0x046d {
			return device.ErrDenied
		}
		return nil
	}}
	assert.ErrorIs(t, p.Check(keyboard()), device.ErrDenied)
	assert.NoError(t, p.Check(device.Identity{Vendor: 1, Interfaces: []device.InterfaceClass{{0, 3, 0, 0}}}))
	assert.Equal(t, 2, calls)
}

func TestChooseRoute(t *testing.T) {
	storage := device.Identity{Interfaces: []device.InterfaceClass{{0, 8, 6, 0x50}}}
	printer := device.Identity{Interfaces: []device.InterfaceClass{{0, 7, 1, 2}}}
	composite := device.Identity{Interfaces: []device.InterfaceClass{{0, 8, 6, 0x50}, {1, 3, 0, 0}}}
	hub := device.Identity{Class: device.ClassHub}
	cbi := device.Identity{Interfaces: []device.InterfaceClass{{0, 8, 4, 0}}}
	assert.Equal(t, device.PathFiles, device.ChooseRoute(storage, device.RouteOptions{}).Path)
	assert.Equal(t, device.PathPrintJobs, device.ChooseRoute(printer, device.RouteOptions{}).Path)
	assert.Equal(t, device.PathURB, device.ChooseRoute(composite, device.RouteOptions{}).Path)
	assert.Equal(t, device.PathURB, device.ChooseRoute(keyboard(), device.RouteOptions{}).Path)
	assert.Equal(t, device.PathURB, device.ChooseRoute(cbi, device.RouteOptions{}).Path)
	assert.Equal(t, device.PathURB, device.ChooseRoute(storage, device.RouteOptions{ForceURB: true}).Path)
	r := device.ChooseRoute(hub, device.RouteOptions{})
	assert.Equal(t, device.PathDenied, r.Path)
	assert.Contains(t, r.Reason, "never redirected")
	deny, _ := device.ParseFilter("8,-1,-1,-1,0|-1,-1,-1,-1,1")
	assert.Equal(t, device.PathDenied, device.ChooseRoute(storage, device.RouteOptions{Policy: &device.Policy{Filter: deny}}).Path)
	assert.NotEmpty(t, device.ChooseRoute(storage, device.RouteOptions{}).Reason)
}
