package policy

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Source says which policy, and which of its settings or rules, decided something.
type Source struct {
	PolicyID string
	Scope    Scope
	Target   string
	// Setting names the deciding setting or rule, e.g. "clipboard.direction" or
	// "usb rule 2: DENY: class=08".
	Setting string
}

// String renders the source for people, e.g. `policy "finance" (group finance): clipboard.direction`.
func (s *Source) String() string {
	if s.PolicyID == BuiltinPolicyID {
		return "built-in default: " + s.Setting
	}
	return fmt.Sprintf("policy %q (%v %s): %s", s.PolicyID, s.Scope, s.Target, s.Setting)
}

// Verdict is the answer to one check on the hot path.
type Verdict struct {
	Allowed bool
	// Reason is a short constant phrase saying what was checked, for logs and users.
	Reason string
	// By is the setting or rule that decided; never nil.
	By *Source
}

// Reasons a Verdict gives.
const (
	ReasonAllowed             = "allowed"
	ReasonClipboardDirection  = "clipboard direction not allowed"
	ReasonClipboardFormat     = "clipboard format not allowed"
	ReasonClipboardSize       = "clipboard transfer larger than allowed"
	ReasonUploadDenied        = "file upload not allowed"
	ReasonDownloadDenied      = "file download not allowed"
	ReasonFileSize            = "file larger than allowed"
	ReasonUSBDenied           = "USB device denied by rule"
	ReasonUSBNoRule           = "USB device matched no rule"
	ReasonEgressDenied        = "destination denied by egress rule"
	ReasonEgressDefault       = "destination denied by default"
	ReasonPeripheralForbidden = "peripheral kind not allowed"
)

// Decision is a session's resolved policy: immutable, safe for concurrent use, and cheap to
// check on every event. Each check says which setting or rule decided.
type Decision struct {
	version uint64
	subject Subject
	applied []string

	clipboard        Clipboard
	clipDirectionBy  *Source
	clipFormatsBy    *Source
	clipSizeBy       *Source
	files            FileTransfer
	uploadBy         *Source
	downloadBy       *Source
	fileSizeBy       *Source
	usb              []ruleList[USBRule]
	display          Display
	qualityBy, fpsBy *Source
	watermark        Watermark
	watermarkBy      *Source
	schedules        []sourcedSchedule
	timers           Timers
	disconnectBy     *Source
	shutdownBy       *Source
	network          []ruleList[EgressRule]
	peripherals      Peripheral
	peripheralBy     [peripheralKinds]*Source
}

const peripheralKinds = 5

// ruleList is one policy's ordered rule list with a Source prepared for each rule, so a
// check can name its deciding rule without allocating.
type ruleList[R any] struct {
	rules    []R
	fallback Effect   // when no rule matched
	sources  []Source // one per rule
	noMatch  Source   // credited when no rule matched
}

type sourcedSchedule struct {
	compiledSchedule
	by *Source
}

func sourceOf(p *compiledPolicy, setting string) *Source {
	return &Source{PolicyID: p.ID, Scope: p.Scope, Target: p.Target, Setting: setting}
}

// Version returns the policy set version the decision was resolved from.
func (d *Decision) Version() uint64 { return d.version }

// Subject returns whom the decision was resolved for.
func (d *Decision) Subject() Subject { return d.subject }

// Applied lists the IDs of the policies that applied, widest scope first.
func (d *Decision) Applied() []string { return slices.Clone(d.applied) }

// Clipboard returns the effective clipboard setting.
func (d *Decision) Clipboard() Clipboard { return d.clipboard }

// FileTransfer returns the effective file-transfer setting.
func (d *Decision) FileTransfer() FileTransfer { return d.files }

// Display returns the effective display caps.
func (d *Decision) Display() Display { return d.display }

// Watermark returns the effective watermark.
func (d *Decision) Watermark() Watermark { return d.watermark }

