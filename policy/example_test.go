package policy_test

import (
	"fmt"
	"log"

	"github.com/shadowless-dev/shadowless/policy"
)

// Resolve a session's decision once, then check each event against it.
func ExampleEngine_Resolve() {
	engine, err := policy.NewEngine(policy.PolicySet{Version: 3, Policies: []policy.Policy{
		{ID: "acme-base", Scope: policy.ScopeOrganization, Target: "acme",
			Clipboard: &policy.Clipboard{Direction: policy.DirectionBoth, Formats: policy.FormatText, MaxBytes: 1 << 20}},
		{ID: "finance-dlp", Scope: policy.ScopeGroup, Target: "finance",
			When:      `terminal_type != "thin-client"`,
			Clipboard: &policy.Clipboard{Direction: policy.DirectionIn, Formats: policy.FormatAll}},
	}})
	if err != nil {
		log.Fatal(err)
	}
	decision, err := engine.Resolve(
		policy.Subject{Organization: "acme", Groups: []string{"finance"}, User: "alice"},
		policy.Attributes{TerminalType: "browser"})
	if err != nil {
		log.Fatal(err)
	}

	copyOut := decision.CheckClipboard(policy.DirectionOut, policy.FormatText, 120)
	fmt.Println(copyOut.Allowed, "-", copyOut.Reason, "-", copyOut.By)
	pasteIn := decision.CheckClipboard(policy.DirectionIn, policy.FormatText, 120)
	fmt.Println(pasteIn.Allowed, "- version", decision.Version())
	// Output:
	// false - clipboard direction not allowed - policy "finance-dlp" (group finance): clipboard.direction
	// true - version 3
}
