package policy

import (
	"fmt"
	"time"
)

// Scope is the level a policy is attached to. Policies of every scope that applies to a
// session are combined; where they disagree the stricter setting wins, whatever the scope.
type Scope uint8

// The scopes, from the widest to the narrowest.
const (
	ScopeOrganization Scope = iota + 1
	ScopeGroup
	ScopeUser
	// ScopeDesktopGroup covers desktop groups and application groups: the resource the
	// session was launched from.
	ScopeDesktopGroup
)

// String returns the scope's name as it appears in explanations.
func (s Scope) String() string {
	switch s {
	case ScopeOrganization:
		return "organization"
	case ScopeGroup:
		return "group"
	case ScopeUser:
		return "user"
	case ScopeDesktopGroup:
		return "desktop-group"
	}
	return fmt.Sprintf("scope(%d)", uint8(s))
}

// Policy is one administrator-written rule set attached to a scope. Each section is
// optional: a nil section says nothing about that area, so it neither loosens nor tightens
// what other policies decide there.
type Policy struct {
	// ID identifies the policy in explanations and audit records.
	ID string
	// Scope and Target say what the policy is attached to: Target is the organisation,
	// group, user or desktop-group id.
	Scope  Scope
	Target string
	// When is an optional CEL condition over the session's attributes; the policy applies
	// only when it evaluates to true. See Attributes for the variables.
	When string

	Clipboard    *Clipboard
	USB          *USB
	FileTransfer *FileTransfer
	Display      *Display
	Watermark    *Watermark
	Timers       *Timers
	Network      *Network
	Peripherals  *Peripherals
}

// Direction is a set of clipboard directions.
type Direction uint8

// Clipboard directions, seen from the session: In is client → desktop (paste into the cloud
// desktop), Out is desktop → client (copy out of it).
const (
	DirectionNone Direction = 0
	DirectionIn   Direction = 1 << 0
	DirectionOut  Direction = 1 << 1
	DirectionBoth           = DirectionIn | DirectionOut
)

// Format is a set of clipboard formats.
type Format uint8

// Clipboard formats.
const (
	FormatText  Format = 1 << 0
	FormatHTML  Format = 1 << 1
	FormatImage Format = 1 << 2
	FormatFile  Format = 1 << 3
	FormatAll          = FormatText | FormatHTML | FormatImage | FormatFile
)

// Clipboard limits clipboard sharing between the client and the session.
type Clipboard struct {
	Direction Direction
	Formats   Format
	// MaxBytes is the largest transfer allowed; 0 means no limit.
	MaxBytes int64
}

// FileTransfer says whether files may move between the client and the session.
type FileTransfer struct {
	Upload   bool
	Download bool
	// MaxBytes is the largest file allowed either way; 0 means no limit.
	MaxBytes int64
}

// Quality is a display quality level; a lower level is stricter.
type Quality uint8

// Display quality levels.
const (
	QualityLow Quality = iota + 1
	QualityMedium
	QualityHigh
	QualityLossless
)

// Display caps the picture the session streams.
type Display struct {
	MaxQuality Quality
	// MaxFPS caps the frame rate; 0 means no cap.
	MaxFPS int
}

// WatermarkMode says how a watermark is shown; a visible watermark is the strictest.
type WatermarkMode uint8

// Watermark modes, from the least to the most strict.
const (
	WatermarkOff WatermarkMode = iota
	// WatermarkInvisible embeds the fields in the picture where a person cannot see them.
	WatermarkInvisible
	WatermarkOn
)

// WatermarkField is a set of facts a watermark shows.
type WatermarkField uint8

// Watermark fields.
const (
	WatermarkUserID WatermarkField = 1 << iota
	WatermarkClientIP
	WatermarkHost
	WatermarkTime
	WatermarkCustomText
)

// Watermark overlays identifying facts on the session's picture.
type Watermark struct {
	Mode   WatermarkMode
	Fields WatermarkField
	// CustomText is shown when Fields has WatermarkCustomText.
	CustomText string
	// Transparency in percent: 0 is opaque, 100 invisible to the eye. Lower is stricter.
	Transparency int
}

// TimerAction is what a scheduled timer does to the desktop.
type TimerAction uint8

// Timer actions.
const (
	ActionBoot TimerAction = iota + 1
	ActionReboot
	ActionReset
	ActionShutdown
)

// String names the action.
func (a TimerAction) String() string {
	switch a {
	case ActionBoot:
		return "boot"
	case ActionReboot:
		return "reboot"
	case ActionReset:
		return "reset"
	case ActionShutdown:
		return "shutdown"
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// Schedule is one cron-driven timer. Cron is the standard five-field syntax, in UTC.
type Schedule struct {
	Cron   string
	Action TimerAction
}

// Timers holds scheduled actions and idle limits.
type Timers struct {
	Schedules []Schedule
	// DisconnectAfterIdle disconnects a session with no input for this long; 0 means never.
	DisconnectAfterIdle time.Duration
	// ShutdownAfterIdle shuts the desktop down after no input for this long; 0 means never.
	ShutdownAfterIdle time.Duration
}

// Network holds the egress rules of a session's desktop.
type Network struct {
	// Egress rules, first match wins; Default applies when none matches.
	Egress  []EgressRule
	Default Effect
}

// Effect is what a matching rule does.
type Effect uint8

// Rule effects. The zero value denies, so a forgotten field is never permissive.
const (
	Deny Effect = iota
	Allow
)

// String names the effect.
func (e Effect) String() string {
	if e == Allow {
		return "allow"
	}
	return "deny"
}

// Peripheral is a kind of device a user may bring into a session.
type Peripheral uint8

// Peripheral kinds; each is a bit of a Peripherals set.
const (
	PeripheralStorage Peripheral = 1 << iota
	PeripheralPrinter
	PeripheralScanner
	PeripheralCamera
	PeripheralBluetooth
	PeripheralsAll = PeripheralStorage | PeripheralPrinter | PeripheralScanner | PeripheralCamera | PeripheralBluetooth
)

// Peripherals is the set of peripheral kinds allowed.
type Peripherals struct {
	Allowed Peripheral
}
