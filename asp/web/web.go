package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// FS returns the page's files: index.html, client.js and style.css.
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// The embedded tree always has a "static" directory; this cannot happen.
		panic(err)
	}
	return sub
}

// Handler serves the page. Mount it on "/".
func Handler() http.Handler {
	files := http.FileServerFS(FS())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}
