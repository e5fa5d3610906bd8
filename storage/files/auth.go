package files

import (
	"crypto/subtle"
	"net/http"
)

// Authenticator identifies the user of a request; ok is false to refuse it.
type Authenticator func(r *http.Request) (user string, ok bool)

// BasicAuth is an Authenticator that takes HTTP Basic credentials and asks check whether
// they are right.
func BasicAuth(check func(user, password string) bool) Authenticator {
	return func(r *http.Request) (string, bool) {
		u, p, ok := r.BasicAuth()
		if !ok || u == "" || !check(u, p) {
			return "", false
		}
		return u, true
	}
}

// Passwords returns a check for BasicAuth from a fixed user → password table, comparing
// in constant time.
func Passwords(users map[string]string) func(user, password string) bool {
	return func(user, password string) bool {
		want, ok := users[user]
		if !ok {
			// Compare anyway so timing does not reveal which users exist.
			subtle.ConstantTimeCompare([]byte(password), []byte(password))
			return false
		}
		return subtle.ConstantTimeCompare([]byte(want), []byte(password)) == 1
	}
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="shadowless files", charset="UTF-8"`)
	http.Error(w, "authentication required", http.StatusUnauthorized)
}
