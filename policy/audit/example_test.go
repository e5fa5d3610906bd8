package audit_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/shadowless-dev/shadowless/policy/audit"
)

func ExampleVerify() {
	var file bytes.Buffer
	l := audit.NewLog(&file, audit.Checkpoint{})
	for _, target := range []string{"bob", "carol"} {
		if _, err := l.Append(audit.Entry{Actor: "sec", Role: "security-admin", Action: "grant", Target: target, Outcome: "ok"}); err != nil {
			log.Fatal(err)
		}
	}
	head := l.Head() // keep it somewhere the log's editors cannot reach

	_, err := audit.Verify(strings.NewReader(file.String()), &head)
	fmt.Println("intact:", err)

	edited := strings.Replace(file.String(), `"target":"bob"`, `"target":"eve"`, 1)
	_, err = audit.Verify(strings.NewReader(edited), &head)
	fmt.Println("edited:", errors.Is(err, audit.ErrTampered), err)
	// Output:
	// intact: <nil>
	// edited: true audit: log has been tampered with at line 1 (entry 1): contents do not match the hash (the entry was edited)
}
