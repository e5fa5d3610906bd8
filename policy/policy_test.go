package policy

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var alice = Subject{Organization: "acme", Groups: []string{"finance", "staff"}, User: "alice", DesktopGroup: "office-desktops"}

func resolve(t *testing.T, subj Subject, attrs Attributes, ps ...Policy) *Decision {
	t.Helper()
	e, err := NewEngine(PolicySet{Version: 7, Policies: ps})
	require.NoError(t, err)
	d, err := e.Resolve(subj, attrs)
	require.NoError(t, err)
	return d
}

func TestStricterClipboardWinsFieldByField(t *testing.T) {
	d := resolve(t, alice, Attributes{},
		Policy{ID: "org", Scope: ScopeOrganization, Target: "acme",
			Clipboard: &Clipboard{Direction: DirectionBoth, Formats: FormatText | FormatImage, MaxBytes: 1 << 20}},
		Policy{ID: "fin", Scope: ScopeGroup, Target: "finance",
			Clipboard: &Clipboard{Direction: DirectionIn, Formats: FormatAll, MaxBytes: 0}},
		Policy{ID: "alice", Scope: ScopeUser, Target: "alice",
			Clipboard: &Clipboard{Direction: DirectionBoth, Formats: FormatText, MaxBytes: 4096}},
	)
	assert.Equal(t, Clipboard{Direction: DirectionIn, Formats: FormatText, MaxBytes: 4096}, d.Clipboard())
	assert.EqualValues(t, 7, d.Version())

	v := d.CheckClipboard(DirectionOut, FormatText, 10)
	assert.False(t, v.Allowed)
	assert.Equal(t, ReasonClipboardDirection, v.Reason)
	assert.Equal(t, "fin", v.By.PolicyID, "the group policy removed the out direction")

	v = d.CheckClipboard(DirectionIn, FormatImage, 10)
	assert.False(t, v.Allowed)
	assert.Equal(t, "alice", v.By.PolicyID, "the user policy removed images")

	v = d.CheckClipboard(DirectionIn, FormatText, 4097)
	assert.False(t, v.Allowed)
	assert.Equal(t, ReasonClipboardSize, v.Reason)
	assert.Equal(t, "alice", v.By.PolicyID)

	v = d.CheckClipboard(DirectionIn, FormatText, 4096)
	assert.True(t, v.Allowed)
	assert.NotNil(t, v.By)
}

func TestNarrowScopeCannotLoosenWiderScope(t *testing.T) {
	d := resolve(t, alice, Attributes{},
		Policy{ID: "org", Scope: ScopeOrganization, Target: "acme", FileTransfer: &FileTransfer{Upload: true, Download: false}},
		Policy{ID: "desk", Scope: ScopeDesktopGroup, Target: "office-desktops", FileTransfer: &FileTransfer{Upload: true, Download: true, MaxBytes: 100}},
	)
	v := d.CheckDownload(1)
	assert.False(t, v.Allowed)
	assert.Equal(t, "org", v.By.PolicyID)
	assert.Equal(t, ScopeOrganization, v.By.Scope)

	v = d.CheckUpload(101)
	assert.False(t, v.Allowed)
	assert.Equal(t, ReasonFileSize, v.Reason)
	assert.Equal(t, "desk", v.By.PolicyID)
	assert.True(t, d.CheckUpload(100).Allowed)
}

func TestPoliciesOfOtherSubjectsDoNotApply(t *testing.T) {
	d := resolve(t, alice, Attributes{},
		Policy{ID: "other-org", Scope: ScopeOrganization, Target: "globex", Clipboard: &Clipboard{}},
		Policy{ID: "other-group", Scope: ScopeGroup, Target: "sales", Clipboard: &Clipboard{}},
		Policy{ID: "bob", Scope: ScopeUser, Target: "bob", Clipboard: &Clipboard{}},
		Policy{ID: "other-desk", Scope: ScopeDesktopGroup, Target: "lab", Clipboard: &Clipboard{}},
	)
	assert.Empty(t, d.Applied())
	v := d.CheckClipboard(DirectionOut, FormatText, 1)
	assert.True(t, v.Allowed, "built-in default allows text both ways")
	assert.Equal(t, BuiltinPolicyID, v.By.PolicyID)
	assert.Contains(t, v.By.String(), "built-in default")
}

func TestAreaSpokenAboutReplacesDefault(t *testing.T) {
	// The default denies downloads; an organisation may allow them.
	d := resolve(t, alice, Attributes{},
		Policy{ID: "org", Scope: ScopeOrganization, Target: "acme", FileTransfer: &FileTransfer{Upload: true, Download: true}})
	assert.True(t, d.CheckDownload(1<<30).Allowed)

	d = resolve(t, alice, Attributes{})
	v := d.CheckDownload(1)
	assert.False(t, v.Allowed)
	assert.Equal(t, BuiltinPolicyID, v.By.PolicyID)
}

