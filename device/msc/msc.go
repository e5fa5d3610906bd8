package msc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/shadowless-dev/shadowless/device"
)

// ErrCommandFailed is wrapped when a SCSI command completes with a failed status.
var ErrCommandFailed = errors.New("msc: command failed")

// SenseError is a failed command with the sense data REQUEST SENSE returned.
type SenseError struct {
	Op             uint8
	Key, ASC, ASCQ uint8
}

// Error describes the failed command and its sense data.
func (e *SenseError) Error() string {
	return fmt.Sprintf("msc: SCSI op %#02x failed: sense key %#x asc %#02x ascq %#02x", e.Op, e.Key, e.ASC, e.ASCQ)
}

// Unwrap makes errors.Is(err, ErrCommandFailed) true.
func (e *SenseError) Unwrap() error { return ErrCommandFailed }

// Client drives one mass storage interface. Commands are serialised (bulk-only transport
// has one command at a time); each command's data moves in URBs of ChunkSize bytes that are
// all in flight together when the device supports it.
type Client struct {
	dev       device.Device
	in, out   uint8
	ChunkSize int

	mu  sync.Mutex
	tag uint32
}

// NewClient finds the bulk-only mass storage interface of dev.
func NewClient(dev device.Device) (*Client, error) {
	d := dev.Descriptors()
	for _, i := range device.ActiveEndpoints(d, dev.Configuration(), dev.AltSetting) {
		if i.Class != device.ClassMassStorage || i.Protocol != 0x50 {
			continue
		}
		c := &Client{dev: dev, ChunkSize: 256 << 10}
		for _, e := range i.Endpoints {
			if e.Type() != device.Bulk {
				continue
			}
			if e.Address&device.DirIn != 0 {
				c.in = e.Address
			} else {
				c.out = e.Address
			}
		}
		if c.in != 0 && c.out != 0 {
			return c, nil
		}
	}
	return nil, fmt.Errorf("msc: %s has no bulk-only mass storage interface: %w", d, device.ErrInvalid)
}

// command runs one SCSI command. For data-in commands, data receives the bytes; for
// data-out commands it holds them.
func (c *Client) command(ctx context.Context, cdb []byte, data []byte, in bool) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tag++
	cbw := make([]byte, 31)
	binary.LittleEndian.PutUint32(cbw, 0x43425355)
	binary.LittleEndian.PutUint32(cbw[4:], c.tag)
	binary.LittleEndian.PutUint32(cbw[8:], uint32(len(data)))
	if in {
		cbw[12] = 0x80
	}
	cbw[14] = uint8(len(cdb))
	copy(cbw[15:], cdb)
	urbs := []*device.URB{{Type: device.Bulk, Endpoint: c.out, Data: cbw}}
	for off := 0; off < len(data); off += c.ChunkSize {
		end := min(off+c.ChunkSize, len(data))
		ep := c.out
		if in {
			ep = c.in
		}
		urbs = append(urbs, &device.URB{Type: device.Bulk, Endpoint: ep, Data: data[off:end]})
	}
	csw := &device.URB{Type: device.Bulk, Endpoint: c.in, Data: make([]byte, 13)}
	urbs = append(urbs, csw)
	err := device.SubmitAll(ctx, c.dev, urbs)
	moved := 0
	for _, u := range urbs[1 : len(urbs)-1] {
		moved += u.Actual
	}
	if err != nil {
		if !errors.Is(err, device.ErrStall) {
			return moved, fmt.Errorf("msc: op %#02x: %w", cdb[0], err)
		}
		// A stalled data phase: clear the halt and read the status (BOT 6.7.2).
		if err := c.clearHalt(ctx, c.in); err != nil {
			return moved, err
		}
		if csw.Status != device.StatusOK || csw.Actual != 13 {
			csw = &device.URB{Type: device.Bulk, Endpoint: c.in, Data: make([]byte, 13)}
			if err := c.dev.Submit(ctx, csw); err != nil {
				return moved, fmt.Errorf("msc: op %#02x: reading status: %w", cdb[0], err)
			}
		}
	}
	if csw.Actual != 13 || binary.LittleEndian.Uint32(csw.Data) != 0x53425355 || binary.LittleEndian.Uint32(csw.Data[4:]) != c.tag {
		return moved, fmt.Errorf("msc: op %#02x: bad command status wrapper: %w", cdb[0], device.ErrIO)
	}
	if st := csw.Data[12]; st != 0 {
		return moved, fmt.Errorf("%w: op %#02x: CSW status %d", ErrCommandFailed, cdb[0], st)
	}
	return moved, nil
}