// IdleLimits returns the idle disconnect and shutdown limits (0 means none).
func (d *Decision) IdleLimits() (disconnect, shutdown time.Duration) {
	return d.timers.DisconnectAfterIdle, d.timers.ShutdownAfterIdle
}

// CheckClipboard checks one clipboard transfer of size bytes in one direction and format.
func (d *Decision) CheckClipboard(dir Direction, format Format, size int64) Verdict {
	switch {
	case dir == DirectionNone || d.clipboard.Direction&dir != dir:
		return Verdict{Reason: ReasonClipboardDirection, By: d.clipDirectionBy}
	case format == 0 || d.clipboard.Formats&format != format:
		return Verdict{Reason: ReasonClipboardFormat, By: d.clipFormatsBy}
	case exceeds(size, d.clipboard.MaxBytes):
		return Verdict{Reason: ReasonClipboardSize, By: d.clipSizeBy}
	}
	return Verdict{Allowed: true, Reason: ReasonAllowed, By: d.clipDirectionBy}
}

// CheckUpload checks one file of size bytes going from the client into the session.
func (d *Decision) CheckUpload(size int64) Verdict {
	return d.checkFile(d.files.Upload, d.uploadBy, ReasonUploadDenied, size)
}

// CheckDownload checks one file of size bytes leaving the session for the client.
func (d *Decision) CheckDownload(size int64) Verdict {
	return d.checkFile(d.files.Download, d.downloadBy, ReasonDownloadDenied, size)
}

func (d *Decision) checkFile(allowed bool, by *Source, denied string, size int64) Verdict {
	if !allowed {
		return Verdict{Reason: denied, By: by}
	}
	if exceeds(size, d.files.MaxBytes) {
		return Verdict{Reason: ReasonFileSize, By: d.fileSizeBy}
	}
	return Verdict{Allowed: true, Reason: ReasonAllowed, By: by}
}

func exceeds(size, limit int64) bool { return limit > 0 && size > limit }

// CheckUSB checks a device asking to be redirected. Every applicable policy's rule list must
// allow it: within a list the first matching rule decides, a device no rule matches is
// denied, and a composite device is denied when any interface is.
func (d *Decision) CheckUSB(dev *USBDevice) Verdict {
	var by *Source
	for i := range d.usb {
		list := &d.usb[i]
		ok, rule := evaluateUSB(list.rules, dev)
		if !ok {
			if rule < 0 {
				return Verdict{Reason: ReasonUSBNoRule, By: &list.noMatch}
			}
			return Verdict{Reason: ReasonUSBDenied, By: &list.sources[rule]}
		}
		by = &list.sources[rule]
	}
	return Verdict{Allowed: true, Reason: ReasonAllowed, By: by}
}

// CheckEgress checks an outbound connection from the desktop. Every applicable policy's
// egress rules must allow it.
func (d *Decision) CheckEgress(addr netip.Addr, port uint16) Verdict {
	var by *Source
	for i := range d.network {
		list := &d.network[i]
		effect, rule := evaluateEgress(list.rules, list.fallback, addr, port)
		src := &list.noMatch
		if rule >= 0 {
			src = &list.sources[rule]
		}
		if effect != Allow {
			if rule < 0 {
				return Verdict{Reason: ReasonEgressDefault, By: src}
			}
			return Verdict{Reason: ReasonEgressDenied, By: src}
		}
		by = src
	}
	return Verdict{Allowed: true, Reason: ReasonAllowed, By: by}
}

// CheckPeripheral checks whether a peripheral kind may be used in the session.
func (d *Decision) CheckPeripheral(kind Peripheral) Verdict {
	i := peripheralIndex(kind)
	if i < 0 {
		return Verdict{Reason: ReasonPeripheralForbidden, By: d.peripheralBy[0]}
	}
	if d.peripherals&kind == 0 {
		return Verdict{Reason: ReasonPeripheralForbidden, By: d.peripheralBy[i]}
	}
	return Verdict{Allowed: true, Reason: ReasonAllowed, By: d.peripheralBy[i]}
}