func TestDisplayWatermarkTimersTakeTheStricter(t *testing.T) {
	d := resolve(t, alice, Attributes{},
		Policy{ID: "org", Scope: ScopeOrganization, Target: "acme",
			Display:   &Display{MaxQuality: QualityHigh, MaxFPS: 0},
			Watermark: &Watermark{Mode: WatermarkInvisible, Fields: WatermarkUserID, Transparency: 90},
			Timers:    &Timers{DisconnectAfterIdle: time.Hour, Schedules: []Schedule{{Cron: "0 3 * * *", Action: ActionReboot}}}},
		Policy{ID: "fin", Scope: ScopeGroup, Target: "finance",
			Display:   &Display{MaxQuality: QualityLossless, MaxFPS: 30},
			Watermark: &Watermark{Mode: WatermarkOn, Fields: WatermarkClientIP | WatermarkCustomText, CustomText: "CONFIDENTIAL", Transparency: 60},
			Timers:    &Timers{DisconnectAfterIdle: 15 * time.Minute, ShutdownAfterIdle: 2 * time.Hour, Schedules: []Schedule{{Cron: "30 1 * * 1", Action: ActionReset}}}},
	)
	assert.Equal(t, Display{MaxQuality: QualityHigh, MaxFPS: 30}, d.Display())
	wm := d.Watermark()
	assert.Equal(t, WatermarkOn, wm.Mode)
	assert.Equal(t, WatermarkUserID|WatermarkClientIP|WatermarkCustomText, wm.Fields)
	assert.Equal(t, 60, wm.Transparency)
	assert.Equal(t, "CONFIDENTIAL", wm.CustomText)
	disc, shut := d.IdleLimits()
	assert.Equal(t, 15*time.Minute, disc)
	assert.Equal(t, 2*time.Hour, shut)

	// Monday 2026-11-30 00:00 UTC: the group's 01:30 Monday reset comes before the 03:00 reboot.
	s, at, by, ok := d.NextTimer(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC))
	require.True(t, ok)
	assert.Equal(t, ActionReset, s.Action)
	assert.Equal(t, time.Date(2026, 11, 30, 1, 30, 0, 0, time.UTC), at)
	assert.Equal(t, "fin", by.PolicyID)
	// After it, the daily reboot.
	s, at, _, ok = d.NextTimer(at)
	require.True(t, ok)
	assert.Equal(t, ActionReboot, s.Action)
	assert.Equal(t, time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC), at)
}

func TestConditionsSelectPolicies(t *testing.T) {
	outsideOffice := Policy{ID: "outside", Scope: ScopeOrganization, Target: "acme",
		When:         `!cidr('10.0.0.0/8').containsIP(client_ip) || terminal_type == "mobile"`,
		FileTransfer: &FileTransfer{Upload: false, Download: false}}
	nightly := Policy{ID: "night", Scope: ScopeOrganization, Target: "acme",
		When:    `now.getHours("UTC") < 7`,
		Display: &Display{MaxQuality: QualityLow}}
	office := Attributes{Time: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), ClientIP: netip.MustParseAddr("10.1.2.3"), TerminalType: "thin-client"}

	d := resolve(t, alice, office, outsideOffice, nightly)
	assert.Empty(t, d.Applied())
	assert.True(t, d.CheckUpload(1).Allowed)
	assert.Equal(t, QualityLossless, d.Display().MaxQuality)

	home := office
	home.ClientIP = netip.MustParseAddr("192.0.2.7")
	home.Time = time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)
	d = resolve(t, alice, home, outsideOffice, nightly)
	assert.Equal(t, []string{"outside", "night"}, d.Applied())
	v := d.CheckUpload(1)
	assert.False(t, v.Allowed)
	assert.Equal(t, "outside", v.By.PolicyID)
	assert.Equal(t, QualityLow, d.Display().MaxQuality)
}

func TestConditionErrors(t *testing.T) {
	_, err := NewEngine(PolicySet{Policies: []Policy{{ID: "p", Scope: ScopeOrganization, Target: "acme", When: `client_ip + 1`}}})
	require.ErrorIs(t, err, ErrCondition)

	_, err = NewEngine(PolicySet{Policies: []Policy{{ID: "p", Scope: ScopeOrganization, Target: "acme", When: `terminal_type`}}})
	require.ErrorIs(t, err, ErrCondition, "a condition must yield a bool")
	assert.Contains(t, err.Error(), "want bool")

	// client_ip empty cannot be parsed: resolution fails rather than dropping the restriction.
	e, err := NewEngine(PolicySet{Policies: []Policy{{ID: "p", Scope: ScopeOrganization, Target: "acme",
		When: `cidr('10.0.0.0/8').containsIP(ip(client_ip))`, Clipboard: &Clipboard{}}}})
	require.NoError(t, err)
	_, err = e.Resolve(alice, Attributes{})
	require.ErrorIs(t, err, ErrCondition)
}

