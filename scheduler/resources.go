package scheduler

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Resource names one countable resource of a node.
type Resource int

// The resources a node offers and a request asks for.
const (
	// CPU is measured in millicores: 1000 is one vCPU, 100 is 0.1 vCPU ("100m").
	CPU Resource = iota
	// Memory is measured in bytes.
	Memory
	// Disk is local scratch disk, in bytes.
	Disk
	// GPU counts whole GPUs.
	GPU
	// EncoderSlots counts hardware video-encoder session slots: a node with 2 encoders that
	// each carry 8 sessions has 16 slots (see EncoderSlotCount).
	EncoderSlots
	// NumResources is the number of resource kinds; Resources is an array of this length.
	NumResources
)

var resourceNames = [NumResources]string{"cpu", "memory", "disk", "gpu", "encoder"}

// String returns the lower-case name used in messages and in ParseResources: cpu, memory,
// disk, gpu, encoder.
func (r Resource) String() string {
	if r < 0 || r >= NumResources {
		return "resource(" + strconv.Itoa(int(r)) + ")"
	}
	return resourceNames[r]
}

// Format renders an amount of this resource the way a person reads it: CPU as millicores
// ("1500m"), memory and disk in binary units ("1.5Gi"), counts as plain numbers.
func (r Resource) Format(v int64) string {
	switch r {
	case CPU:
		return strconv.FormatInt(v, 10) + "m"
	case Memory, Disk:
		return FormatBytes(v)
	default:
		return strconv.FormatInt(v, 10)
	}
}

// Resources is an amount of every resource kind, indexed by Resource.
type Resources [NumResources]int64

// Add returns r + o.
func (r Resources) Add(o Resources) Resources {
	for i := range r {
		r[i] += o[i]
	}
	return r
}

// Sub returns r − o.
func (r Resources) Sub(o Resources) Resources {
	for i := range r {
		r[i] -= o[i]
	}
	return r
}

// Fits reports whether a request of r fits into free.
func (r Resources) Fits(free Resources) bool {
	for i := range r {
		if r[i] > free[i] {
			return false
		}
	}
	return true
}

// IsZero reports whether every amount is zero.
func (r Resources) IsZero() bool { return r == Resources{} }

// String renders the non-zero amounts, e.g. "cpu=500m,memory=2Gi".
func (r Resources) String() string {
	var b strings.Builder
	for i, v := range r {
		if v == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(Resource(i).String())
		b.WriteByte('=')
		b.WriteString(Resource(i).Format(v))
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// EncoderSlotCount is the encoder-slot capacity of a node with the given number of hardware
// encoders, each able to carry sessionsPerEncoder concurrent sessions.
func EncoderSlotCount(encoders, sessionsPerEncoder int) int64 {
	return int64(encoders) * int64(sessionsPerEncoder)
}

// ErrQuantity is wrapped by every quantity parsing error.
var ErrQuantity = errors.New("invalid quantity")

// ParseCPU parses a CPU quantity into millicores: "100m" is 100, "0.5" is 500, "2" is 2000.
// More than three decimal places (finer than a millicore) and negative values are errors.
func ParseCPU(s string) (int64, error) {
	in := s
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "m") {
		v, err := strconv.ParseInt(strings.TrimSuffix(s, "m"), 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("%w: cpu %q: want millicores like \"250m\"", ErrQuantity, in)
		}
		return v, nil
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" && !hasFrac || (hasFrac && frac == "" && whole == "") {
		return 0, fmt.Errorf("%w: cpu %q is empty", ErrQuantity, in)
	}
	if len(frac) > 3 {
		return 0, fmt.Errorf("%w: cpu %q is finer than one millicore", ErrQuantity, in)
	}
	var w int64
	if whole != "" {
		var err error
		w, err = strconv.ParseInt(whole, 10, 64)
		if err != nil || w < 0 || whole[0] == '+' || whole[0] == '-' {
			return 0, fmt.Errorf("%w: cpu %q: want cores like \"2\" or \"0.5\"", ErrQuantity, in)
		}
	}
	var f int64
	if frac != "" {
		for _, c := range frac {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("%w: cpu %q: want cores like \"2\" or \"0.5\"", ErrQuantity, in)
			}
		}
		f, _ = strconv.ParseInt((frac + "00")[:3], 10, 64)
	}
	if w > (math.MaxInt64-f)/1000 {
		return 0, fmt.Errorf("%w: cpu %q is too large", ErrQuantity, in)
	}
	return w*1000 + f, nil
}