func peripheralIndex(kind Peripheral) int {
	for i := range peripheralKinds {
		if kind == 1<<i {
			return i
		}
	}
	return -1
}

// NextTimer returns the first scheduled action strictly after t, with the policy that
// scheduled it; ok is false when no timer is scheduled.
func (d *Decision) NextTimer(t time.Time) (s Schedule, at time.Time, by *Source, ok bool) {
	for _, cs := range d.schedules {
		next := cs.cron.Next(t.UTC())
		if next.IsZero() {
			continue
		}
		if !ok || next.Before(at) {
			s, at, by, ok = cs.Schedule, next, cs.by, true
		}
	}
	return s, at, by, ok
}

// Explanation is one effective setting and what decided it.
type Explanation struct {
	Setting string
	Value   string
	By      *Source
}

// Explain lists every effective setting with the policy that decided it, for the admin
// console and support.
func (d *Decision) Explain() []Explanation {
	ex := []Explanation{
		{"clipboard.direction", fmt.Sprintf("%b", d.clipboard.Direction), d.clipDirectionBy},
		{"clipboard.formats", fmt.Sprintf("%b", d.clipboard.Formats), d.clipFormatsBy},
		{"clipboard.max_bytes", fmt.Sprint(d.clipboard.MaxBytes), d.clipSizeBy},
		{"file_transfer.upload", fmt.Sprint(d.files.Upload), d.uploadBy},
		{"file_transfer.download", fmt.Sprint(d.files.Download), d.downloadBy},
		{"file_transfer.max_bytes", fmt.Sprint(d.files.MaxBytes), d.fileSizeBy},
		{"display.max_quality", fmt.Sprint(d.display.MaxQuality), d.qualityBy},
		{"display.max_fps", fmt.Sprint(d.display.MaxFPS), d.fpsBy},
		{"watermark.mode", fmt.Sprint(d.watermark.Mode), d.watermarkBy},
		{"timers.disconnect_after_idle", d.timers.DisconnectAfterIdle.String(), d.disconnectBy},
		{"timers.shutdown_after_idle", d.timers.ShutdownAfterIdle.String(), d.shutdownBy},
	}
	for _, s := range d.schedules {
		ex = append(ex, Explanation{"timers.schedule", s.Cron + " " + s.Action.String(), s.by})
	}
	for i := range d.usb {
		ex = append(ex, Explanation{"usb.rules", fmt.Sprintf("%d rules", len(d.usb[i].rules)), &d.usb[i].noMatch})
	}
	for i := range d.network {
		ex = append(ex, Explanation{"network.egress", fmt.Sprintf("%d rules", len(d.network[i].rules)), &d.network[i].noMatch})
	}
	for i := range peripheralKinds {
		ex = append(ex, Explanation{"peripherals." + peripheralNames[i], fmt.Sprint(d.peripherals&(1<<i) != 0), d.peripheralBy[i]})
	}
	return ex
}

var peripheralNames = [peripheralKinds]string{"storage", "printer", "scanner", "camera", "bluetooth"}