func TestValidation(t *testing.T) {
	for name, p := range map[string]Policy{
		"no id":          {Scope: ScopeUser, Target: "a"},
		"no target":      {ID: "x", Scope: ScopeUser},
		"bad scope":      {ID: "x", Scope: 9, Target: "a"},
		"bad direction":  {ID: "x", Scope: ScopeUser, Target: "a", Clipboard: &Clipboard{Direction: 8}},
		"bad quality":    {ID: "x", Scope: ScopeUser, Target: "a", Display: &Display{}},
		"transparency":   {ID: "x", Scope: ScopeUser, Target: "a", Watermark: &Watermark{Transparency: 101}},
		"bad cron":       {ID: "x", Scope: ScopeUser, Target: "a", Timers: &Timers{Schedules: []Schedule{{Cron: "61 * * * *", Action: ActionBoot}}}},
		"bad action":     {ID: "x", Scope: ScopeUser, Target: "a", Timers: &Timers{Schedules: []Schedule{{Cron: "0 * * * *"}}}},
		"bad usb field":  {ID: "x", Scope: ScopeUser, Target: "a", USB: &USB{Rules: []USBRule{{Class: 300, Subclass: Any, Protocol: Any, Vendor: Any, Product: Any, Release: Any}}}},
		"bad port range": {ID: "x", Scope: ScopeUser, Target: "a", Network: &Network{Egress: []EgressRule{{FromPort: 10, ToPort: 5}}}},
		"bad peripheral": {ID: "x", Scope: ScopeUser, Target: "a", Peripherals: &Peripherals{Allowed: 1 << 7}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewEngine(PolicySet{Policies: []Policy{p}})
			require.ErrorIs(t, err, ErrInvalidPolicy)
		})
	}
	_, err := NewEngine(PolicySet{Policies: []Policy{
		{ID: "x", Scope: ScopeUser, Target: "a"}, {ID: "x", Scope: ScopeUser, Target: "b"}}})
	require.ErrorIs(t, err, ErrInvalidPolicy, "duplicate ids")
}

func TestEngineCopiesPolicies(t *testing.T) {
	ps := []Policy{{ID: "org", Scope: ScopeOrganization, Target: "acme", FileTransfer: &FileTransfer{}}}
	e, err := NewEngine(PolicySet{Policies: ps})
	require.NoError(t, err)
	ps[0].Target = "globex"
	d, err := e.Resolve(alice, Attributes{})
	require.NoError(t, err)
	assert.Equal(t, []string{"org"}, d.Applied())
}

func TestEgress(t *testing.T) {
	d := resolve(t, alice, Attributes{},
		Policy{ID: "org", Scope: ScopeOrganization, Target: "acme", Network: &Network{Default: Allow, Egress: []EgressRule{
			{Effect: Deny, Prefix: netip.MustParsePrefix("203.0.113.0/24")},
		}}},
		Policy{ID: "fin", Scope: ScopeGroup, Target: "finance", Network: &Network{Default: Deny, Egress: []EgressRule{
			{Effect: Allow, Prefix: netip.MustParsePrefix("10.0.0.0/8"), FromPort: 443, ToPort: 443},
			{Effect: Allow, Prefix: netip.MustParsePrefix("203.0.113.0/24")},
		}}},
	)
	assert.True(t, d.CheckEgress(netip.MustParseAddr("10.9.9.9"), 443).Allowed)
	v := d.CheckEgress(netip.MustParseAddr("10.9.9.9"), 80)
	assert.False(t, v.Allowed)
	assert.Equal(t, ReasonEgressDefault, v.Reason)
	assert.Equal(t, "fin", v.By.PolicyID)
	v = d.CheckEgress(netip.MustParseAddr("203.0.113.5"), 443)
	assert.False(t, v.Allowed, "the org's deny holds although the group allows")
	assert.Equal(t, "org", v.By.PolicyID)
	assert.Contains(t, v.By.Setting, "deny 203.0.113.0/24")
}

func TestPeripherals(t *testing.T) {
	d := resolve(t, alice, Attributes{},
		Policy{ID: "org", Scope: ScopeOrganization, Target: "acme", Peripherals: &Peripherals{Allowed: PeripheralsAll}},
		Policy{ID: "alice", Scope: ScopeUser, Target: "alice", Peripherals: &Peripherals{Allowed: PeripheralPrinter | PeripheralStorage}},
	)
	assert.True(t, d.CheckPeripheral(PeripheralPrinter).Allowed)
	v := d.CheckPeripheral(PeripheralCamera)
	assert.False(t, v.Allowed)
	assert.Equal(t, "alice", v.By.PolicyID)
	assert.False(t, d.CheckPeripheral(PeripheralCamera|PeripheralPrinter).Allowed, "a set is not one kind")

	d = resolve(t, alice, Attributes{})
	assert.False(t, d.CheckPeripheral(PeripheralBluetooth).Allowed, "bluetooth is off by default")
}

func TestExplainNamesEverySetting(t *testing.T) {
	d := resolve(t, alice, Attributes{},
		Policy{ID: "org", Scope: ScopeOrganization, Target: "acme", Clipboard: &Clipboard{Direction: DirectionOut, Formats: FormatText}})
	settings := map[string]*Source{}
	for _, e := range d.Explain() {
		require.NotNil(t, e.By, e.Setting)
		settings[e.Setting] = e.By
	}
	assert.Equal(t, "org", settings["clipboard.direction"].PolicyID)
	assert.Equal(t, BuiltinPolicyID, settings["display.max_quality"].PolicyID)
	assert.Contains(t, settings, "peripherals.camera")
}
