package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// FS returns the page's files: index.html, client.js and style.css.
func FS() (fs.FS, error) { return fs.Sub(static, "static") }

// Handler serves the page. Mount it on "/".
func Handler() http.Handler {
	sub, err := FS()
	if err != nil { // the embedded tree always has "static"; kept for completeness
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "web: "+err.Error(), http.StatusInternalServerError)
		})
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}