// newDecision merges the applicable policies, widest scope first, into a decision; areas no
// applicable policy speaks about take the built-in defaults.
func newDecision(version uint64, subj Subject, applied []*compiledPolicy, defaults *compiledPolicy) *Decision {
	d := &Decision{version: version, subject: subj}
	d.subject.Groups = slices.Clone(subj.Groups)
	for _, p := range applied {
		d.applied = append(d.applied, p.ID)
	}
	speaking := func(has func(*compiledPolicy) bool) []*compiledPolicy {
		var out []*compiledPolicy
		for _, p := range applied {
			if has(p) {
				out = append(out, p)
			}
		}
		if len(out) == 0 {
			out = append(out, defaults)
		}
		return out
	}
	d.mergeClipboard(speaking(func(p *compiledPolicy) bool { return p.Clipboard != nil }))
	d.mergeFiles(speaking(func(p *compiledPolicy) bool { return p.FileTransfer != nil }))
	d.mergeUSB(speaking(func(p *compiledPolicy) bool { return p.USB != nil }))
	d.mergeDisplay(speaking(func(p *compiledPolicy) bool { return p.Display != nil }))
	d.mergeWatermark(speaking(func(p *compiledPolicy) bool { return p.Watermark != nil }))
	d.mergeTimers(speaking(func(p *compiledPolicy) bool { return p.Timers != nil }))
	d.mergeNetwork(speaking(func(p *compiledPolicy) bool { return p.Network != nil }))
	d.mergePeripherals(speaking(func(p *compiledPolicy) bool { return p.Peripherals != nil }))
	return d
}

// tighterLimit keeps the smaller of two limits where 0 means unlimited; on a tie the limit
// already held (the wider scope's) keeps the credit.
func tighterLimit(cur int64, curBy *Source, next int64, nextBy *Source) (int64, *Source) {
	if curBy == nil || (next > 0 && (cur == 0 || next < cur)) {
		return next, nextBy
	}
	return cur, curBy
}

func (d *Decision) mergeClipboard(ps []*compiledPolicy) {
	d.clipboard = Clipboard{Direction: DirectionBoth, Formats: FormatAll}
	for _, p := range ps {
		c := p.Clipboard
		if d.clipDirectionBy == nil || d.clipboard.Direction&c.Direction != d.clipboard.Direction {
			d.clipboard.Direction &= c.Direction
			d.clipDirectionBy = sourceOf(p, "clipboard.direction")
		}
		if d.clipFormatsBy == nil || d.clipboard.Formats&c.Formats != d.clipboard.Formats {
			d.clipboard.Formats &= c.Formats
			d.clipFormatsBy = sourceOf(p, "clipboard.formats")
		}
		d.clipboard.MaxBytes, d.clipSizeBy = tighterLimit(d.clipboard.MaxBytes, d.clipSizeBy, c.MaxBytes, sourceOf(p, "clipboard.max_bytes"))
	}
}

func (d *Decision) mergeFiles(ps []*compiledPolicy) {
	d.files = FileTransfer{Upload: true, Download: true}
	for _, p := range ps {
		f := p.FileTransfer
		if d.uploadBy == nil || (d.files.Upload && !f.Upload) {
			d.files.Upload = f.Upload
			d.uploadBy = sourceOf(p, "file_transfer.upload")
		}
		if d.downloadBy == nil || (d.files.Download && !f.Download) {
			d.files.Download = f.Download
			d.downloadBy = sourceOf(p, "file_transfer.download")
		}
		d.files.MaxBytes, d.fileSizeBy = tighterLimit(d.files.MaxBytes, d.fileSizeBy, f.MaxBytes, sourceOf(p, "file_transfer.max_bytes"))
	}
}

func (d *Decision) mergeUSB(ps []*compiledPolicy) {
	for _, p := range ps {
		list := ruleList[USBRule]{rules: p.USB.Rules, noMatch: *sourceOf(p, "usb: no rule matched")}
		for i, r := range p.USB.Rules {
			list.sources = append(list.sources, *sourceOf(p, fmt.Sprintf("usb rule %d: %s", i+1, usbRuleText(&r))))
		}
		d.usb = append(d.usb, list)
	}
}

func usbRuleText(r *USBRule) string {
	if r.Text != "" {
		return r.Text
	}
	var b strings.Builder
	b.WriteString(strings.ToUpper(r.Effect.String()) + ":")
	for _, f := range []struct {
		key    string
		v      int
		digits int
	}{{"vid", r.Vendor, 4}, {"pid", r.Product, 4}, {"rel", r.Release, 4}, {"class", r.Class, 2}, {"subclass", r.Subclass, 2}, {"prot", r.Protocol, 2}} {
		if f.v != Any {
			fmt.Fprintf(&b, " %s=%0*X", f.key, f.digits, f.v)
		}
	}
	return b.String()
}