func (c *Client) clearHalt(ctx context.Context, ep uint8) error {
	u := &device.URB{Type: device.Control, Setup: device.Setup{RequestType: device.RecipientEndpoint, Request: device.ReqClearFeature, Index: uint16(ep)}}
	if err := c.dev.Submit(ctx, u); err != nil {
		return fmt.Errorf("msc: clear halt of %#02x: %w", ep, err)
	}
	return nil
}

// do runs a command and turns a failed status into a *SenseError.
func (c *Client) do(ctx context.Context, cdb, data []byte, in bool) (int, error) {
	n, err := c.command(ctx, cdb, data, in)
	if errors.Is(err, ErrCommandFailed) {
		sense := make([]byte, 18)
		if _, serr := c.command(ctx, []byte{0x03, 0, 0, 0, 18, 0}, sense, true); serr == nil {
			return n, &SenseError{Op: cdb[0], Key: sense[2] & 0x0f, ASC: sense[12], ASCQ: sense[13]}
		}
	}
	return n, err
}

// TestUnitReady checks the medium is ready.
func (c *Client) TestUnitReady(ctx context.Context) error {
	_, err := c.do(ctx, make([]byte, 6), nil, false)
	return err
}

// Inquiry returns the vendor and product identification.
func (c *Client) Inquiry(ctx context.Context) (vendor, product string, err error) {
	b := make([]byte, 36)
	n, err := c.do(ctx, []byte{0x12, 0, 0, 0, 36, 0}, b, true)
	if err != nil {
		return "", "", err
	}
	if n < 32 {
		return "", "", fmt.Errorf("msc: short INQUIRY data (%d bytes): %w", n, device.ErrIO)
	}
	return strings.TrimSpace(string(b[8:16])), strings.TrimSpace(string(b[16:32])), nil
}

// Capacity returns the number of blocks and the block size (READ CAPACITY(10)).
func (c *Client) Capacity(ctx context.Context) (blocks uint64, blockSize uint32, err error) {
	b := make([]byte, 8)
	if _, err := c.do(ctx, []byte{0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}, b, true); err != nil {
		return 0, 0, err
	}
	return uint64(binary.BigEndian.Uint32(b)) + 1, binary.BigEndian.Uint32(b[4:]), nil
}

// Capacity16 is Capacity with READ CAPACITY(16).
func (c *Client) Capacity16(ctx context.Context) (blocks uint64, blockSize uint32, err error) {
	b := make([]byte, 32)
	cdb := make([]byte, 16)
	cdb[0], cdb[1], cdb[13] = 0x9E, 0x10, 32
	if _, err := c.do(ctx, cdb, b, true); err != nil {
		return 0, 0, err
	}
	return binary.BigEndian.Uint64(b) + 1, binary.BigEndian.Uint32(b[8:]), nil
}

// ReadBlocks reads len(p)/blockSize blocks at lba with READ(10); len(p) must be a multiple
// of the block size (512 for our devices).
func (c *Client) ReadBlocks(ctx context.Context, lba uint32, p []byte, blockSize int) error {
	cdb := rw10(0x28, lba, len(p)/blockSize)
	n, err := c.do(ctx, cdb, p, true)
	if err == nil && n != len(p) {
		err = fmt.Errorf("msc: READ(10) moved %d of %d bytes: %w", n, len(p), device.ErrIO)
	}
	return err
}

// WriteBlocks writes p at lba with WRITE(10).
func (c *Client) WriteBlocks(ctx context.Context, lba uint32, p []byte, blockSize int) error {
	cdb := rw10(0x2A, lba, len(p)/blockSize)
	n, err := c.do(ctx, cdb, p, false)
	if err == nil && n != len(p) {
		err = fmt.Errorf("msc: WRITE(10) moved %d of %d bytes: %w", n, len(p), device.ErrIO)
	}
	return err
}

// SynchronizeCache flushes the device's cache (SYNCHRONIZE CACHE(10)).
func (c *Client) SynchronizeCache(ctx context.Context) error {
	_, err := c.do(ctx, []byte{0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0}, nil, false)
	return err
}

// Raw runs an arbitrary command (for tests of less common opcodes).
func (c *Client) Raw(ctx context.Context, cdb, data []byte, in bool) (int, error) {
	return c.do(ctx, cdb, data, in)
}

func rw10(op uint8, lba uint32, blocks int) []byte {
	cdb := make([]byte, 10)
	cdb[0] = op
	binary.BigEndian.PutUint32(cdb[2:], lba)
	binary.BigEndian.PutUint16(cdb[7:], uint16(blocks))
	return cdb
}
