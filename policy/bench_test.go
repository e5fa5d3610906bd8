package policy

import (
	"net/netip"
	"testing"
)

// benchDecision resolves a realistic decision: an organisation policy, two groups and a
// user, each speaking about several areas, with the default USB rules plus a group list.
func benchDecision(b *testing.B) *Decision {
	b.Helper()
	groupRules, err := ParseUSBRules("ALLOW: vid=0781 pid=5581\nALLOW: class=07\nDENY: class=08\nALLOW: class=03\nALLOW:")
	if err != nil {
		b.Fatal(err)
	}
	e, err := NewEngine(PolicySet{Version: 1, Policies: []Policy{
		{ID: "org", Scope: ScopeOrganization, Target: "acme",
			Clipboard:    &Clipboard{Direction: DirectionBoth, Formats: FormatText | FormatHTML, MaxBytes: 1 << 20},
			USB:          &USB{Rules: DefaultUSBRules()},
			FileTransfer: &FileTransfer{Upload: true, Download: true, MaxBytes: 1 << 30}},
		{ID: "fin", Scope: ScopeGroup, Target: "finance", USB: &USB{Rules: groupRules},
			FileTransfer: &FileTransfer{Upload: true, Download: true, MaxBytes: 100 << 20},
			Network:      &Network{Default: Deny, Egress: []EgressRule{{Effect: Allow, Prefix: netip.MustParsePrefix("10.0.0.0/8")}}}},
		{ID: "staff", Scope: ScopeGroup, Target: "staff", Clipboard: &Clipboard{Direction: DirectionBoth, Formats: FormatText, MaxBytes: 64 << 10}},
		{ID: "alice", Scope: ScopeUser, Target: "alice", Clipboard: &Clipboard{Direction: DirectionOut, Formats: FormatAll}},
	}})
	if err != nil {
		b.Fatal(err)
	}
	d, err := e.Resolve(alice, Attributes{})
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// The hot-path checks: each must stay under 100 ns with no allocation.

func BenchmarkDecisionClipboardCopy(b *testing.B) {
	d := benchDecision(b)
	b.ReportAllocs()
	for b.Loop() {
		if !d.CheckClipboard(DirectionOut, FormatText, 2048).Allowed {
			b.Fatal("copy should be allowed")
		}
	}
}

func BenchmarkDecisionUSBAttach(b *testing.B) {
	d := benchDecision(b)
	b.ReportAllocs()
	for b.Loop() {
		if !d.CheckUSB(flashDrive).Allowed {
			b.Fatal("the flash drive should be allowed")
		}
	}
}

func BenchmarkDecisionDownload(b *testing.B) {
	d := benchDecision(b)
	b.ReportAllocs()
	for b.Loop() {
		if !d.CheckDownload(5 << 20).Allowed {
			b.Fatal("download should be allowed")
		}
	}
}

func BenchmarkDecisionEgress(b *testing.B) {
	d := benchDecision(b)
	addr := netip.MustParseAddr("10.1.2.3")
	b.ReportAllocs()
	for b.Loop() {
		if !d.CheckEgress(addr, 443).Allowed {
			b.Fatal("egress should be allowed")
		}
	}
}

// BenchmarkResolve is the once-per-session cost, for comparison with the per-event checks.
func BenchmarkResolve(b *testing.B) {
	e, err := NewEngine(PolicySet{Version: 1, Policies: []Policy{
		{ID: "org", Scope: ScopeOrganization, Target: "acme", When: `terminal_type != "mobile"`, Clipboard: &Clipboard{Direction: DirectionBoth, Formats: FormatText}},
		{ID: "fin", Scope: ScopeGroup, Target: "finance", USB: &USB{Rules: DefaultUSBRules()}},
	}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Resolve(alice, Attributes{TerminalType: "browser"}); err != nil {
			b.Fatal(err)
		}
	}
}
