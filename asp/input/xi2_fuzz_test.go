package input

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildXIReply encodes devices the way the X server does, for tests and fuzz seeds.
func buildXIReply(devs []xiDevice, classesPer int) []byte {
	var body []byte
	for _, d := range devs {
		e := make([]byte, 12)
		binary.LittleEndian.PutUint16(e[0:], d.ID)
		binary.LittleEndian.PutUint16(e[2:], d.Use)
		binary.LittleEndian.PutUint16(e[4:], d.Attachment)
		binary.LittleEndian.PutUint16(e[6:], uint16(classesPer))
		binary.LittleEndian.PutUint16(e[8:], uint16(len(d.Name)))
		if d.Enabled {
			e[10] = 1
		}
		name := make([]byte, (len(d.Name)+3)&^3)
		copy(name, d.Name)
		e = append(e, name...)
		for c := 0; c < classesPer; c++ {
			cl := make([]byte, 8)
			binary.LittleEndian.PutUint16(cl[0:], 0) // key class
			binary.LittleEndian.PutUint16(cl[2:], 2)
			e = append(e, cl...)
		}
		body = append(body, e...)
	}
	h := make([]byte, 32)
	h[0] = 1
	binary.LittleEndian.PutUint32(h[4:], uint32(len(body)/4))
	binary.LittleEndian.PutUint16(h[8:], uint16(len(devs)))
	return append(h, body...)
}

var sampleDevices = []xiDevice{
	{ID: 2, Use: xiMasterPointer, Attachment: 3, Enabled: true, Name: "Virtual core pointer"},
	{ID: 3, Use: xiMasterKeyboard, Attachment: 2, Enabled: true, Name: "Virtual core keyboard"},
	{ID: 4, Use: xiSlavePointer, Attachment: 2, Enabled: true, Name: "Virtual core XTEST pointer"},
	{ID: 5, Use: xiSlaveKeyboard, Attachment: 3, Enabled: true, Name: "Virtual core XTEST keyboard"},
}

func TestParseXIQueryDevice(t *testing.T) {
	got, err := parseXIQueryDevice(buildXIReply(sampleDevices, 2))
	require.NoError(t, err)
	assert.Equal(t, sampleDevices, got)
	kbd, ptr := xtestDevices(got)
	assert.EqualValues(t, 5, kbd)
	assert.EqualValues(t, 4, ptr)

	b := buildXIReply(sampleDevices, 1)
	_, err = parseXIQueryDevice(b[:len(b)-4])
	require.Error(t, err, "truncated")
	_, err = parseXIQueryDevice(b[:20])
	require.Error(t, err)
}

func FuzzParseXIQueryDevice(f *testing.F) {
	f.Add(buildXIReply(sampleDevices, 0))
	f.Add(buildXIReply(sampleDevices, 3))
	f.Add(buildXIReply(nil, 0))
	f.Add([]byte{1, 0, 0, 0, 255, 255, 255, 255, 9, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		devs, err := parseXIQueryDevice(b)
		if err != nil {
			return
		}
		// Whatever parses must re-encode to something that parses to the same devices.
		again, err := parseXIQueryDevice(buildXIReply(devs, 0))
		require.NoError(t, err)
		if len(devs) == 0 {
			require.Empty(t, again)
			return
		}
		require.Equal(t, devs, again)
	})
}
