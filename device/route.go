package device

import "fmt"

// Path is how a device reaches the machine that uses it.
type Path int

// Redirection paths.
const (
	// PathURB forwards raw URBs (usbredir or USB/IP): the remote OS drives the device.
	PathURB Path = iota
	// PathFiles offers a mass storage device's files to the file center: the volume is
	// mounted on the side it is plugged into and only files cross the link.
	PathFiles
	// PathPrintJobs turns a printer into print jobs: documents cross the link and are
	// printed by the local spooler.
	PathPrintJobs
	// PathDenied means the device is not redirected at all.
	PathDenied
)

// String names the path.
func (p Path) String() string {
	switch p {
	case PathURB:
		return "urb"
	case PathFiles:
		return "files"
	case PathPrintJobs:
		return "print-jobs"
	case PathDenied:
		return "denied"
	}
	return fmt.Sprintf("path(%d)", int(p))
}

// Route is the chosen path and the reason for it, in words an administrator can read.
type Route struct {
	Path   Path
	Reason string
}

// RouteOptions adjust ChooseRoute.
type RouteOptions struct {
	// ForceURB sends every allowed device as URBs (for example when the using side
	// runs its own drivers and no file center or spooler is involved).
	ForceURB bool
	// Policy, when set, is checked first; a denial yields PathDenied.
	Policy *Policy
}

// ChooseRoute says which path a device should take and why. Device-level redirection is
// preferred where the class allows it: whole mass storage devices become files (no raw
// block access from a remote OS, no corruption when the link drops mid-write, and file
// policy applies), whole printers become print jobs (no driver needed remotely, spooling
// survives link hiccups). Hubs and wireless controllers are never redirected. Everything
// else, and composite devices that mix those classes with others, goes as URBs.
func ChooseRoute(id Identity, o RouteOptions) Route {
	if err := SafeDefaults(id); err != nil {
		return Route{PathDenied, err.Error()}
	}
	if o.Policy != nil {
		if err := o.Policy.Check(id); err != nil {
			return Route{PathDenied, err.Error()}
		}
	}
	if o.ForceURB {
		return Route{PathURB, "URB-level redirection was requested for every device"}
	}
	classes := map[uint8]int{}
	for _, i := range id.Interfaces {
		classes[i.Class]++
	}
	only := func(c uint8) bool { return len(classes) == 1 && classes[c] > 0 }
	switch {
	case only(ClassMassStorage):
		for _, i := range id.Interfaces {
			if i.SubClass != 0x06 || (i.Protocol != 0x50 && i.Protocol != 0x62) {
				return Route{PathURB, fmt.Sprintf("mass storage with subclass %#02x protocol %#02x is not a SCSI disk this side can mount; forwarded as URBs", i.SubClass, i.Protocol)}
			}
		}
		return Route{PathFiles, "mass storage is mounted on the side it is plugged into and offered as files to the file center: no raw block access across the link, file-transfer policy applies, and a dropped link cannot corrupt the file system"}
	case only(ClassPrinter):
		return Route{PathPrintJobs, "printers are redirected as print jobs: the using side needs no printer driver and spooling survives link interruptions"}
	case classes[ClassMassStorage] > 0 || classes[ClassPrinter] > 0:
		return Route{PathURB, "composite device mixing storage or printer interfaces with other functions; forwarded whole as URBs so every function keeps working"}
	case only(ClassSmartCard):
		return Route{PathURB, "smart card reader: forwarded as URBs (PC/SC-level redirection is not implemented here; it would keep the card usable on both sides)"}
	case id.Class == ClassVendor || classes[ClassVendor] > 0:
		return Route{PathURB, "vendor-specific device: only its own driver on the using side can drive it, so URBs are forwarded"}
	}
	return Route{PathURB, "no device-level redirection exists for this class; URBs are forwarded"}
}
