package rbac_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/shadowless-dev/shadowless/policy/rbac"
)

func ExampleAuthorizer_Grant() {
	auth, err := rbac.New(rbac.Bootstrap{SystemAdmin: "root", SecurityAdmin: "sec", Auditor: "audit"})
	if err != nil {
		log.Fatal(err)
	}
	// The security administrator grants; the system administrator cannot.
	fmt.Println(auth.Grant("sec", "bob", rbac.SystemAdmin))
	fmt.Println(errors.Is(auth.Grant("root", "carol", rbac.SystemAdmin), rbac.ErrForbidden))
	// Nobody may hold two separated duties.
	fmt.Println(errors.Is(auth.Grant("sec", "bob", rbac.Auditor), rbac.ErrSeparation))
	fmt.Println(auth.Allowed("bob", rbac.UsersWrite), auth.Allowed("bob", rbac.GrantsWrite))
	// Output:
	// <nil>
	// true
	// true
	// true false
}