var byteSuffixes = []struct {
	suffix string
	mult   int64
}{
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"Pi", 1 << 50}, {"Ei", 1 << 60},
	{"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}, {"E", 1e18},
}

// ParseBytes parses a memory or disk quantity into bytes: "4Gi" (binary), "500M" (decimal),
// "1.5Gi", "1048576". Fractions round up to the next whole byte; negative values are errors.
func ParseBytes(s string) (int64, error) {
	in := s
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, suf := range byteSuffixes {
		if strings.HasSuffix(s, suf.suffix) {
			s = strings.TrimSuffix(s, suf.suffix)
			mult = suf.mult
			break
		}
	}
	if s == "" || s[0] == '-' || s[0] == '+' || strings.ContainsAny(s, "eE/") {
		return 0, fmt.Errorf("%w: bytes %q: want a size like \"4Gi\" or \"512Mi\"", ErrQuantity, in)
	}
	q, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("%w: bytes %q: want a size like \"4Gi\" or \"512Mi\"", ErrQuantity, in)
	}
	q.Mul(q, new(big.Rat).SetInt64(mult))
	n := new(big.Int).Quo(q.Num(), q.Denom())
	if new(big.Rat).SetInt(n).Cmp(q) != 0 {
		n.Add(n, big.NewInt(1))
	}
	if !n.IsInt64() {
		return 0, fmt.Errorf("%w: bytes %q is too large", ErrQuantity, in)
	}
	return n.Int64(), nil
}

// FormatBytes renders a byte count in the largest binary unit that keeps it at least 1, with
// up to two decimals: 1536 is "1.5Ki", 4<<30 is "4Gi", 0 is "0".
func FormatBytes(v int64) string {
	units := []string{"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}
	neg := v < 0
	u := float64(v)
	if neg {
		u = -u
	}
	suffix := ""
	for i := len(units); i >= 1; i-- {
		if d := float64(int64(1) << (10 * i)); u >= d {
			u /= d
			suffix = units[i-1]
			break
		}
	}
	out := strconv.FormatFloat(u, 'f', 2, 64)
	out = strings.TrimRight(strings.TrimRight(out, "0"), ".")
	if neg {
		out = "-" + out
	}
	return out + suffix
}

// ParseResources parses a comma-separated list such as "cpu=500m,memory=2Gi,gpu=1,encoder=1"
// into Resources. Keys are cpu, memory, disk, gpu and encoder; CPU takes ParseCPU syntax,
// memory and disk take ParseBytes syntax, gpu and encoder take whole numbers.
func ParseResources(s string) (Resources, error) {
	var r Resources
	if strings.TrimSpace(s) == "" {
		return r, nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return r, fmt.Errorf("%w: %q: want key=value", ErrQuantity, part)
		}
		var err error
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "cpu":
			r[CPU], err = ParseCPU(v)
		case "memory", "mem":
			r[Memory], err = ParseBytes(v)
		case "disk":
			r[Disk], err = ParseBytes(v)
		case "gpu":
			r[GPU], err = parseCount(v)
		case "encoder", "encoders", "encoderslots":
			r[EncoderSlots], err = parseCount(v)
		default:
			return r, fmt.Errorf("%w: unknown resource %q (want cpu, memory, disk, gpu, encoder)", ErrQuantity, k)
		}
		if err != nil {
			return r, err
		}
	}
	return r, nil
}

func parseCount(s string) (int64, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%w: count %q: want a whole number", ErrQuantity, s)
	}
	return v, nil
}
