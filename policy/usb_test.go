package policy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	flashDrive = &USBDevice{Vendor: 0x0781, Product: 0x5581, Interfaces: []USBInterface{{Class: 0x08, Subclass: 0x06, Protocol: 0x50}}}
	keyboard   = &USBDevice{Vendor: 0x046D, Product: 0xC31C, Interfaces: []USBInterface{{Class: 0x03, Subclass: 0x01, Protocol: 0x01}}}
	scanner    = &USBDevice{Vendor: 0x05E0, Product: 0x1200, Interfaces: []USBInterface{{Class: 0x03, Subclass: 0x00, Protocol: 0x00}}}
	hub        = &USBDevice{Vendor: 0x1D6B, Product: 0x0002, Class: 0x09}
	// A headset with an audio interface and a vendor-specific storage interface.
	composite = &USBDevice{Vendor: 0x0B0E, Product: 0x0348, Interfaces: []USBInterface{{Class: 0x01, Subclass: 0x01}, {Class: 0x08, Subclass: 0x06, Protocol: 0x50}}}
)

func TestParseUSBRules(t *testing.T) {
	rules, err := ParseUSBRules(`
# comment line
ALLOW: vid=046D pid=C31C     # one keyboard
deny:  class=08 subclass=06
Allow:
`)
	require.NoError(t, err)
	require.Len(t, rules, 3)
	assert.Equal(t, USBRule{Effect: Allow, Vendor: 0x046D, Product: 0xC31C, Class: Any, Subclass: Any, Protocol: Any, Release: Any,
		Text: "ALLOW: vid=046D pid=C31C"}, rules[0])
	assert.Equal(t, Deny, rules[1].Effect)
	assert.Equal(t, 0x08, rules[1].Class)
	assert.Equal(t, 0x06, rules[1].Subclass)
	assert.Equal(t, USBRule{Effect: Allow, Vendor: Any, Product: Any, Class: Any, Subclass: Any, Protocol: Any, Release: Any, Text: "Allow:"}, rules[2])

	for _, bad := range []string{"MAYBE: class=08", "ALLOW class=08", "ALLOW: colour=red", "ALLOW: class=100", "ALLOW: vid=xyz", "ALLOW: class=08 class=09", "DENY: class"} {
		_, err := ParseUSBRules("ALLOW: vid=1\n" + bad)
		require.ErrorIs(t, err, ErrUSBRuleSyntax, bad)
		assert.Contains(t, err.Error(), "line 2", bad)
	}
}

func TestDefaultUSBRules(t *testing.T) {
	d := resolve(t, alice, Attributes{})
	assert.True(t, d.CheckUSB(flashDrive).Allowed)
	assert.True(t, d.CheckUSB(scanner).Allowed, "a non-boot HID such as a barcode scanner is allowed")
	v := d.CheckUSB(keyboard)
	assert.False(t, v.Allowed, "boot keyboards travel as input events")
	assert.Contains(t, v.By.Setting, "class=03 subclass=01")
	v = d.CheckUSB(hub)
	assert.False(t, v.Allowed)
	assert.Contains(t, v.By.Setting, "class=09")
}

func TestUSBFirstMatchWinsAndCompositeDenial(t *testing.T) {
	rules, err := ParseUSBRules(`
ALLOW: vid=0781 pid=5581   # the company's flash drives
DENY:  class=08            # other storage
ALLOW:
`)
	require.NoError(t, err)
	d := resolve(t, alice, Attributes{}, Policy{ID: "org", Scope: ScopeOrganization, Target: "acme", USB: &USB{Rules: rules}})

	v := d.CheckUSB(flashDrive)
	assert.True(t, v.Allowed, "first match wins over the later storage deny")
	assert.Equal(t, "usb rule 1: ALLOW: vid=0781 pid=5581", v.By.Setting)

	other := *flashDrive
	other.Vendor = 0x0951
	v = d.CheckUSB(&other)
	assert.False(t, v.Allowed)
	assert.Equal(t, ReasonUSBDenied, v.Reason)
	assert.Equal(t, "usb rule 2: DENY:  class=08", v.By.Setting)

	v = d.CheckUSB(composite)
	assert.False(t, v.Allowed, "one denied interface denies the whole device")
	assert.Contains(t, v.By.Setting, "class=08")
}

func TestUSBEveryScopeMustAllow(t *testing.T) {
	d := resolve(t, alice, Attributes{},
		Policy{ID: "org", Scope: ScopeOrganization, Target: "acme", USB: &USB{Rules: []USBRule{
			{Effect: Allow, Class: Any, Subclass: Any, Protocol: Any, Vendor: Any, Product: Any, Release: Any}}}},
		Policy{ID: "fin", Scope: ScopeGroup, Target: "finance", USB: &USB{Rules: []USBRule{
			{Effect: Allow, Class: 0x03, Subclass: Any, Protocol: Any, Vendor: Any, Product: Any, Release: Any}}}},
	)
	assert.True(t, d.CheckUSB(scanner).Allowed)
	v := d.CheckUSB(flashDrive)
	assert.False(t, v.Allowed)
	assert.Equal(t, ReasonUSBNoRule, v.Reason, "no rule of the group's list matches storage")
	assert.Equal(t, "fin", v.By.PolicyID)
	assert.Equal(t, "usb: no rule matched", v.By.Setting)
}

func TestUSBRuleTextForRulesBuiltInCode(t *testing.T) {
	d := resolve(t, alice, Attributes{}, Policy{ID: "org", Scope: ScopeOrganization, Target: "acme", USB: &USB{Rules: []USBRule{
		{Effect: Deny, Class: Any, Subclass: Any, Protocol: Any, Vendor: 0x0781, Product: Any, Release: Any}}}})
	v := d.CheckUSB(flashDrive)
	assert.False(t, v.Allowed)
	assert.Equal(t, "usb rule 1: DENY: vid=0781", v.By.Setting)
}

func FuzzParseUSBRules(f *testing.F) {
	f.Add("ALLOW: vid=046D pid=C52B\nDENY: class=09 # hubs\nALLOW:")
	f.Add("deny: class=08 subclass=06 prot=50 rel=0100")
	f.Add("ALLOW: vid=0x1")
	f.Add("::::\n#\n=")
	f.Fuzz(func(t *testing.T, text string) {
		rules, err := ParseUSBRules(text)
		if err != nil {
			require.ErrorIs(t, err, ErrUSBRuleSyntax)
			return
		}
		for _, r := range rules {
			require.True(t, usbFieldOK(r.Class, 0xff) && usbFieldOK(r.Subclass, 0xff) && usbFieldOK(r.Protocol, 0xff))
			require.True(t, usbFieldOK(r.Vendor, 0xffff) && usbFieldOK(r.Product, 0xffff) && usbFieldOK(r.Release, 0xffff))
			require.NotEmpty(t, strings.TrimSpace(r.Text))
			// What parses must be accepted by the engine and evaluate without failing.
			_, _ = evaluateUSB(rules, flashDrive)
		}
		_, err = NewEngine(PolicySet{Policies: []Policy{{ID: "f", Scope: ScopeUser, Target: "u", USB: &USB{Rules: rules}}}})
		require.NoError(t, err)
	})
}