func (d *Decision) mergeDisplay(ps []*compiledPolicy) {
	d.display = Display{MaxQuality: QualityLossless}
	for _, p := range ps {
		c := p.Display
		if d.qualityBy == nil || c.MaxQuality < d.display.MaxQuality {
			d.display.MaxQuality = c.MaxQuality
			d.qualityBy = sourceOf(p, "display.max_quality")
		}
		var fps int64
		fps, d.fpsBy = tighterLimit(int64(d.display.MaxFPS), d.fpsBy, int64(c.MaxFPS), sourceOf(p, "display.max_fps"))
		d.display.MaxFPS = int(fps)
	}
}

func (d *Decision) mergeWatermark(ps []*compiledPolicy) {
	var texts []string
	shown := false // whether a policy that shows a watermark has set the transparency
	for _, p := range ps {
		w := p.Watermark
		if d.watermarkBy == nil || w.Mode > d.watermark.Mode {
			d.watermark.Mode = w.Mode
			d.watermarkBy = sourceOf(p, "watermark.mode")
		}
		if w.Mode == WatermarkOff {
			continue
		}
		d.watermark.Fields |= w.Fields
		if !shown || w.Transparency < d.watermark.Transparency {
			d.watermark.Transparency = w.Transparency
			shown = true
		}
		if w.Fields&WatermarkCustomText != 0 && w.CustomText != "" && !slices.Contains(texts, w.CustomText) {
			texts = append(texts, w.CustomText)
		}
	}
	d.watermark.CustomText = strings.Join(texts, " | ")
}

func (d *Decision) mergeTimers(ps []*compiledPolicy) {
	for _, p := range ps {
		t := p.Timers
		for i, s := range p.schedules {
			d.schedules = append(d.schedules, sourcedSchedule{s, sourceOf(p, fmt.Sprintf("timers.schedule %d", i+1))})
		}
		var v int64
		v, d.disconnectBy = tighterLimit(int64(d.timers.DisconnectAfterIdle), d.disconnectBy, int64(t.DisconnectAfterIdle), sourceOf(p, "timers.disconnect_after_idle"))
		d.timers.DisconnectAfterIdle = time.Duration(v)
		v, d.shutdownBy = tighterLimit(int64(d.timers.ShutdownAfterIdle), d.shutdownBy, int64(t.ShutdownAfterIdle), sourceOf(p, "timers.shutdown_after_idle"))
		d.timers.ShutdownAfterIdle = time.Duration(v)
	}
	for _, s := range d.schedules {
		d.timers.Schedules = append(d.timers.Schedules, s.Schedule)
	}
}

func (d *Decision) mergeNetwork(ps []*compiledPolicy) {
	for _, p := range ps {
		n := p.Network
		list := ruleList[EgressRule]{rules: n.Egress, fallback: n.Default, noMatch: *sourceOf(p, "network.egress default: "+n.Default.String())}
		for i, r := range n.Egress {
			list.sources = append(list.sources, *sourceOf(p, fmt.Sprintf("network.egress rule %d: %v", i+1, r)))
		}
		d.network = append(d.network, list)
	}
}

func (d *Decision) mergePeripherals(ps []*compiledPolicy) {
	d.peripherals = PeripheralsAll
	for _, p := range ps {
		allowed := p.Peripherals.Allowed
		for i := range peripheralKinds {
			kind := Peripheral(1 << i)
			if d.peripheralBy[i] == nil || (d.peripherals&kind != 0 && allowed&kind == 0) {
				d.peripherals = d.peripherals&^kind | allowed&kind
				d.peripheralBy[i] = sourceOf(p, "peripherals."+peripheralNames[i])
			}
		}
	}
}
